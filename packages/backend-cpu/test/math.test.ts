// The transcendental library against float64 Math: ~1e-6 relative over wide ranges, and the special
// values users notice (NaN in → NaN out, infinities, zeros, subnormals).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile, explain } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { type PointwiseKernel, type UnaryOp, loop } from '@kiln/lower';
import { compileGraphForCpu, compileKernels } from '@kiln/backend-cpu';
import { assertClose, random, runBoth, sharedArena } from './helpers.js';

const { binary, contiguous, load, unary } = loop;

const Math_ = suite('math functions');

function unaryKernel(op: UnaryOp, n: number): PointwiseKernel {
  return {
    kind: 'pointwise', name: `m_${op}`, params: [], inputs: [{ name: 'x', dtype: 'float32' }],
    outputs: [{ name: 'out', dtype: 'float32' }], sizes: [n],
    stores: [{ buffer: 'out', access: contiguous([n]), value: unary(op, load('x', contiguous([n]))) }],
  };
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-30, 1, -1, 88.7, -88.7, 100, -104, 3.9, 1e4];

const RANGES: [UnaryOp, number, number, number, number][] = [
  // op, lo, hi, rtol, atol
  ['exp', -87, 88, 2e-6, 0],
  ['log', 1e-30, 1e30, 2e-6, 1e-7],
  ['tanh', -10, 10, 2e-6, 1e-7],
  ['sigmoid', -20, 20, 3e-6, 1e-8],
  ['erf', -5, 5, 2e-6, 1e-7],
  ['sin', -100, 100, 1e-5, 2e-7],
  ['cos', -100, 100, 1e-5, 2e-7],
  ['log1p', -0.999, 1e6, 2e-6, 0],
  ['expm1', -20, 80, 3e-6, 0],
];

for (const [op, lo, hi, rtol, atol] of RANGES) {
  Math_(`${op} on [${lo}, ${hi}] and special values`, () => {
    const n = 4099;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = random();
      if (op === 'log') x[i] = Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo)));
      else if ((op === 'log1p' || op === 'expm1') && t < 0.5) x[i] = (i % 2 ? -1 : 1) * 10 ** (-30 + t * 59.8); // tiny |x|
      else x[i] = lo + t * (hi - lo);
    }
    x.set(SPECIALS.map(Math.fround), 0);
    if (op === 'log') x.set([1e-40, 5e-39, 1.5e-38].map(Math.fround), 100); // subnormal inputs
    const kernel = unaryKernel(op, n);
    const { got, want } = runBoth(kernel, { x }, { out: n });
    assertClose(got.out!, want.out!, rtol, atol, op);
    // the same functions emitted as shared wasm functions instead of inline
    const called = compileKernels([kernel], sharedArena, { inlineMath: false }).kernels.get(kernel.name)!;
    const viaCall = runBoth(kernel, { x }, { out: n }, {}, called);
    assertClose(viaCall.got.out!, want.out!, rtol, atol, `${op} (called)`);
  });
}

Math_('pow: positive bases, negative bases with integral exponents, special cases', () => {
  const a = Float32Array.from([2, 0.5, 10, -2, -2, -2, 0, 0, 1, NaN, 3, -0.5, 7, 1.5]);
  const b = Float32Array.from([10, 3.3, -2, 3, 2, 0.5, 2, -1, NaN, 0, 0.5, -3, 0, 20]);
  const n = a.length;
  const k: PointwiseKernel = {
    kind: 'pointwise', name: 'm_pow', params: [], inputs: [{ name: 'a', dtype: 'float32' }, { name: 'b', dtype: 'float32' }],
    outputs: [{ name: 'out', dtype: 'float32' }], sizes: [n],
    stores: [{ buffer: 'out', access: contiguous([n]), value: binary('pow', load('a', contiguous([n])), load('b', contiguous([n]))) }],
  };
  const { got, want } = runBoth(k, { a, b }, { out: n });
  assertClose(got.out!, want.out!, 1e-5, 0, 'pow');
});

// Softmax's exp(x - max(x)) takes the non-positive exp (one scale factor, no overflow handling): it must
// give the same bits as the general exp on the same (already shifted) values, specials and subnormal
// results included.
Math_('exp of x - max(x) in a reduction equals the general exp bit for bit', () => {
  const row = [0, -0, -1e-30, -0.5, -1, -10, -87.3, -87.4, -88.7, -95, -103.9, -104, -110, -200, -Infinity];
  const rows = [row, row.map((v, i) => v * 0.37 + i), [NaN, ...row.slice(1)], [Infinity, ...row.slice(1)]];
  const rand = Array.from({ length: 4 }, () => Array.from({ length: row.length }, () => (random() - 0.9) * 150));
  const x = k.tensor([...rows, ...rand], { dtype: 'float32' });
  const softExp = (t: k.Tensor) => t.sub(t.amax(-1, true)).exp();
  const code = explain(softExp, { backend: 'cpu' })(x).backends[0]!.code!;
  assert.match(code, /acc0 = max buf0\[[^\n]*\n[^\n]*= exp\(sub\(buf0\[[^\]]*\], acc0\)\)/, 'one reduction kernel: exp(x - acc0) after the max stage');
  const viaMax = compile(softExp, { backend: 'cpu' })(x).toTypedArray();
  const shifted = x.sub(x.amax(-1, true));
  const general = compile((t: k.Tensor) => t.exp(), { backend: 'cpu' })(shifted).toTypedArray();
  const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
  assert.equal(bits(viaMax), bits(general));
  assert.ok(viaMax.some((v) => v > 0 && v < 1.17549435e-38), 'subnormal results are in the test');
});

// Beyond |x| ≈ 1e5 the float32 reduction loses the quadrant: the kernel flags such an argument and the call
// is recomputed with the eager kernels, so large arguments are right (and slower), never wrong.
Math_('sin/cos of arguments beyond the fast range are recomputed eagerly, others are not', () => {
  const fused = (t: k.Tensor) => [t.sin(), t.mul(1e6).cos().add(1)] as unknown as k.Tensor;
  const program = compileGraphForCpu(traceOps(fused, [k.tensor([1, 2], { dtype: 'float32' })]).coreGraph);
  const run = (values: number[]) => program.run([k.tensor(values, { dtype: 'float32' })]) as k.Tensor[];
  const close = (got: k.Tensor[], values: number[]) => {
    const want = fused(k.tensor(values, { dtype: 'float32' })) as unknown as k.Tensor[];
    got.forEach((g, j) => g.toTypedArray().forEach((v, i) => {
      const w = want[j]!.toTypedArray()[i]!;
      assert.ok(Number.isNaN(w) ? Number.isNaN(v) : Math.abs(v - w) <= 1e-6, `output ${j}[${i}] for ${values[i]}: ${v} vs ${w}`);
    }));
  };
  const small = [0.5, -3, 100, 0, NaN, Infinity];
  close(run(small), small);
  assert.is(program.runner!.stats.recomputed, 1, 'x·1e6 leaves the fast range: recomputed');
  const tiny = [1e-3, -2e-2];
  close(run(tiny), tiny);
  assert.is(program.runner!.stats.recomputed, 1, 'all arguments in range: the kernel results stand');
  const large = [1e6, -5e5, 3e7, 1e30, 3.4e38, 123456.7];
  close(run(large), large);
  assert.is(program.runner!.stats.recomputed, 2);
});

// Eager sums accumulate in float64; a float32 sum that overflows flags the call, which is then recomputed
// with the eager kernels. (Composites — mean, var, std, layerNorm — decompose into ops with float32
// intermediates, which overflow near float32's maximum on the interpreter too: see the backend README.)
Math_('a float32 sum that overflows where eager\'s float64 one does not is recomputed eagerly', () => {
  const fns = (t: k.Tensor) => [t.sum(-1), t.transpose(0, 1).sum(0), t.sum()] as unknown as k.Tensor;
  const x = k.tensor([[3e38, 3e38, 3e38, -3e38], [2e38, 2e38, -3e38, 1]], { dtype: 'float32' });
  const program = compileGraphForCpu(traceOps(fns, [x]).coreGraph);
  const got = program.run([x]) as k.Tensor[];
  const want = fns(x) as unknown as k.Tensor[];
  got.forEach((g, j) => assert.equal(Array.from(g.toTypedArray()), Array.from(want[j]!.toTypedArray()), `output ${j}`));
  assert.is(program.runner!.stats.recomputed, 1);
  program.run([k.randn([2, 4])]);
  assert.is(program.runner!.stats.recomputed, 1, 'ordinary values: the kernels\u2019 results stand');
});

Math_.run();
