import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { DTYPES, add, isDType, isFloating, mul, promoteTypes, resultType, tensor, zeros } from '@kiln/tensor';
import type { DType } from '@kiln/tensor';
import { torchRefs } from './support/refs.js';

type Operand = { dtype: DType; ndim: number } | number | boolean;

/** Parses the fixture's operand names: `int32:1` (a 1-dim tensor), `float64:0` (0-dim), `true`, `1`, `1.5`. */
function operand(kind: string): Operand {
  if (kind === 'true') return true;
  if (kind === '1') return 1;
  if (kind === '1.5') return 1.5;
  const [dtype, ndim] = kind.split(':');
  return { dtype: dtype as DType, ndim: Number(ndim) };
}

/**
 * PyTorch's result_type, transcribed from c10 (`update_result_type_state`, `combine_categories`): three
 * priority classes (dimensioned tensors, zero-dim tensors, scalars), each promoted separately, then combined
 * from the lowest up; a lower class only matters when it is of a higher category (bool < int < float).
 */
function referenceResultType(operands: readonly Operand[]): DType {
  let dim: DType | null = null;
  let zero: DType | null = null;
  let wrapped: DType | null = null;
  const promote = (a: DType | null, b: DType) => (a === null ? b : promoteTypes(a, b));
  for (const o of operands) {
    if (typeof o === 'boolean') wrapped = promote(wrapped, 'bool');
    else if (typeof o === 'number') wrapped = promote(wrapped, Number.isInteger(o) ? 'int32' : 'float32');
    else if (o.ndim > 0) dim = promote(dim, o.dtype);
    else zero = promote(zero, o.dtype);
  }
  const combine = (higher: DType | null, lower: DType | null): DType | null => {
    if (higher === null) return lower;
    if (lower === null || isFloating(higher)) return higher;
    if (higher === 'bool' || isFloating(lower)) return promoteTypes(higher, lower);
    return higher;
  };
  return combine(dim, combine(zero, wrapped))!;
}

const Promote = suite('dtype: promoteTypes is the lattice bool < int32 < float32 < float64');

Promote('the full table', () => {
  const order: DType[] = ['bool', 'int32', 'float32', 'float64'];
  for (const a of order) {
    for (const b of order) {
      const expected = order[Math.max(order.indexOf(a), order.indexOf(b))];
      assert.is(promoteTypes(a, b), expected, `${a} + ${b}`);
    }
  }
  assert.equal([...DTYPES].sort(), [...order].sort());
  assert.ok(isDType('float32'));
  assert.not.ok(isDType('int64'));
  assert.not.ok(isDType(undefined));
});

Promote.run();

const Result = suite('dtype: resultType follows PyTorch result_type');

Result('every pair of tensor/0-dim tensor/scalar operands matches PyTorch 1.13 (int64 read as int32)', () => {
  const table: [string, string, DType][] = torchRefs().resultType;
  assert.is(table.length, 11 * 11 - 9, "8 tensor kinds and 3 scalars, scalar pairs left out");
  for (const [a, b, expected] of table) {
    assert.is(resultType([operand(a), operand(b)]), expected, `result_type(${a}, ${b})`);
  }
});

Result('the transcribed reference agrees with PyTorch on the same pairs', () => {
  for (const [a, b, expected] of torchRefs().resultType as [string, string, DType][]) {
    assert.is(referenceResultType([operand(a), operand(b)]), expected, `reference(${a}, ${b})`);
  }
});

Result('any number of operands agrees with the transcribed reference (property)', () => {
  const tensorArb = fc.record({ dtype: fc.constantFrom(...DTYPES), ndim: fc.constantFrom(0, 1, 2) });
  const scalarArb = fc.oneof(fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: false }));
  fc.assert(
    fc.property(fc.array(fc.oneof(tensorArb, scalarArb), { minLength: 1, maxLength: 5 }), (ops) => {
      assert.is(resultType(ops), referenceResultType(ops), JSON.stringify(ops));
    }),
    { numRuns: 500 },
  );
});

Result('JS numbers are integral scalars exactly when Number.isInteger', () => {
  const i = { dtype: 'int32' as const, ndim: 1 };
  assert.is(resultType([i, 2]), 'int32');
  assert.is(resultType([i, 2.0]), 'int32', '2.0 is the same JS number as 2');
  assert.is(resultType([i, -0]), 'int32');
  assert.is(resultType([i, 1e300]), 'int32', 'a huge integral number is still integral');
  assert.is(resultType([i, 0.5]), 'float32');
  assert.is(resultType([i, NaN]), 'float32');
  assert.is(resultType([i, Infinity]), 'float32');
  assert.is(resultType([{ dtype: 'bool', ndim: 1 }, 3]), 'int32');
  assert.is(resultType([{ dtype: 'bool', ndim: 1 }, true]), 'bool');
  assert.is(resultType([{ dtype: 'float64', ndim: 1 }, 0.5]), 'float64', 'a float scalar does not demote float64');
  assert.is(resultType([2, 3]), 'int32');
  assert.is(resultType([2, 0.5]), 'float32');
  assert.is(resultType([false, true]), 'bool');
});

Result('0-dim tensors count below dimensioned tensors unless of a higher category', () => {
  const t = (dtype: DType, ndim: number) => ({ dtype, ndim });
  assert.is(resultType([t('float32', 1), t('float64', 0)]), 'float32');
  assert.is(resultType([t('int32', 1), t('float64', 0)]), 'float64');
  assert.is(resultType([t('bool', 1), t('int32', 0)]), 'int32');
  assert.is(resultType([t('int32', 1), t('bool', 0)]), 'int32');
  assert.is(resultType([t('float64', 0), 1.5]), 'float64');
  assert.is(resultType([t('int32', 0), 1.5]), 'float32');
  assert.is(resultType([t('bool', 0), t('bool', 1), 7]), 'int32');
  assert.is(resultType([t('int32', 1), t('float64', 0), 0.5]), 'float64');
});

Result.run();

const Ops = suite('dtype: ops produce the promoted dtype with correctly converted values');

Ops('tensor + 0-dim tensor + scalar through real ops', () => {
  const f32 = tensor([1, 2], { dtype: 'float32' });
  const f64scalar = tensor(0.1, { dtype: 'float64' });
  const sum = add(f32, f64scalar);
  assert.is(sum.dtype, 'float32', 'a 0-dim float64 does not widen a float32 tensor');
  assert.equal(sum.toArray(), [Math.fround(1.1), Math.fround(2.1)]);
  const ints = tensor([1, 2, 3]);
  assert.is(mul(ints, tensor(0.5, { dtype: 'float64' })).dtype, 'float64');
  assert.equal(mul(ints, tensor(0.5, { dtype: 'float64' })).toArray(), [0.5, 1, 1.5]);
  assert.is(add(tensor([true]), tensor([1.5], { dtype: 'float64' })).dtype, 'float64');
  assert.is(add(zeros([2], { dtype: 'bool' }), 1.5).dtype, 'float32');
  assert.equal(add(tensor([true, false]), tensor([true, true])).toArray(), [true, true], 'bool + bool is logical or');
});

Ops('float scalars are rounded to the computation dtype before the op', () => {
  assert.equal(tensor([0], { dtype: 'float32' }).add(0.1).toArray(), [Math.fround(0.1)]);
  assert.equal(tensor([0], { dtype: 'float64' }).add(0.1).toArray(), [0.1]);
  assert.equal(tensor([1]).add(true).toArray(), [2]);
});

Ops.run();
