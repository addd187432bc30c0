import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { KilnTypeError, ShapeError, Tensor, linear, matmul, tensor, zeros } from '@kiln/tensor';
import type { DType } from '@kiln/tensor';
import { Sym, fmt, fromJson, metaOf, runMeta, runReferenceSuite } from './support/op-cases.js';
import { FC_RUNS, assertAllClose, expectError, numelOf, ravel, refBroadcastShape, shapeArb, unravel } from './support/refs.js';

runReferenceSuite('linalg: PyTorch reference values (contiguous and strided)', ['matmul', 'linear']);

const semantics = suite('linalg: matmul semantics');
semantics('1-D · 1-D is a 0-dim dot product; 1-D operands lose their added dim', () => {
  const v = tensor([1, 2, 3], { dtype: 'float64' });
  const m = tensor([[1, 0], [0, 1], [1, 1]], { dtype: 'float64' });
  assert.equal(matmul(v, v).shape, []);
  assert.is(matmul(v, v).item(), 14);
  assert.equal(matmul(v, m).toArray(), [4, 5]);
  assert.equal(m.transpose(0, 1).matmul(v).toArray(), [4, 5]);
});
semantics('0 · NaN is NaN: no zero-skipping shortcut', () => {
  const r = matmul(tensor([[0, 1]], { dtype: 'float32' }), tensor([[NaN], [1]], { dtype: 'float32' }));
  assert.ok(Number.isNaN(r.item() as number));
});
semantics('int32 products wrap around like int32 arithmetic, exactly', () => {
  assert.is(matmul(tensor([[65536]]), tensor([[65536]])).item(), 0);
  assert.is(matmul(tensor([[46341, 1]]), tensor([[46341], [-1]])).item(), (46341 * 46341 - 1) | 0);
});
semantics('an inner dim of 0 gives zeros; an outer dim of 0 gives an empty result', () => {
  assert.equal(matmul(zeros([2, 0]), zeros([0, 3])).toArray(), [[0, 0, 0], [0, 0, 0]]);
  assert.equal(matmul(zeros([4, 0, 2]), zeros([2, 3])).shape, [4, 0, 3]);
});
semantics('a transposed weight is read in place, and the result matches a contiguous copy', () => {
  const w = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
  const x = tensor([[1, 1, 1], [0, 1, 0]], { dtype: 'float32' });
  assert.equal(matmul(x, w.transpose(0, 1)).toArray(), [[6, 15], [2, 5]]);
  assert.equal(linear(x, w, tensor([1, -1], { dtype: 'float32' })).toArray(), [[7, 14], [3, 4]]);
});
semantics.run();

const errors = suite('linalg: errors');
errors('shape errors name both shapes', () => {
  expectError(() => matmul(zeros([2, 3]), zeros([4, 5])), ShapeError, 'matmul', '[2, 3] and [4, 5]', '3 != 4');
  expectError(() => matmul(zeros([3]), zeros([4])), ShapeError, 'matmul', '[3] and [4]');
  expectError(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1])), ShapeError, 'matmul', 'batch dims [2] and [3]', '[2, 2, 3] and [3, 3, 1]');
  expectError(() => matmul(zeros([]), zeros([3])), ShapeError, 'matmul', 'at least one dim', '[] and [3]');
});
errors('dtype errors name both dtypes: no silent promotion, as in PyTorch', () => {
  expectError(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' })), KilnTypeError, 'matmul', 'float32[2, 2]', 'float64[2, 2]');
  expectError(() => matmul(tensor([[true]]), tensor([[true]])), KilnTypeError, 'matmul', 'bool');
});
errors('linear names its own arguments, not the matmul it decomposes into', () => {
  expectError(() => linear(zeros([2, 3]), zeros([4, 5])), ShapeError, 'linear', '[2, 3]', '[4, 5]', 'inFeatures = 5');
  expectError(() => linear(zeros([2, 3]), zeros([1, 4, 3])), ShapeError, 'linear', 'weight', '[1, 4, 3]');
  expectError(() => linear(zeros([2, 3]), zeros([4, 3]), zeros([5])), ShapeError, 'linear', 'bias shape [5]', '[2, 4]');
  expectError(() => linear(zeros([2, 3]), zeros([4, 3]), zeros([4], { dtype: 'float64' })), KilnTypeError, 'linear', 'bias', 'float64');
});
errors.run();

// ---------------------------------------------------------------------------------------------------------
// Property test: batched, broadcasting matmul on every layout against a triple loop.

type Layout = 'contiguous' | 'strided' | 'transposed';

/** A batch shape as one operand sees it: some leading dims dropped, some sizes replaced by 1. */
const operandBatch = (batch: number[]) =>
  fc.record({ drop: fc.integer({ min: 0, max: batch.length }), ones: fc.array(fc.boolean(), { minLength: batch.length, maxLength: batch.length }) })
    .map(({ drop, ones }) => batch.slice(drop).map((s, i) => (ones[i + drop] ? 1 : s)));

const layoutArb = fc.constantFrom<Layout>('contiguous', 'strided', 'transposed');
const matmulCase = shapeArb(3, 3).chain((batch) =>
  fc.record({
    batchA: operandBatch(batch),
    batchB: operandBatch(batch),
    n: fc.integer({ min: 0, max: 6 }),
    k: fc.integer({ min: 0, max: 4 }),
    m: fc.integer({ min: 0, max: 4 }),
    vectorA: fc.boolean(),
    vectorB: fc.boolean(),
    layoutA: layoutArb,
    layoutB: layoutArb,
    dtype: fc.constantFrom<DType>('float64', 'float32', 'int32'),
    seed: fc.nat(),
  }),
);

const valuesOf = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 9) - 4);

/** A tensor of logical `shape`; `transposed` stores its last two dims swapped (a `.transpose(-1, -2)` view). */
function build(values: number[], shape: number[], dtype: DType, layout: Layout): Tensor {
  if (layout !== 'transposed' || shape.length < 2) return fromJson({ shape, dtype, data: values }, layout === 'strided' ? 'strided' : 'contiguous');
  const swapped = [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!];
  const stored = values.map((_, i) => {
    const idx = unravel(i, swapped);
    return values[ravel([...idx.slice(0, -2), idx.at(-1)!, idx.at(-2)!], shape)]!;
  });
  return fromJson({ shape: swapped, dtype, data: stored }).transpose(-1, -2);
}

const at = (values: number[], shape: number[], batchIdx: number[], rest: number[]) => {
  const own = shape.length - rest.length;
  const lead = batchIdx.length - own;
  const idx = [...shape.slice(0, own).map((s, d) => (s === 1 ? 0 : batchIdx[lead + d]!)), ...rest];
  return values[ravel(idx, shape)]!;
};

const props = suite('linalg: random batched matmul vs a triple loop');
props('every combination of 1-D/N-D operands, broadcast batch dims, layouts and dtypes', () => {
  fc.assert(
    fc.property(matmulCase, (c) => {
      const aShape = c.vectorA ? [c.k] : [...c.batchA, c.n, c.k];
      const bShape = c.vectorB ? [c.k] : [...c.batchB, c.k, c.m];
      const batch = refBroadcastShape(c.vectorA ? [] : c.batchA, c.vectorB ? [] : c.batchB)!;
      const av = valuesOf(numelOf(aShape), c.seed);
      const bv = valuesOf(numelOf(bShape), c.seed + 3);
      const outShape = [...batch, ...(c.vectorA ? [] : [c.n]), ...(c.vectorB ? [] : [c.m])];
      const expected = Array.from({ length: numelOf(outShape) }, (_, o) => {
        const idx = unravel(o, outShape);
        const bIdx = idx.slice(0, batch.length);
        const i = c.vectorA ? 0 : idx[batch.length]!;
        const j = c.vectorB ? 0 : idx.at(-1)!;
        let s = 0;
        for (let p = 0; p < c.k; p++) {
          s += at(av, aShape, bIdx, c.vectorA ? [p] : [i, p]) * at(bv, bShape, bIdx, c.vectorB ? [p] : [p, j]);
        }
        return s;
      });
      const out = matmul(build(av, aShape, c.dtype, c.layoutA), build(bv, bShape, c.dtype, c.layoutB));
      assert.equal(out.shape, outShape);
      assert.is(out.dtype, c.dtype);
      assertAllClose(Array.from(out.toTypedArray()), expected, 'matmul');
    }),
    FC_RUNS,
  );
});
props('linear equals x @ weight^T + bias for random leading dims', () => {
  fc.assert(
    fc.property(shapeArb(2, 3), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), layoutArb, fc.boolean(), (lead, inF, outF, layout, withBias) => {
      const xShape = [...lead, inF];
      const xv = valuesOf(numelOf(xShape), 1);
      const wv = valuesOf(outF * inF, 2);
      const bv = valuesOf(outF, 5);
      const y = linear(
        build(xv, xShape, 'float64', layout),
        build(wv, [outF, inF], 'float64', layout),
        withBias ? fromJson({ shape: [outF], dtype: 'float64', data: bv }) : null,
      );
      const expected: number[] = [];
      for (let r = 0; r < numelOf(lead); r++) {
        for (let o = 0; o < outF; o++) {
          let s = withBias ? bv[o]! : 0;
          for (let p = 0; p < inF; p++) s += xv[r * inF + p]! * wv[o * inF + p]!;
          expected.push(s);
        }
      }
      assert.equal(y.shape, [...lead, outF]);
      assertAllClose(Array.from(y.toTypedArray()), expected, 'linear');
    }),
    FC_RUNS,
  );
});
props.run();

const symbolic = suite('linalg: meta functions on symbolic sizes');
symbolic('matmul and linear shapes carry symbols; the inner dims are checked with a guard', () => {
  const guards: string[] = [];
  const [b, n, k] = [new Sym('b', 2, guards), new Sym('n', 5, guards), new Sym('k', 3, guards)];
  assert.is(fmt(runMeta('matmul', [metaOf([b, n, k]), metaOf([k, 7])]).shape), '[b, n, 7]');
  assert.is(fmt(runMeta('matmul', [metaOf([k]), metaOf([b, k, n])]).shape), '[b, n]');
  assert.is(fmt(runMeta('linear', [metaOf([b, n, k]), metaOf([4, k]), metaOf([4])]).shape), '[b, n, 4]');
  runMeta('matmul', [metaOf([n, k]), metaOf([3, 2])]);
  assert.ok(guards.includes('k == 3: true'), guards.join('; '));
});
symbolic.run();
