import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  IndexError, KilnTypeError, ValueError, all, amax, any, arange, argmax, cumsum, getOp, logsumexp, max, mean, min, prod,
  std, sum, tensor, zeros,
} from '@kiln/tensor';
import * as ops from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { Sym, fmt, fromJson, metaOf, runMeta, runReferenceSuite } from './support/op-cases.js';
import { FC_RUNS, assertAllClose, expectError, numelOf, ravel, shapeArb, unravel } from './support/refs.js';

const REDUCTIONS = ['sum', 'mean', 'prod', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin', 'var', 'std', 'all', 'any', 'logsumexp', 'cumsum'];

runReferenceSuite('reductions: PyTorch reference values (contiguous and strided, eager and decomposed)', REDUCTIONS);

const dtypes = suite('reductions: result dtypes');
dtypes('sum and prod of bool and int32 give int32; of floats keep the float dtype', () => {
  assert.is(sum(tensor([true, false, true])).dtype, 'int32');
  assert.is(sum(tensor([true, false, true])).item(), 2);
  assert.is(prod(tensor([2, 3, 4])).dtype, 'int32');
  assert.is(sum(tensor([1.5], { dtype: 'float64' })).dtype, 'float64');
  assert.is(sum(tensor([1.5])).dtype, 'float32');
});
dtypes('a dtype argument casts the input first, as PyTorch does', () => {
  assert.is(sum(tensor([1.7, 2.7]), null, false, { dtype: 'int32' }).item(), 3);
  const m = mean(tensor([1, 2]), null, false, { dtype: 'float64' });
  assert.is(m.dtype, 'float64');
  assert.is(m.item(), 1.5);
  assert.equal(cumsum(tensor([1.5, 1.5]), 0, { dtype: 'int32' }).toArray(), [1, 2]);
});
dtypes('argmax/argmin give int32, all/any give bool, logsumexp of ints gives float32', () => {
  assert.is(argmax(tensor([1, 5, 2])).dtype, 'int32');
  assert.is(all(tensor([1, 2])).dtype, 'bool');
  assert.is(any(tensor([0.0, 0.5])).item(), true);
  assert.is(logsumexp(tensor([0, 0]), 0).dtype, 'float32');
  assert.ok(Math.abs((logsumexp(tensor([0, 0]), 0).item() as number) - Math.LN2) < 1e-6);
});
dtypes('mean, var and std of integers are errors naming the op and dtype', () => {
  expectError(() => mean(tensor([1, 2])), KilnTypeError, 'mean', 'int32', 'dtype');
  expectError(() => tensor([1, 2]).var(), KilnTypeError, 'var', 'int32');
  expectError(() => std(tensor([true])), KilnTypeError, 'std', 'bool');
  expectError(() => mean(tensor([1.5]), null, false, { dtype: 'int32' }), KilnTypeError, 'mean', 'int32');
});
dtypes.run();

const shapes = suite('reductions: dims and keepdim');
shapes('dim accepts a number, a list, negative dims, and null or [] for all dims', () => {
  const x = arange(0, 24, 1, { dtype: 'float64' }).reshape([2, 3, 4]);
  assert.equal(sum(x, -1).shape, [2, 3]);
  assert.equal(sum(x, [0, -1]).shape, [3]);
  assert.equal(sum(x, [0, -1], true).shape, [1, 3, 1]);
  assert.equal(sum(x).shape, []);
  assert.equal(sum(x, null, true).shape, [1, 1, 1]);
  assert.is(sum(x, []).item(), 276);
  // Any argument can also be given by name in a trailing options object.
  assert.equal(sum(x, { dim: 1, keepdim: true }).shape, [2, 1, 4]);
});
shapes('a 0-dim tensor reduces over dim 0 or -1 to itself', () => {
  const s = tensor(3.5);
  assert.is(sum(s, 0).item(), 3.5);
  assert.is(amax(s, -1).item(), 3.5);
  assert.equal(max(s, 0).indices.toArray(), 0);
  assert.equal(cumsum(s, 0).toArray(), 3.5);
});
shapes('max/min without a dim give a 0-dim tensor; with a dim, values and int32 indices', () => {
  const x = tensor([[3, 9, 9], [7, 1, 7]]);
  const whole = max(x);
  assert.equal(whole.shape, []);
  assert.is(whole.item(), 9);
  const [values, indices] = x.max(1);
  assert.equal(values.toArray(), [9, 7]);
  assert.equal(indices.toArray(), [1, 0]);
  assert.is(indices.dtype, 'int32');
  const r = min(x, 0, true);
  assert.equal(r.values.toArray(), [[3, 1, 7]]);
  assert.equal(r.indices.toArray(), [[0, 1, 1]]);
});
shapes('empty reductions: sum is 0, prod is 1, all is true, any is false, mean is NaN', () => {
  const e = zeros([0, 2]);
  assert.equal(sum(e, 0).toArray(), [0, 0]);
  assert.equal(prod(e).toArray(), 1);
  assert.equal(all(e).toArray(), true);
  assert.equal(any(e).toArray(), false);
  assert.ok(Number.isNaN(mean(e).item() as number));
  assert.equal(amax(e, 1).shape, [0]);
});
shapes.run();

const errors = suite('reductions: errors');
errors('out-of-range and repeated dims name the op, the dim and the shape', () => {
  const x = zeros([2, 3]);
  expectError(() => sum(x, 2), IndexError, 'sum', 'dim=2', 'rank 2');
  expectError(() => x.argmax(-3), IndexError, 'argmax');
  expectError(() => amax(x, [1, -1]), IndexError, 'amax', 'more than once', '[2, 3]');
  expectError(() => cumsum(x, 5), IndexError, 'cumsum');
});
errors('max/amax/argmax of zero elements are errors, not values', () => {
  expectError(() => max(zeros([0])), ValueError, 'max', 'zero elements', '[0]');
  expectError(() => amax(zeros([2, 0]), 1), ValueError, 'amax', '[2, 0]', 'dim=1');
  expectError(() => argmax(zeros([0, 3])), ValueError, 'argmax');
  expectError(() => min(zeros([0, 3]), 0), ValueError, 'min');
});
errors('bad argument types are typed errors from the schema', () => {
  expectError(() => sum(zeros([2]), 'x' as any), KilnTypeError, 'sum', 'dim');
  expectError(() => tensor([1.5]).var(0, { correction: 'a' } as any), KilnTypeError, 'var', 'correction');
  expectError(() => sum(zeros([2]), null, false, { dtype: 'int64' } as any), KilnTypeError, 'dtype');
});
errors.run();

// ---------------------------------------------------------------------------------------------------------
// Property tests: every reduction against a naive reference that groups elements by output index.

type Fold = (lane: number[]) => number;

/** Reduces row-major `flat` of `shape` over `dims` (sorted) by folding each output's lane, in row-major order. */
function naiveReduce(flat: number[], shape: number[], dims: number[], keepdim: boolean, fold: Fold) {
  const kept = shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const lanes: number[][] = Array.from({ length: numelOf(kept) }, () => []);
  for (let i = 0; i < flat.length; i++) {
    const idx = unravel(i, shape).map((k, d) => (dims.includes(d) ? 0 : k));
    lanes[ravel(idx, kept)]!.push(flat[i]!);
  }
  const outShape = keepdim ? kept : shape.filter((_, d) => !dims.includes(d));
  return { shape: outShape, data: lanes.map(fold), reducedCount: numelOf(dims.map((d) => shape[d]!)) };
}

const meanOf = (l: number[]) => l.reduce((a, b) => a + b, 0) / l.length;
const varOf = (c: number) => (l: number[]) => l.reduce((a, v) => a + (v - meanOf(l)) ** 2, 0) / Math.max(0, l.length - c);
const firstIndex = (better: (a: number, b: number) => boolean) => (l: number[]) =>
  l.reduce((best, v, i) => (better(v, l[best]!) ? i : best), 0);

const FOLDS: Record<string, { fold: Fold; exact: boolean; needsElements?: boolean; float?: boolean }> = {
  sum: { fold: (l) => l.reduce((a, b) => a + b, 0), exact: true },
  prod: { fold: (l) => l.reduce((a, b) => a * b, 1), exact: true },
  mean: { fold: meanOf, exact: false },
  amax: { fold: (l) => Math.max(...l), exact: true, needsElements: true },
  amin: { fold: (l) => Math.min(...l), exact: true, needsElements: true },
  all: { fold: (l) => (l.every((v) => v !== 0) ? 1 : 0), exact: true },
  any: { fold: (l) => (l.some((v) => v !== 0) ? 1 : 0), exact: true },
  logsumexp: { fold: (l) => Math.log(l.reduce((a, v) => a + Math.exp(v), 0)), exact: false },
};

const input = shapeArb().chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    values: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: numelOf(shape), maxLength: numelOf(shape) }),
    dims: fc.option(fc.shuffledSubarray(shape.map((_, i) => i)), { nil: null }),
    negative: fc.boolean(),
    keepdim: fc.boolean(),
    layout: fc.constantFrom('contiguous' as const, 'strided' as const),
    correction: fc.integer({ min: 0, max: 2 }),
  }),
);
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

const toTensor = (p: Input): Tensor => fromJson({ shape: p.shape, dtype: 'float64', data: p.values }, p.layout);
/** The dims as the op is called with them (maybe negative), and as the reference sees them (sorted, all if empty). */
function dimsOf(p: Input) {
  const call = p.dims === null ? null : p.dims.map((d) => (p.negative ? d - p.shape.length : d));
  const ref = p.dims === null || p.dims.length === 0 ? p.shape.map((_, i) => i) : [...p.dims].sort((a, b) => a - b);
  return { call, ref };
}

function checkAgainstNaive(name: string, actual: () => Tensor, expected: ReturnType<typeof naiveReduce>, exact: boolean, needsElements = false) {
  // As in PyTorch, a size-0 reduced dim is an error even when the output has no elements either.
  if (needsElements && expected.reducedCount === 0) {
    expectError(actual, ValueError, name.split(' ')[0]!, 'zero elements');
    return;
  }
  const out = actual();
  assert.equal(out.shape, expected.shape, `${name}: shape`);
  assertAllClose(Array.from(out.toTypedArray()), expected.data, name, exact ? {} : { rtol: 1e-12, atol: 1e-12 });
}

const props = suite('reductions: random shapes, dims and layouts vs a naive reference');
props('sum prod mean amax amin all any logsumexp', () => {
  fc.assert(
    fc.property(input, (p) => {
      const x = toTensor(p);
      const { call, ref } = dimsOf(p);
      for (const [name, spec] of Object.entries(FOLDS)) {
        const fn = (ops as any)[name];
        const expected = naiveReduce(p.values, p.shape, ref, p.keepdim, spec.fold);
        checkAgainstNaive(name, () => fn(x, call, p.keepdim), expected, spec.exact, spec.needsElements);
      }
    }),
    FC_RUNS,
  );
});
props('var and std with any correction', () => {
  fc.assert(
    fc.property(input, (p) => {
      const x = toTensor(p);
      const { call, ref } = dimsOf(p);
      const v = naiveReduce(p.values, p.shape, ref, p.keepdim, varOf(p.correction));
      checkAgainstNaive('var', () => x.var(call, { correction: p.correction, keepdim: p.keepdim }), v, false);
      const s = { ...v, data: v.data.map(Math.sqrt) };
      checkAgainstNaive('std', () => x.std(call, { correction: p.correction, keepdim: p.keepdim }), s, false);
    }),
    FC_RUNS,
  );
});
props('argmax/argmin and max/min along one dim pick the first extreme', () => {
  fc.assert(
    fc.property(input, fc.nat(), (p, pick) => {
      const x = toTensor(p);
      const whole = naiveReduce(p.values, p.shape, p.shape.map((_, i) => i), p.keepdim, firstIndex((a, b) => a > b));
      checkAgainstNaive('argmax', () => argmax(x, null, p.keepdim), whole, true, true);
      if (p.shape.length === 0) return;
      const d = pick % p.shape.length;
      for (const [name, better] of [['max', (a: number, b: number) => a > b], ['min', (a: number, b: number) => a < b]] as const) {
        const idx = naiveReduce(p.values, p.shape, [d], p.keepdim, firstIndex(better));
        const val = naiveReduce(p.values, p.shape, [d], p.keepdim, (l) => l[firstIndex(better)(l)]!);
        checkAgainstNaive(`arg${name}`, () => (ops as any)[`arg${name}`](x, d, p.keepdim), idx, true, true);
        checkAgainstNaive(`${name} values`, () => (ops as any)[name](x, d, p.keepdim).values, val, true, true);
        checkAgainstNaive(`${name} indices`, () => (ops as any)[name](x, d, p.keepdim).indices, idx, true, true);
      }
    }),
    FC_RUNS,
  );
});
props('cumsum along each dim', () => {
  fc.assert(
    fc.property(input, fc.nat(), (p, pick) => {
      const x = toTensor(p);
      const d = p.shape.length === 0 ? 0 : pick % p.shape.length;
      const expected = p.values.map((_, i) => {
        const idx = unravel(i, p.shape);
        let s = 0;
        for (let k = 0; k <= (idx[d] ?? 0); k++) s += p.values[ravel(idx.map((v, j) => (j === d ? k : v)), p.shape)]!;
        return s;
      });
      const out = cumsum(x, p.negative && p.shape.length ? d - p.shape.length : d);
      assert.equal(out.shape, p.shape);
      assertAllClose(Array.from(out.toTypedArray()), expected, 'cumsum');
    }),
    FC_RUNS,
  );
});
props('decompositions of mean, var, std and logsumexp agree with their kernels', () => {
  fc.assert(
    fc.property(input, (p) => {
      const x = toTensor(p);
      const { call } = dimsOf(p);
      const cases: [string, unknown[]][] = [
        ['mean', [x, call, p.keepdim, null]],
        ['var', [x, call, p.correction, p.keepdim]],
        ['std', [x, call, p.correction, p.keepdim]],
        ['logsumexp', [x, call, p.keepdim]],
      ];
      for (const [name, args] of cases) {
        const op = getOp(name)!;
        const kernel = op.fn(...args.slice(0, name === 'var' || name === 'std' ? 2 : 3), ...(name === 'var' || name === 'std' ? [{ correction: p.correction, keepdim: p.keepdim }] : [])) as Tensor;
        const decomposed = op.decompose!(args) as Tensor;
        assert.equal(decomposed.shape, kernel.shape, `${name}: shape`);
        assert.is(decomposed.dtype, kernel.dtype, `${name}: dtype`);
        assertAllClose(Array.from(decomposed.toTypedArray()), Array.from(kernel.toTypedArray()), `${name} decomposition`, { rtol: 1e-12, atol: 1e-12 });
      }
    }),
    FC_RUNS,
  );
});
props.run();

const symbolic = suite('reductions: meta functions on symbolic sizes');
symbolic('reduced shapes keep symbols; keepdim puts 1 in their place', () => {
  const s0 = new Sym('s0', 5);
  const x = metaOf([s0, 3, new Sym('s1', 4)]);
  assert.is(fmt(runMeta('sum', [x, 1, false, null]).shape), '[s0, s1]');
  assert.is(fmt(runMeta('mean', [x, [0, -1], true, null]).shape), '[1, 3, 1]');
  assert.is(fmt(runMeta('var', [x, null, 1, false]).shape), '[]');
  assert.is(fmt(runMeta('cumsum', [x, 0, null]).shape), '[s0, 3, s1]');
  const r = runMeta('max', [x, 0, true]);
  assert.is(fmt(r.values.shape), '[1, 3, s1]');
  assert.is(r.indices.dtype, 'int32');
});
symbolic('max-like reductions guard that the reduced size is not 0; sum does not', () => {
  const guards: string[] = [];
  const x = metaOf([new Sym('s0', 5, guards), 3]);
  runMeta('sum', [x, 0, false, null]);
  assert.equal(guards, []);
  runMeta('amax', [x, 0, false]);
  assert.ok(guards.some((g) => g.includes('s0') && g.includes('0')), guards.join('; '));
});
symbolic.run();
