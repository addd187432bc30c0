// Kiln's CPU kernels on one thread against the default thread count (one per core: what the CPU backend
// uses unless told otherwise), on the workloads of issue #17: hypot 16M, softmax rows 1024², matmul 1024, and
// matmul 256 (the compiled bench's small one).
// Inputs are resident in each arena; the kernel alone, then the kernel with its result read back into a JS
// array as a compiled call's read does (the read is one thread either way). The default (a kernel splits its large calls where that
// measured faster: runtime/split-choice.ts) and n threads splitting every large call are each timed in
// interleaved rounds with one thread (one-thread call, n-thread call, …: a pool's calls are one one-thread
// call apart, about what separates the large kernels of a model); ratio = one-thread time / n-thread time
// (> 1: threads are faster). The CPU columns say what the split costs in CPU: process CPU (every thread) per
// pair of calls against their wall time, and how often an offer found the worker asleep (each such wake-up
// costs the caller ≈ 12–27 µs in Atomics.notify here, and the worker starts 30–45 µs later). "others" is
// the CPU other processes took meanwhile, in cores (bench/other-load.ts): on 2 cores, 1.0 there leaves the
// second thread no core of its own. KILN_BENCH_QUIET=<seconds> waits up to that long for a quiet second
// before each row (a shared machine's quiet moments are short; the column says what each row got).
// Run: node scripts/bench.mjs threads
import { type Kernel, type MatmulKernel, type PointwiseKernel, loop } from '@kiln/lower';
import { Arena, compileKernels, threadCount, type SplitTraceSummary } from '@kiln/backend-cpu';
import { copyElements } from '@kiln/tensor';
import { machineLine } from './machine.js';
import { CPU_CLOCK, interleavedStats } from './peer-timing.js';
import { awaitQuietSecond, formatLoad, otherLoadMeter } from './other-load.js';

const { acc, add, contiguous, div, load, mul, sub, unary } = loop;
const f32 = 'float32' as const;

const hypot = (n: number): PointwiseKernel => {
  const v = (name: string) => load(name, contiguous([n]));
  return {
    kind: 'pointwise', name: 'hypot', params: [], inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }],
    outputs: [{ name: 'out', dtype: f32 }], sizes: [n], stores: [{ buffer: 'out', access: contiguous([n]), value: unary('sqrt', add(mul(v('a'), v('a')), mul(v('b'), v('b')))) }],
  };
};

const softmax = (rows: number, cols: number): Kernel => {
  const x = load('x', contiguous([rows, cols]));
  const e = unary('exp', sub(x, acc(0)));
  return {
    kind: 'reduction', name: 'softmax', params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'out', dtype: f32 }],
    outer: [rows], reduce: [cols], stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }],
    stores: [{ buffer: 'out', scope: 'full', access: contiguous([rows, cols]), value: div(e, acc(1)) }],
  };
};

const matmul = (n: number): MatmulKernel => ({
  kind: 'extern', op: 'matmul', name: 'mm', params: [], inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }],
  outputs: [{ name: 'out', dtype: f32 }], batch: [], m: n, n, k: n,
  a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: n, colStride: 1 },
  b: { buffer: 'b', offset: 0, batchStrides: [], rowStride: n, colStride: 1 },
  out: 'out',
});

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** The kernel bound to resident inputs in `arena`: `run` calls it, `read` also copies the result out. */
function resident(kernel: Kernel, inputs: Record<string, Float32Array>, outNumel: number, arena: Arena) {
  const call = compileKernels([kernel], arena).kernels.get(kernel.name)!.call;
  const ptrs: Record<string, number> = {};
  for (const [name, data] of Object.entries(inputs)) {
    ptrs[name] = arena.alloc(data.byteLength);
    (arena.view(f32, ptrs[name]!, data.length) as Float32Array).set(data);
  }
  ptrs.out = arena.alloc(outNumel * 4);
  const out = () => arena.view(f32, ptrs.out!, outNumel) as Float32Array;
  // the read as a compiled call's toTypedArray() makes it: copyElements (a copy that does not zero-fill first)
  return { run: () => call(ptrs), read: () => (call(ptrs), copyElements(out())), out };
}

/** A trace's medians in a line: the hand-off, who ran how much at what speed, and the join. */
function describeTrace(t: SplitTraceSummary): string {
  const slower = 100 * (t.workerNsPerUnit / t.callerNsPerUnit - 1);
  return `${t.taken} of ${t.calls} calls taken up by the worker (${t.wokeWorker} woke it); offer ${t.offer.toFixed(1)} µs after the call's start, ` +
    `the caller in Atomics.notify ${t.notify.toFixed(1)} µs, the worker's first chunk ${t.workerStart.toFixed(1)} µs after the offer; chunks caller ${t.callerChunks} / worker ${t.workerChunks}, ` +
    `${t.callerNsPerUnit.toFixed(1)} / ${t.workerNsPerUnit.toFixed(1)} ns per unit of the split axis (worker ${slower >= 0 ? `${slower.toFixed(0)} % slower` : `${(-slower).toFixed(0)} % faster`}); ` +
    `caller's wait at the join ${t.joinWait.toFixed(1)} µs; call ${(t.call / 1000).toFixed(3)} ms`;
}

async function main() {
  // What Kiln's default warmHeap does at a compiled program's first large output (backend-cpu README, "What a
  // read costs"): a block just under glibc's 32 MiB mmap ceiling, dropped at once, raises its trim threshold,
  // so the "+ read" columns' fresh 4–64 MB arrays reuse mapped pages instead of faulting them in at ≈ 12 µs a
  // page (these kernels are called directly, not through a compiled program, so nothing else does it here).
  void new ArrayBuffer(32 * 2 ** 20 - 8192);
  const threads = threadCount();
  const one = new Arena(1 << 20);
  const many = threads > 1 ? new Arena(1 << 20, { threads }) : one;
  // the same count, splitting every large call (the default splits where that measured faster)
  const forced = threads > 1 ? new Arena(1 << 20, { threads }) : one;
  if (forced.threads) forced.threads.adaptive = false;
  const M16 = 1 << 24, S = 1024;
  const workloads: { name: string; kernel: Kernel; inputs: Record<string, Float32Array>; out: number; flops?: number }[] = [
    { name: 'hypot 16M', kernel: hypot(M16), inputs: { a: rand(M16), b: rand(M16) }, out: M16 },
    { name: 'softmax rows 1024²', kernel: softmax(S, S), inputs: { x: rand(S * S) }, out: S * S },
    { name: 'matmul 1024', kernel: matmul(S), inputs: { a: rand(S * S), b: rand(S * S) }, out: S * S, flops: 2 * S ** 3 },
    // the compiled bench's small matmul: ≈ 0.7 ms on one thread, where a split's hand-off is a larger share
    { name: 'matmul 256', kernel: matmul(256), inputs: { a: rand(256 * 256), b: rand(256 * 256) }, out: 256 * 256, flops: 2 * 256 ** 3 },
  ];
  const pairs = workloads.map((w) => ({
    w, one: resident(w.kernel, w.inputs, w.out, one), many: resident(w.kernel, w.inputs, w.out, many), forced: resident(w.kernel, w.inputs, w.out, forced),
  }));
  // the first split call starts the workers; they boot in the background
  for (const p of pairs) (p.many.run(), p.forced.run());
  const pool = many.threads;
  for (let i = 0; pool && i < 500 && (pool.ready < threads - 1 || forced.threads!.ready < threads - 1); i++) await new Promise((r) => setTimeout(r, 10));

  console.log(`${machineLine()}; clock: ${CPU_CLOCK ? 'process CPU time (all threads: use wall time here)' : 'wall'}`);
  console.log(`default threads here: ${threads} (KILN_THREADS / configureThreads change it); workers ready: ${pool?.ready ?? 0}`);
  console.log('median ms [p25–p75]; each n-thread column timed in interleaved rounds with one thread (the 1-thread column: the default\'s rounds); ratio = 1-thread time / n-thread time, > 1: threads faster\n');
  const fmt = (s: { median: number; p25: number; p75: number }) => `${s.median.toFixed(2)} [${s.p25.toFixed(2)}–${s.p75.toFixed(2)}]`;
  const rows = [['workload', '1 thread', `${threads} threads (default)`, 'ratio', `${threads} threads, always split`, 'ratio', 'always split: CPU / wall, wakes', '1 thread + read', `${threads} threads + read`, 'ratio + read', 'same bits', 'others (cores): default, always split']];
  const breakdowns: string[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (const { w, one: a, many: b, forced: c } of pairs) {
    const waited = await awaitQuietSecond();
    if (waited) console.log(`${w.name}: ${waited.quiet ? 'a quiet second' : 'no quiet second'} after ${waited.waitedS.toFixed(0)} s`);
    const meterDefault = otherLoadMeter();
    const [t1, tn] = interleavedStats([a.run, b.run], 7, 4000);
    const loadDefault = meterDefault();
    const meterForced = otherLoadMeter();
    const fp = forced.threads, wakes0 = fp?.workerWakes ?? 0, naps0 = fp?.workerNaps ?? 0, calls0 = fp?.stats.splitCalls ?? 0;
    const [t1f, tf] = interleavedStats([a.run, c.run], 7, 4000);
    const loadForced = meterForced();
    const share = (n: number) => (100 * n / Math.max(1, fp!.stats.splitCalls - calls0)).toFixed(0);
    const wakes = fp ? `${share(fp.workerWakes - wakes0)} % of offers woke the worker, ${share(fp.workerNaps - naps0)} % found it napping` : '–';
    // what a pair of calls (one thread, then always split) costs in process CPU against wall time
    const pairsTimed = Math.max(3, Math.min(50, Math.round(300 / (t1!.median + tf!.median))));
    const c0 = cpu(), w0 = performance.now();
    for (let i = 0; i < pairsTimed; i++) (a.run(), c.run());
    const cpuShare = `${((cpu() - c0) / pairsTimed).toFixed(2)} / ${((performance.now() - w0) / pairsTimed).toFixed(2)} ms, ${wakes}`;
    // the same pairs again, traced: where an always-split call's time goes (runtime/split-trace.ts)
    fp?.startTrace();
    for (let i = 0; i < pairsTimed; i++) (a.run(), c.run());
    const traced = fp?.stopTrace();
    if (traced) breakdowns.push(`${w.name}: ${describeTrace(traced)}`);
    const [r1, rn] = interleavedStats([a.read, b.read], 7, 6000);
    a.run();
    b.run();
    c.run();
    const same = a.out().every((v, i) => Object.is(v, b.out()[i]) && Object.is(v, c.out()[i]));
    const gf = (ms: number) => (w.flops ? ` (${(w.flops / ms / 1e6).toFixed(1)} GFLOP/s)` : '');
    rows.push([w.name, fmt(t1!) + gf(t1!.median), fmt(tn!) + gf(tn!.median), `${(t1!.median / tn!.median).toFixed(2)}×`, fmt(tf!) + gf(tf!.median), `${(t1f!.median / tf!.median).toFixed(2)}×`, cpuShare, fmt(r1!), fmt(rn!), `${(r1!.median / rn!.median).toFixed(2)}×`, same ? 'yes' : 'NO', `${formatLoad(loadDefault)}, ${formatLoad(loadForced)}`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log('| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |');
  if (breakdowns.length) console.log(`\nwhere an always-split call's time goes (the CPU column's pairs again, traced; medians per call a worker took part in):\n${breakdowns.map((b) => `- ${b}`).join('\n')}`);
  const st = forced.threads?.stats;
  console.log(`\nalways split: split calls: ${st?.splitCalls ?? 0}; offers to workers: ${st?.offered ?? 0}, taken up: ${st?.taken ?? 0} (the rest withdrawn: the caller had run every chunk first); chunks run by workers: ${st?.chunksByWorkers ?? 0}`);
}

await main();
