// The kernel profiler: per compiled program (calls, time) and per step (fused kernels with the ops they
// compute, eager steps), results unchanged, a backend without step times said so, options checked, and the
// table printed at exit by a program that loads the plugin from its kiln.config.mjs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import '@kiln/backend-cpu';
import { Compiler, KilnConfigError, compile } from '@kiln/core';
import { profilePlugin } from '../src/index.js';

const W = k.randn([16, 8]);
/** matmul + relu fuse into one kernel; the float64 part runs as eager steps on the CPU backend. */
const step = (x: Tensor) => x.matmul(W).relu().to('float64').mul(2).to('float32').sum(-1);

const Profile = suite('plugin-profile');

Profile('per program and per step: calls, time, the ops of each fused kernel, eager steps', () => {
  const profiler = profilePlugin({ printOnExit: false });
  const compiler = new Compiler().use(profiler);
  const f = compile(step, { compiler });
  const x = k.randn([4, 16]);
  for (let i = 0; i < 5; i++) {
    const [got, want] = [(f(x) as Tensor).toTypedArray(), step(x).toTypedArray()];
    assert.is(got.length, want.length);
    got.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) <= 1e-4 * Math.max(1, Math.abs(want[j]!)), `[${j}] ${v} vs eager ${want[j]}`));
  }
  const [program, ...others] = profiler.programs();
  assert.is(others.length, 0);
  assert.match(program!.label, /^\[\d+\/0\] step \(profile\.test\.ts:\d+\)$/);
  assert.is(program!.backend, 'cpu');
  assert.is(program!.calls, 5);
  assert.ok(program!.ms > 0);
  const kernel = program!.steps.find((s) => s.kind === 'kernel' && s.ops.includes('matmul'));
  assert.ok(kernel, JSON.stringify(program!.steps));
  assert.ok(kernel!.ops.includes('relu'), `relu fused into the matmul kernel: ${kernel!.ops.join(', ')}`);
  const eager = program!.steps.filter((s) => s.kind === 'eager').map((s) => s.ops[0]);
  assert.ok(eager.includes('to') && eager.includes('mul'), eager.join(', '));
  assert.ok(program!.steps.every((s) => s.calls === 5));
  const stepMs = program!.steps.reduce((s, x) => s + x.ms, 0);
  assert.ok(stepMs <= program!.ms, `steps ${stepMs} ms within the program's ${program!.ms} ms`);
  const table = profiler.format();
  assert.match(table, /^Kiln profile: 1 compiled program ran 5 times, [\d.]+ ms in compiled code\n/);
  assert.match(table, /\n {2}step +kind +calls +total ms +mean ms +share +ops\n/);
  assert.match(table, /\n {2}%\d+ to +eager +5 /);
});

Profile('a backend that does not time steps: program times only, and the table says why', () => {
  const profiler = profilePlugin({ printOnExit: false });
  const compiler = new Compiler().use(profiler);
  const f = compile((x: Tensor) => x.exp(), { compiler, backend: 'eager' });
  f(k.randn([3]));
  const [program] = profiler.programs();
  assert.is(program!.calls, 1);
  assert.equal(program!.steps, []);
  assert.match(profiler.format(), '(no per-step times: the eager backend does not time steps)');
});

Profile('options are checked: unknown keys and wrong types name the option', () => {
  assert.throws(() => profilePlugin({ top: 3 } as never), (e: unknown) => e instanceof KilnConfigError && /top: unknown option/.test(e.message));
  assert.throws(() => profilePlugin({ topSteps: 0 }), (e: unknown) => e instanceof KilnConfigError && /topSteps: must be a positive integer/.test(e.message));
});

/** Runs the fixture program (its kiln.config.mjs loads the profiler) in a child process. */
function runFixture(...args: string[]) {
  const program = fileURLToPath(new URL('./fixtures/program/program.mjs', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return spawnSync(process.execPath, ['--conditions=kiln-source', '--import', tsx, program, ...args], { encoding: 'utf8', timeout: 240_000 });
}

Profile('loaded from kiln.config.mjs: the table is printed when the program exits', () => {
  const run = runFixture();
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /Kiln profile: 1 compiled program ran 20 times/);
  assert.match(run.stderr, /\[\d+\/0\] anonymous \(program\.mjs:\d+\) +cpu +20 /);
  assert.match(run.stderr, /\n {2}matmul0 +kernel +20 +[\d.]+ +[\d.]+ +[\d.]+% +matmul/);
  assert.match(run.stderr, /\n {2}reduce\d +kernel +20 .*amax.*exp/);
});

Profile('a long run stopped with Ctrl-C prints the table, then ends by SIGINT as it would have', () => {
  const run = runFixture('--stopped-by-ctrl-c');
  assert.is(run.signal, 'SIGINT', `status ${run.status}: ${run.stderr}`);
  assert.match(run.stderr, /Kiln profile: 1 compiled program ran 20 times/);
});

Profile.run();
