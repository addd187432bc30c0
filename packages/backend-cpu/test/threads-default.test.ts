// Threads by default: the CPU backend's own arena splits large kernels between one thread per core (this
// machine's count, set by configureThreads / KILN_THREADS), keeps small ones on the calling thread, gives
// eager's results, and never keeps a process alive.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as k from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { MAX_DEFAULT_THREADS, THREADING_MIN_ELEMENTS, compileGraphForCpu, configureThreads, cpuArena, threadCount } from '@kiln/backend-cpu';

const cores = availableParallelism();
const Default = suite('threads by default');

const softmaxRows = (x: k.Tensor) => x.softmax(-1);
// split every large call while these tests run (by default a kernel splits where that measured faster)
const adaptive = cpuArena().threads?.adaptive;
Default.before(() => void (cpuArena().threads && (cpuArena().threads!.adaptive = false)));
Default.after(() => void (cpuArena().threads && (cpuArena().threads!.adaptive = adaptive!)));

Default(`one thread per core (${cores} here, at most ${MAX_DEFAULT_THREADS}) unless KILN_THREADS says otherwise`, () => {
  const want = process.env.KILN_THREADS ? Number(process.env.KILN_THREADS) : Math.min(cores, MAX_DEFAULT_THREADS);
  assert.is(threadCount(), want);
  assert.is(cpuArena().threads?.threads ?? 1, want);
});

Default('a compiled call whose last call split a kernel prewakes the workers as it starts; one that did not, not', async () => {
  if (threadCount() < 2) return console.log('  (skipped: one thread on this machine or KILN_THREADS=1; nothing to split)');
  const x = k.randn([1024, 1024]);
  const small = k.randn([4, 4]);
  const large = compileGraphForCpu(traceOps(softmaxRows, [x], { dynamic: true }).coreGraph);
  const tiny = compileGraphForCpu(traceOps(softmaxRows, [small], { dynamic: true }).coreGraph);
  const pool = cpuArena().threads!;
  const prewake = pool.prewake;
  let prewakes = 0;
  pool.prewake = () => void prewakes++;
  try {
    large.run([x]); // the first call: nothing split before it
    assert.is(prewakes, 0, 'no prewake before the first call');
    large.run([x]);
    assert.is(prewakes, 1, 'the second call prewakes (the first split)');
    tiny.run([small]);
    tiny.run([small]);
    assert.is(prewakes, 1, 'a program whose kernels stay on the caller never prewakes');
  } finally {
    pool.prewake = prewake;
  }
});

Default('a large compiled softmax runs on every thread and equals eager; a small one stays on the caller', async () => {
  if (threadCount() < 2) return console.log('  (skipped: one thread on this machine or KILN_THREADS=1; nothing to split)');
  const x = k.randn([1024, 1024]);
  const program = compileGraphForCpu(traceOps(softmaxRows, [x], { dynamic: true }).coreGraph);
  const pool = cpuArena().threads!;
  program.run([x]); // starts the workers
  for (let i = 0; i < 500 && pool.ready < pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 10));
  const before = program.runner!.stats.threadedKernelCalls;
  const offered = pool.stats.offered;
  const got = (program.run([x]) as k.Tensor[])[0]!;
  assert.is(program.runner!.stats.threadedKernelCalls - before, 1, 'the softmax kernel was split');
  assert.is(pool.stats.offered - offered, pool.threads - 1, 'every worker was offered chunks');
  const want = softmaxRows(x);
  const diff = got.sub(want).abs().max().item() as number;
  assert.ok(diff <= 1e-6, `max |compiled - eager| = ${diff}`);
  const small = k.randn([4, THREADING_MIN_ELEMENTS / 8]);
  const calls = program.runner!.stats.threadedKernelCalls;
  program.run([small]);
  assert.is(program.runner!.stats.threadedKernelCalls, calls, 'a 4-row softmax stays on the calling thread');
});

Default('configureThreads({ threads: 1 }) keeps every kernel on the calling thread; {} restores the default', () => {
  if (threadCount() < 2) return console.log('  (skipped: one thread on this machine or KILN_THREADS=1)');
  const x = k.randn([1 << 20]);
  const program = compileGraphForCpu(traceOps((a: k.Tensor) => a.mul(a).add(1).sqrt(), [x]).coreGraph);
  const dflt = threadCount();
  try {
    assert.equal(configureThreads({ threads: 1 }), { threads: 1 });
    program.run([x]);
    assert.is(program.runner!.stats.threadedKernelCalls, 0);
  } finally {
    assert.equal(configureThreads({}), { threads: dflt });
  }
  program.run([x]);
  assert.is(program.runner!.stats.threadedKernelCalls, 1, 'split again after the reset');
});

Default('a bad thread count is a KilnError that names the setting', () => {
  for (const bad of [0, -1, 1.5, NaN, '2', 1000]) {
    assert.throws(() => configureThreads({ threads: bad as number }), (e: unknown) => e instanceof KilnError && /threads must be a whole number/.test((e as Error).message), String(bad));
  }
  assert.throws(() => configureThreads({ thread: 2 } as never), (e: unknown) => e instanceof KilnError && /unknown setting 'thread'/.test((e as Error).message));
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', '-e', "import('@kiln/backend-cpu').then((m) => m.threadCount())"], {
    encoding: 'utf8', env: { ...process.env, KILN_THREADS: 'many' }, cwd: import.meta.dirname, timeout: 60_000,
  });
  assert.match(r.stderr, /KILN_THREADS="many" must be a whole number/);
});

Default('a process that ran a large kernel on the pool exits by itself', () => {
  if (threadCount() < 2) return console.log('  (skipped: one thread on this machine or KILN_THREADS=1; no pool)');
  const child = join(import.meta.dirname, 'support/threads-exit.ts');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', child], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.signal, null, `the child did not exit by itself within 120 s (${Date.now() - t0} ms): ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; workers: number; chunksByWorkers: number; threaded: number; same: boolean };
  assert.ok(seen.workers >= 1 && seen.threaded >= 1 && seen.chunksByWorkers >= 1, `a worker ran chunks: ${r.stdout}`);
  assert.ok(seen.same, 'threaded result equals eager bit for bit');
});

Default.run();
