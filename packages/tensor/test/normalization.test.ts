import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { IndexError, KilnTypeError, ShapeError, getOp, layerNorm, logSoftmax, ones, softmax, tensor, zeros } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { Sym, fmt, fromJson, metaOf, runMeta, runReferenceSuite } from './support/op-cases.js';
import { FC_RUNS, assertAllClose, expectError, numelOf, ravel, shapeArb, unravel } from './support/refs.js';

runReferenceSuite('normalization: PyTorch reference values (contiguous and strided, eager and decomposed)', ['softmax', 'logSoftmax', 'layerNorm']);

const stable = suite('normalization: numerical stability');
stable('softmax and logSoftmax of huge logits neither overflow nor give NaN', () => {
  const x = tensor([[1e4, 1e4 - Math.LN2], [-1e4, -1e4]], { dtype: 'float64' });
  assertAllClose(Array.from(softmax(x, 1).toTypedArray()), [2 / 3, 1 / 3, 0.5, 0.5], 'softmax', { rtol: 1e-12 });
  assertAllClose(Array.from(logSoftmax(x, -1).toTypedArray()), [Math.log(2 / 3), Math.log(1 / 3), -Math.LN2, -Math.LN2], 'logSoftmax', { rtol: 1e-12 });
});
stable('layerNorm of a constant row is 0 (eps keeps it finite), then bias', () => {
  const y = layerNorm(ones([2, 3]), [3], null, tensor([1, 2, 3], { dtype: 'float32' }));
  assert.equal(y.toArray(), [[1, 2, 3], [1, 2, 3]]);
});
stable.run();

const errors = suite('normalization: errors');
errors('softmax of integers is a dtype error naming the op; a bad dim an index error', () => {
  expectError(() => softmax(tensor([1, 2]), 0), KilnTypeError, 'softmax', 'int32', '[2]');
  expectError(() => tensor([true]).logSoftmax(0), KilnTypeError, 'logSoftmax', 'bool');
  expectError(() => softmax(zeros([2, 3]), 2), IndexError, 'softmax', 'dim=2');
});
errors('layerNorm names normalizedShape, weight and bias with the shapes involved', () => {
  const x = zeros([2, 3, 4]);
  expectError(() => layerNorm(x, [3]), ShapeError, 'layerNorm', 'normalizedShape [3]', '[2, 3, 4]');
  expectError(() => layerNorm(x, [2, 3, 4, 5]), ShapeError, 'layerNorm');
  expectError(() => layerNorm(x, []), ShapeError, 'layerNorm', 'at least one dim');
  expectError(() => layerNorm(x, [4], zeros([3])), ShapeError, 'layerNorm', 'weight', '[3]', '[4]');
  expectError(() => layerNorm(x, [3, 4], null, zeros([4])), ShapeError, 'layerNorm', 'bias', '[4]', '[3, 4]');
  expectError(() => layerNorm(x, [4], zeros([4], { dtype: 'float64' })), KilnTypeError, 'layerNorm', 'weight', 'float64', 'float32');
  expectError(() => layerNorm(tensor([[1, 2]]), [2]), KilnTypeError, 'layerNorm', 'input', 'int32');
});
errors.run();

// ---------------------------------------------------------------------------------------------------------
// Property tests against naive references written element by element.

const input = shapeArb().chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    values: fc.array(fc.integer({ min: -40, max: 40 }).map((v) => v / 8), { minLength: numelOf(shape), maxLength: numelOf(shape) }),
    pick: fc.nat(),
    layout: fc.constantFrom('contiguous' as const, 'strided' as const),
  }),
);

/** Applies `f` to every lane along `dim` (the whole 0-dim tensor is one lane) and returns the row-major result. */
function naiveAlong(values: number[], shape: number[], dim: number, f: (lane: number[]) => number[]): number[] {
  const out = new Array<number>(values.length);
  if (shape.length === 0) return f(values);
  for (let i = 0; i < values.length; i++) {
    const idx = unravel(i, shape);
    if (idx[dim] !== 0) continue;
    const at = (k: number) => ravel(idx.map((v, j) => (j === dim ? k : v)), shape);
    const lane = Array.from({ length: shape[dim]! }, (_, k) => values[at(k)]!);
    f(lane).forEach((v, k) => (out[at(k)] = v));
  }
  return out;
}
const naiveSoftmax = (l: number[]) => {
  const e = l.map(Math.exp);
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
};
const naiveNormalize = (eps: number) => (l: number[]) => {
  const mu = l.reduce((a, b) => a + b, 0) / l.length;
  const v = l.reduce((a, x) => a + (x - mu) ** 2, 0) / l.length;
  return l.map((x) => (x - mu) / Math.sqrt(v + eps));
};

const tol = { rtol: 1e-10, atol: 1e-12 };
const flat = (t: Tensor) => Array.from(t.toTypedArray());

const props = suite('normalization: random shapes and layouts vs a naive reference');
props('softmax and logSoftmax along a random dim; decompositions agree with kernels', () => {
  fc.assert(
    fc.property(input, (p) => {
      const x = fromJson({ shape: p.shape, dtype: 'float64', data: p.values }, p.layout);
      const dim = p.shape.length ? p.pick % p.shape.length : 0;
      const expected = naiveAlong(p.values, p.shape, dim, naiveSoftmax);
      assertAllClose(flat(softmax(x, dim)), expected, 'softmax', tol);
      assertAllClose(flat(logSoftmax(x, dim - Math.max(1, p.shape.length))), expected.map(Math.log), 'logSoftmax', tol);
      for (const name of ['softmax', 'logSoftmax']) {
        const op = getOp(name)!;
        const decomposed = op.decompose!([x, dim]) as Tensor;
        assert.equal(decomposed.shape, p.shape);
        assertAllClose(flat(decomposed), flat(op.fn(x, dim) as Tensor), `${name} decomposition`, tol);
      }
    }),
    FC_RUNS,
  );
});
props('layerNorm over the trailing dims, with and without weight and bias; decomposition agrees', () => {
  fc.assert(
    fc.property(input.filter((p) => p.shape.length > 0), fc.boolean(), (p, affine) => {
      const x = fromJson({ shape: p.shape, dtype: 'float64', data: p.values }, p.layout);
      const k = 1 + (p.pick % p.shape.length);
      const normalized = p.shape.slice(-k);
      const n = numelOf(normalized);
      const w = Array.from({ length: n }, (_, i) => 1 + i / 4);
      const b = Array.from({ length: n }, (_, i) => i / 2 - 1);
      const weight = affine ? fromJson({ shape: normalized, dtype: 'float64', data: w }, 'strided') : null;
      const bias = affine ? fromJson({ shape: normalized, dtype: 'float64', data: b }) : null;
      const expected: number[] = [];
      for (let start = 0; start < p.values.length; start += n) {
        const lane = naiveNormalize(1e-5)(p.values.slice(start, start + n));
        expected.push(...lane.map((v, r) => (affine ? v * w[r]! + b[r]! : v)));
      }
      const y = layerNorm(x, normalized, weight, bias);
      assert.equal(y.shape, p.shape);
      assertAllClose(flat(y), expected, 'layerNorm', tol);
      const decomposed = getOp('layerNorm')!.decompose!([x, normalized, weight, bias, 1e-5]) as Tensor;
      assertAllClose(flat(decomposed), flat(y), 'layerNorm decomposition', tol);
    }),
    FC_RUNS,
  );
});
props.run();

const symbolic = suite('normalization: meta functions on symbolic sizes');
symbolic('softmax keeps the shape; layerNorm matches normalizedShape with a guard', () => {
  const guards: string[] = [];
  const s0 = new Sym('s0', 5, guards);
  const s1 = new Sym('s1', 4, guards);
  assert.is(fmt(runMeta('softmax', [metaOf([s0, s1]), -1]).shape), '[s0, s1]');
  assert.is(fmt(runMeta('layerNorm', [metaOf([s0, s1]), [s1], metaOf([s1]), null, 1e-5]).shape), '[s0, s1]');
  // Comparing a symbol with itself is trivially true (a shape environment records nothing for it).
  assert.not.ok(guards.some((g) => g !== 's1 == s1: true'), guards.join('; '));
  runMeta('layerNorm', [metaOf([s0, s1]), [4], null, null, 1e-5]);
  assert.ok(guards.includes('s1 == 4: true'), guards.join('; '));
});
symbolic.run();
