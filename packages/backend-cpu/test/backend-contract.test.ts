// The backend contract through the compiler's hooks: a node a backend declines (the per-op lowering hook,
// its capabilities, or a kernel its code generator cannot emit) runs on its eager kernel as one step of the
// program while the rest stays fused; `auto` picks the available backend with the highest priority; explain
// names the backends and, per program, the backend and the eager steps with their reasons.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { BackendUnavailableError, Compiler, compile, explain } from '@kiln/core';
import type { Backend, BackendCapabilities } from '@kiln/lower';
import { cpuBackend, compileGraphForCpu } from '@kiln/backend-cpu';

const contract = suite('backend contract');

k.manualSeed(7);
const x = k.randn([6, 8]);
const w = k.randn([8, 5]);

function assertSameTensors(got: unknown, want: unknown, tol = 1e-5): void {
  const gs = (Array.isArray(got) ? got : [got]) as k.Tensor[];
  const ws = (Array.isArray(want) ? want : [want]) as k.Tensor[];
  assert.is(gs.length, ws.length);
  gs.forEach((g, i) => {
    const e = ws[i]!;
    assert.equal(g.shape, e.shape, 'shape');
    assert.is(g.dtype, e.dtype, 'dtype');
    const a = g.toTypedArray();
    const b = e.toTypedArray();
    for (let j = 0; j < b.length; j++) assert.ok(Math.abs(Number(a[j]) - Number(b[j])) <= tol * Math.max(1, Math.abs(Number(b[j]))), `element ${j}: ${a[j]} vs ${b[j]}`);
  });
}

/** A third-party backend: the CPU code generator under another name, priority and capabilities. */
function variant(name: string, priority: number, capabilities: Partial<BackendCapabilities>, init?: Backend['init']): Backend {
  const caps = { ...cpuBackend.capabilities, ...capabilities };
  const compileFor: Backend['compile'] = (graph, ctx) => {
    const compiled = compileGraphForCpu(graph, ctx);
    return { run: compiled.run, report: { ...compiled.report, backend: name } };
  };
  return { name, priority, capabilities: caps, ...(init ? { init } : {}), compile: compileFor };
}

contract('the lowerOp hook sends one node to eager; the rest of the program stays fused', () => {
  const compiler = new Compiler();
  compiler.hooks.lowerOp.for('cpu').tap('decline-tanh', (node) => (node.target === 'tanh' ? 'eager' : undefined));
  const fn = (a: k.Tensor, b: k.Tensor) => a.matmul(b).add(1).tanh().mul(2).relu().softmax(-1);
  const report = explain(fn, { compiler, backend: 'cpu' })(x, w);
  assertSameTensors(report.result, fn(x, w));
  const program = report.backends[0]!;
  assert.is(program.backend, 'cpu');
  assert.equal(program.eagerSteps.map((s) => s.op), ['tanh']);
  assert.match(program.eagerSteps[0]!.reason, /lowerOp hook/);
  // matmul with its `add` epilogue before tanh, the softmax after it: still fused kernels, not the interpreter.
  assert.is(program.wholeGraphFallback, undefined);
  assert.ok(program.kernels >= 2, `kernels: ${program.kernels}`);
  assert.ok((program.fusions?.['epilogue-into-matmul'] ?? 0) >= 1, JSON.stringify(program.fusions));
  assert.match(String(report), /eager step: %\w+ = tanh \(the lowerOp hook/);
  assert.match(String(report), /compiled by backend cpu/);
  // Without the tap, the same function has no eager step.
  const plain = explain(fn, { compiler: new Compiler(), backend: 'cpu' })(x, w).backends[0]!;
  assert.equal(plain.eagerSteps, []);
  assertSameTensors(compile(fn, { compiler, backend: 'cpu' })(x, w), fn(x, w));
});

contract('capabilities: a backend without int32 runs the int32 nodes eagerly, the float32 ones fused', () => {
  const compiler = new Compiler();
  const noInt = variant('no-int32', 5, { dtypes: ['float32', 'bool'] });
  compiler.hooks.backends.tap('no-int32', (list) => [...list, noInt]);
  const fn = (a: k.Tensor) => a.argmax(-1).add(1).to('float32').add(a.exp().sum(-1));
  const report = explain(fn, { compiler, backend: 'no-int32' })(x);
  assertSameTensors(report.result, fn(x));
  const steps = report.backends[0]!.eagerSteps;
  assert.ok(steps.some((s) => s.op === 'argmax' && /does not compute int32/.test(s.reason)), JSON.stringify(steps));
  assert.ok(!steps.some((s) => s.op === 'exp' || s.op === 'sum'), JSON.stringify(steps));
  assert.ok(report.backends[0]!.kernels >= 1);
});

contract('a kernel the code generator cannot emit: its nodes become eager steps, never the whole graph', () => {
  // Claims float64, which the wasm code generator rejects: lowering emits float64 kernels, codegen fails on
  // them, and only their nodes go to eager.
  const compiler = new Compiler();
  const claims64 = variant('claims-f64', 5, { dtypes: ['float32', 'int32', 'bool', 'float64'], float64: true });
  compiler.hooks.backends.tap('claims-f64', (list) => [...list, claims64]);
  const y = k.randn([6, 8]).to('float64');
  const fn = (a: k.Tensor, b: k.Tensor) => [a.exp().mul(2).sum(-1), b.mul(3).add(1)];
  const report = explain(fn, { compiler, backend: 'claims-f64' })(x, y);
  assertSameTensors(report.result, fn(x, y), 1e-6);
  const program = report.backends[0]!;
  assert.is(program.wholeGraphFallback, undefined);
  assert.equal(program.eagerSteps.map((s) => s.op).sort(), ['add', 'mul']);
  assert.ok(program.eagerSteps.every((s) => /cannot emit its kernel/.test(s.reason)), JSON.stringify(program.eagerSteps));
  assert.ok(program.kernels >= 1, 'the float32 part still compiles');
  // The CPU backend itself declares no float64: the same nodes are eager for a capability reason.
  const cpu = explain(fn, { compiler: new Compiler(), backend: 'cpu' })(x, y).backends[0]!;
  assert.ok(cpu.eagerSteps.every((s) => /does not compute float64/.test(s.reason)), JSON.stringify(cpu.eagerSteps));
});

contract('auto picks the available backend with the highest priority; explain lists them all', () => {
  const compiler = new Compiler();
  const best = variant('best', 500, {});
  const broken = variant('broken', 900, {}, () => ({ available: false, reason: 'no adapter found' }));
  compiler.hooks.backends.tap('test', (list) => [...list, best, broken]);
  const fn = (a: k.Tensor) => a.exp().add(1);
  const report = explain(fn, { compiler })(x);
  assert.is(report.backends[0]!.backend, 'best');
  assertSameTensors(report.result, fn(x));
  const text = String(report);
  assert.match(text, /broken \(priority 900, cpu\): unavailable: no adapter found/);
  assert.match(text, /best \(priority 500, cpu\): available/);
  assert.match(text, /eager \(priority 0, cpu\): available/);
  // Naming an unavailable backend raises with its reason.
  assert.throws(() => compile(fn, { compiler, backend: 'broken' })(x), (err: Error) => err instanceof BackendUnavailableError && /no adapter found/.test(err.message));
});

contract('an asynchronous init: unavailable to auto until it answers, then chosen', async () => {
  const compiler = new Compiler();
  let answer!: (a: { available: true }) => void;
  const slow = variant('slow-device', 800, {}, () => new Promise((resolve) => (answer = resolve)));
  compiler.hooks.backends.tap('slow', (list) => [...list, slow]);
  const fn = (a: k.Tensor) => a.mul(3);
  assert.is(explain(fn, { compiler })(x).backends[0]!.backend, 'cpu');
  assert.throws(() => compile((a: k.Tensor) => a.mul(4), { compiler, backend: 'slow-device' })(x), /still initializing/);
  const ready = compiler.ready();
  answer({ available: true });
  await ready;
  const g = (a: k.Tensor) => a.mul(5);
  assert.is(explain(g, { compiler })(x).backends[0]!.backend, 'slow-device');
});

contract.run();
