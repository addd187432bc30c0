// Every lowered op, through the CPU backend, checked against the eager kernels on the same inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { explain } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';

type Fn = (...args: k.Tensor[]) => k.Tensor;

function assertMatchesEager(fn: Fn, args: k.Tensor[], opts: { tol?: number; runWith?: k.Tensor[][] } = {}) {
  const { coreGraph } = traceOps(fn, args);
  const compiled = compileGraphForCpu(coreGraph);
  for (const inputs of [args, ...(opts.runWith ?? [])]) {
    const got = (compiled.run(inputs) as k.Tensor[])[0]!;
    const want = fn(...inputs);
    assert.equal(got.shape, want.shape, 'shape');
    assert.is(got.dtype, want.dtype, 'dtype');
    const a = got.toTypedArray();
    const b = want.toTypedArray();
    const tol = opts.tol ?? 1e-5;
    for (let i = 0; i < b.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `element ${i}: expected NaN, got ${x}`);
      else if (!Number.isFinite(y)) assert.is(x, y, `element ${i}`);
      else assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `element ${i}: ${x} vs ${y} (${fn.toString()})`);
    }
  }
  return compiled.report;
}

k.manualSeed(42);
const pos = (shape: number[]) => k.rand(shape).add(0.1);

const pointwise = suite('pointwise ops through the CPU backend');

const UNARY: [string, Fn, (s: number[]) => k.Tensor][] = [
  ['neg', (x) => x.neg(), k.randn], ['abs', (x) => x.abs(), k.randn], ['exp', (x) => x.exp(), k.randn],
  ['log', (x) => x.log(), pos], ['log1p', (x) => x.log1p(), pos], ['sqrt', (x) => x.sqrt(), pos],
  ['rsqrt', (x) => x.rsqrt(), pos], ['sin', (x) => x.sin(), k.randn], ['cos', (x) => x.cos(), k.randn],
  ['tanh', (x) => x.tanh(), k.randn], ['sigmoid', (x) => x.sigmoid(), k.randn], ['relu', (x) => x.relu(), k.randn],
  ['silu', (x) => x.silu(), k.randn], ['erf', (x) => x.erf(), k.randn], ['gelu', (x) => x.gelu(), k.randn],
  ['gelu tanh', (x) => x.gelu({ approximate: 'tanh' }), k.randn], ['floor', (x) => x.mul(3).floor(), k.randn],
  ['ceil', (x) => x.mul(3).ceil(), k.randn], ['round', (x) => x.mul(3).round(), k.randn],
  ['sign', (x) => x.sign(), k.randn], ['reciprocal', (x) => x.reciprocal(), pos],
];
for (const [name, fn, make] of UNARY) {
  pointwise(`${name} matches eager on odd sizes (SIMD tails) and a transposed input`, () => {
    assertMatchesEager(fn, [make([7, 13])]);
    assertMatchesEager((x) => fn(x.transpose(0, 1)), [make([5, 3])]);
  });
}

const BINARY: [string, Fn][] = [
  ['add', (a, b) => a.add(b)], ['add alpha', (a, b) => k.add(a, b, { alpha: 2.5 })], ['sub', (a, b) => a.sub(b)],
  ['mul', (a, b) => a.mul(b)], ['div', (a, b) => a.div(b)], ['maximum', (a, b) => a.maximum(b)],
  ['minimum', (a, b) => a.minimum(b)], ['pow', (a, b) => a.abs().add(0.5).pow(b)],
  ['eq', (a, b) => a.eq(b)], ['lt', (a, b) => a.lt(b)], ['ge', (a, b) => a.ge(b)],
  ['where', (a, b) => k.where(a.gt(b), a, b.mul(2))], ['clamp', (a) => a.clamp(-0.5, 0.5)],
  ['logicalAnd', (a, b) => a.gt(0).logicalAnd(b.gt(0))], ['logicalNot', (a) => a.gt(0).logicalNot()],
];
for (const [name, fn] of BINARY) {
  pointwise(`${name} with broadcasting and scalars matches eager`, () => {
    assertMatchesEager(fn, [k.randn([4, 1, 5]), k.randn([3, 1])]);
    assertMatchesEager(fn, [k.randn([6]), k.randn([6])]);
  });
}

pointwise('int32 arithmetic and mixed int/float promotion match eager', () => {
  assertMatchesEager((a, b) => a.add(b).mul(3).sub(1), [k.tensor([[1, 2, 3]]), k.tensor([[10], [20]])]);
  assertMatchesEager((a, b) => a.add(b), [k.tensor([1, 2, 3]), k.tensor([0.5, 1.5, 2.5])]);
  assertMatchesEager((a) => a.add(1.5), [k.tensor([1, 2, 3])]);
});

pointwise('NaN and infinities propagate as in eager', () => {
  assertMatchesEager((x) => x.exp().add(x.relu()).maximum(x), [k.tensor([NaN, Infinity, -Infinity, 0, -0, 1])]);
});

pointwise.run();

const views = suite('views and reductions through the CPU backend');

views('view chains read through strides without copies', () => {
  const report = assertMatchesEager(
    (x, y) => x.permute([2, 0, 1]).slice(1, 1, 4, 2).add(y.unsqueeze(0).expand([5, 2, 3])).select(2, -1),
    [k.randn([4, 3, 5]), k.randn([2, 3])],
  );
  assert.is(report.kernels, 1, 'one fused kernel');
});

views('reductions over every dim set, with keepdim, fuse their producers', () => {
  const x = k.randn([3, 4, 5]);
  for (const dim of [0, 1, 2, -1, [0, 2], null] as const) {
    for (const keepdim of [false, true]) {
      assertMatchesEager((t) => t.mul(2).exp().sum(dim as number, keepdim), [x], { tol: 1e-4 });
      assertMatchesEager((t) => t.amax(dim as number, keepdim).add(1), [x]);
      assertMatchesEager((t) => t.amin(dim as number, keepdim), [x]);
    }
  }
  assertMatchesEager((t) => t.argmax(1), [x]);
  assertMatchesEager((t) => t.argmin(-1, true), [x]);
  assertMatchesEager((t) => t.argmax(), [x]);
});

views('composites decompose and lower: softmax, logSoftmax, layerNorm, mean, var', () => {
  const x = k.randn([6, 10]);
  assertMatchesEager((t) => t.softmax(-1), [x]);
  assertMatchesEager((t) => t.logSoftmax(1), [x]);
  assertMatchesEager((t) => k.layerNorm(t, [10], k.ones([10]).mul(2), k.zeros([10]).add(0.5)), [x], { tol: 1e-4 });
  assertMatchesEager((t) => t.mean(0), [x]);
  assertMatchesEager((t) => t.var(1), [x], { tol: 1e-4 });
});

views('size-0 and size-1 dims', () => {
  assertMatchesEager((t) => t.add(1).sum(0), [k.randn([0, 3])]);
  assertMatchesEager((t) => t.mul(2), [k.randn([1, 1, 4])]);
});

views.run();

const matmul = suite('matmul through the CPU backend');

matmul('2-D, transposed operand, batched with broadcast, skinny', () => {
  assertMatchesEager((a, b) => a.matmul(b), [k.randn([17, 9]), k.randn([9, 5])], { tol: 1e-4 });
  assertMatchesEager((a, b) => a.matmul(b.transpose(0, 1)), [k.randn([4, 8]), k.randn([6, 8])], { tol: 1e-4 });
  assertMatchesEager((a, b) => a.matmul(b), [k.randn([2, 3, 4, 5]), k.randn([3, 5, 2])], { tol: 1e-4 });
  assertMatchesEager((a, b) => a.matmul(b), [k.randn([1, 64]), k.randn([64, 3])], { tol: 1e-4 });
});

matmul('linear with bias and activation', () => {
  const w = k.randn([8, 16]);
  const bias = k.randn([8]);
  assertMatchesEager((x) => k.linear(x, w, bias).relu(), [k.randn([5, 16])], { tol: 1e-4 });
});

matmul.run();

const symbolic = suite('symbolic sizes and fallbacks');

symbolic('one compiled program serves other sizes its symbols admit', () => {
  assertMatchesEager((x, y) => x.matmul(y).softmax(-1), [k.randn([4, 6]), k.randn([6, 3])], {
    tol: 1e-4,
    runWith: [[k.randn([9, 2]), k.randn([2, 7])], [k.randn([2, 33]), k.randn([33, 5])]],
  });
});

symbolic('ops without a lowering rule run eagerly per node, visibly', () => {
  const report = assertMatchesEager((x) => x.exp().cumsum(1, { dtype: 'int32' }).mul(2), [k.randn([3, 4])]);
  assert.equal(report.eagerSteps.map((f) => f.op), ['cumsum']);
  assert.ok(report.kernels >= 2);
});

symbolic('nonzero and item bind data-dependent sizes that later kernels and allocations use', () => {
  const fn = (x: k.Tensor, y: k.Tensor) => {
    const idx = x.nonzero().flatten();
    const picked = y.indexSelect(0, idx).mul(2);
    const n = x.sum().item() as number;
    return [picked, k.ones([n, 2]).add(1), picked.shape[0]] as unknown as k.Tensor;
  };
  const x0 = k.tensor([0, 1, 0, 1, 1]);
  const y0 = k.randn([5, 3]);
  const { coreGraph } = traceOps(fn, [x0, y0]);
  const compiled = compileGraphForCpu(coreGraph);
  assert.is(compiled.report.wholeGraphFallback, undefined);
  assert.match(compiled.report.code!, /nonzero\(…\) → u\d+ = shape\[0\]/);
  for (const x of [x0, k.tensor([1, 0, 0, 0, 0]), k.tensor([1, 1, 1, 1, 1]), k.tensor([0, 0, 0, 0, 0])]) {
    const y = k.randn([5, 3]);
    const [picked, ones, rows] = compiled.run([x, y]) as [k.Tensor, k.Tensor, number];
    const [wantPicked, wantOnes, wantRows] = fn(x, y) as unknown as [k.Tensor, k.Tensor, number];
    assert.equal(picked.toArray(), wantPicked.toArray());
    assert.equal(ones.toArray(), wantOnes.toArray());
    assert.is(rows, wantRows);
  }
});

symbolic.run();

const fusion = suite('fusion');

fusion('softmax, layerNorm and relu(x @ w + b) each become one kernel, and still match eager', () => {
  const w = k.randn([16, 8]);
  const bias = k.randn([8]);
  const x = k.randn([6, 16]);
  assert.is(assertMatchesEager((t) => t.softmax(-1), [x]).kernels, 1);
  assert.is(assertMatchesEager((t) => k.layerNorm(t, [16]), [x], { tol: 1e-4 }).kernels, 1);
  assert.is(assertMatchesEager((t) => t.matmul(w).add(bias).relu(), [x], { tol: 1e-4 }).kernels, 1);
});

fusion('a leading batch of 1 fuses the same way (size-1 axes do not keep kernels apart)', () => {
  const x = k.randn([1, 6, 16]);
  const w = k.randn([16, 8]);
  const bias = k.randn([8]);
  assert.is(assertMatchesEager((t) => t.softmax(-1), [x]).kernels, 1);
  assert.is(assertMatchesEager((t) => k.layerNorm(t, [16]), [x], { tol: 1e-4 }).kernels, 1);
  assert.is(assertMatchesEager((t) => t.matmul(w).add(bias).relu(), [x], { tol: 1e-4 }).kernels, 1);
  assert.is(assertMatchesEager((t) => k.layerNorm(t.transpose(0, 1), [16]), [k.randn([6, 1, 16])], { tol: 1e-4 }).kernels, 1);
});

fusion('explain splits the compile time into trace, passes, lowering and wasm', () => {
  const e = explain((t: k.Tensor) => t.softmax(-1).mul(2), { backend: 'cpu' })(k.randn([4, 8]));
  const phases = e.compilePhasesMs[0]!;
  assert.equal(Object.keys(phases), ['trace', 'passes', 'lower', 'wasm']);
  const sum = Object.values(phases).reduce((a, b) => a + b, 0);
  assert.ok(Object.values(phases).every((ms) => ms >= 0) && sum <= e.compileTimesMs[0]! + 0.01, JSON.stringify(phases));
  assert.match(String(e), /lower [\d.]+, wasm [\d.]+\)/);
});

fusion('a value read twice and used as an output is stored once, not recomputed into a wrong place', () => {
  const report = assertMatchesEager((t) => t.exp().add(t.exp().sum(-1, true)), [k.randn([3, 5])]);
  assert.ok(report.kernels >= 1);
  const { coreGraph } = traceOps((t: k.Tensor) => [t.mul(2), t.mul(2).sum()] as unknown as k.Tensor, [k.randn([4])]);
  const compiled = compileGraphForCpu(coreGraph);
  const both = compiled.run([k.tensor([1, 2, 3, 4], { dtype: 'float32' })]) as k.Tensor[];
  assert.equal(both[0]!.toArray(), [2, 4, 6, 8]);
  assert.equal(both[1]!.toArray(), 20);
  // A program never reinterprets bytes: an input of another dtype or rank is refused, not misread.
  assert.throws(() => compiled.run([k.tensor([1, 2, 3, 4])]), /input 0.*float32.*int32/);
  assert.throws(() => compiled.run([k.ones([2, 2])]), /input 0.*rank 1/);
});

fusion.run();

const plugin = suite('the CPU backend as a plugin');

plugin('a compiler with the plugin compiles on cpu through its hooks, and explain shows the kernels', async () => {
  const { Compiler, compileWith, CompileRecorder } = await import('@kiln/core');
  const { cpuBackendPlugin } = await import('@kiln/backend-cpu');
  const compiler = new Compiler({ ...new Compiler().config, backend: 'cpu' }).use(cpuBackendPlugin);
  const recorder = new CompileRecorder();
  const fn = (x: k.Tensor) => x.softmax(-1).mul(2);
  const fast = compileWith(fn, { compiler }, recorder);
  const x = k.randn([4, 6]);
  const got = fast(x) as k.Tensor;
  const want = fn(x);
  assert.equal(got.shape, want.shape);
  got.toTypedArray().forEach((v, i) => assert.ok(Math.abs(v - want.toTypedArray()[i]!) < 1e-6));
  const report = recorder.report(got);
  assert.is(report.backends[0]!.backend, 'cpu');
  assert.is(report.backends[0]!.kernels, 1);
});

plugin.run();

const more = suite('ops the code generator gained');

more('remainder (sign of the divisor), log1p on tiny values, int32 abs and sign match eager', () => {
  assertMatchesEager((a, b) => a.remainder(b), [k.tensor([5.5, -5.5, 5.5, -5.5, 0, 7]), k.tensor([2, 2, -2, -2, 3, -3])]);
  assertMatchesEager((a) => a.log1p(), [k.tensor([1e-8, 1e-5, 0.5, 3, 0])]);
  assertMatchesEager((a) => a.abs().add(a.sign()), [k.tensor([-3, 0, 4, -2147483647])]);
});

more.run();

const positions = suite('position-dependent ops (loop index values)');

positions('tril, triu (with diagonals), arange and eye fuse and match eager', () => {
  const x = k.randn([2, 5, 7]);
  for (const d of [-2, 0, 3]) {
    assertMatchesEager((t) => t.tril(d).mul(2), [x]);
    assertMatchesEager((t) => t.exp().triu(d), [x]);
  }
  assertMatchesEager((t) => t.add(k.arange(7)), [x]);
  assertMatchesEager((t) => t.add(k.arange(1.5, 8.5, 1)), [x]);
  assertMatchesEager((t) => t.matmul(k.eye(7)).add(k.eye(5, 7)), [x], { tol: 1e-5 });
  assert.is(assertMatchesEager((t) => t.tril().add(1), [k.randn([4, 4])]).eagerSteps.length, 0);
});

positions.run();

const chains = suite('reduction chains that fuse across outputs');

chains('a reduction that is also an output, read by a later reduction and by its epilogue', () => {
  const fn = (x: k.Tensor) => {
    const m = x.amax(-1, true);
    const e = x.sub(m).exp();
    const s = e.sum(-1, true);
    return [e.div(s), m.mul(3), s.add(m)] as unknown as k.Tensor;
  };
  const x = k.randn([5, 9]);
  const { coreGraph } = traceOps(fn, [x]);
  const compiled = compileGraphForCpu(coreGraph);
  for (const input of [x, k.randn([3, 4])]) {
    const got = compiled.run([input]) as k.Tensor[];
    const want = fn(input) as unknown as k.Tensor[];
    want.forEach((w, i) => {
      assert.equal(got[i]!.shape, w.shape);
      w.toTypedArray().forEach((v, j) => assert.ok(Math.abs(got[i]!.toTypedArray()[j]! - v) < 1e-5, `output ${i}[${j}]`));
    });
  }
});

chains.run();

const conversions = suite('to(dtype)');

conversions('exact conversions fuse; the rest run eagerly and still match', () => {
  const ints = k.tensor([[1, -2, 3], [16777217, 0, -7]]);
  assert.is(assertMatchesEager((t) => t.to('float32').mul(0.5), [ints]).eagerSteps.length, 0);
  assert.is(assertMatchesEager((t) => t.gt(0).to('float32').add(1), [k.randn([3, 4])]).eagerSteps.length, 0);
  assert.is(assertMatchesEager((t) => t.to('int32').add(1), [k.tensor([1.5, -2.5, 3.9])]).eagerSteps[0]!.op, 'to');
});

conversions.run();
