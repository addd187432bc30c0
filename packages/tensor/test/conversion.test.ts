import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DTYPES, KilnTypeError, Tensor, ValueError, eagerMetaContext, getOp, nonzero, tensor, to, zeros } from '@kiln/tensor';
import type { DType, MetaContext } from '@kiln/tensor';

import { FC_RUNS, expectError, layoutArb, makeTensor, numelOf, shapeArb, unravel } from './support/refs.js';
import { withDType } from './support/relayout.js';
import { metaOnSymbolicSizes } from './support/symbolic.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

/** PyTorch's casts, written out: truncation toward zero into int32 (with 32-bit wrap), nonzero/NaN → true. */
function refCast(v: number, dtype: DType): number {
  switch (dtype) {
    case 'bool': return v !== 0 ? 1 : 0;
    case 'int32': return Number.isFinite(v) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(v)))) : 0;
    case 'float32': return Math.fround(v);
    case 'float64': return v;
    default: return dtype satisfies never;
  }
}

const To = suite('conversion: to');

To('returns the tensor itself when the dtype already matches (copy: true makes a new one)', () => {
  const x = tensor([1.5, 2]);
  assert.ok(x.to('float32') === x);
  const y = x.to('float32', { copy: true });
  assert.ok(y !== x);
  assert.equal(values(y), values(x));
  y.fill_(0);
  assert.equal(values(x), [1.5, 2], 'the copy is independent');
});

To('float → int32 truncates toward zero; anything nonzero (NaN too) → true; bool → numbers 0/1', () => {
  assert.equal(values(tensor([-1.7, -0.5, 0.5, 2.9]).to('int32')), [-1, 0, 0, 2]);
  assert.equal(tensor([0, -0.0, 0.1, NaN, -3]).to('bool').toArray(), [false, false, true, true, true]);
  assert.equal(values(tensor([true, false]).to('float64')), [1, 0]);
  assert.equal(values(tensor([7, -2]).to('bool').to('int32')), [1, 1]);
  assert.equal(values(tensor([1 / 3], { dtype: 'float64' }).to('float32')), [Math.fround(1 / 3)]);
  assert.equal(values(tensor([16777217]).to('float32')), [16777216], 'int32 → float32 rounds');
  assert.is(to(tensor([1]), 'float64').dtype, 'float64');
});

To('keeps the shape of non-contiguous and 0-dim inputs', () => {
  const x = tensor([[1.25, 2.5], [3.75, 4]]).transpose(0, 1);
  const r = x.to('int32');
  assert.equal(r.toArray(), [[1, 3], [2, 4]]);
  assert.equal(tensor(2.5).to('float64').shape, []);
});

To('errors: an unknown dtype, a missing dtype', () => {
  expectError(() => to(tensor([1]), 'float16' as DType), KilnTypeError, 'to', "'dtype'", 'float16');
  expectError(() => tensor([1]).to(null), KilnTypeError, 'to', "'dtype'", 'null');
});

To('property: every dtype pair over random layouts matches the written-out cast', () => {
  const dtypeArb = fc.constantFrom(...DTYPES);
  const valueArb = fc.oneof(fc.double({ min: -1e10, max: 1e10 }), fc.constantFrom(NaN, 0, -0, 0.5, -2.5, 3e9));
  fc.assert(
    fc.property(shapeArb(3, 3), layoutArb, dtypeArb, dtypeArb, fc.array(valueArb, { minLength: 1, maxLength: 64 }), (shape, layout, from, target, pool) => {
      const flat = Array.from({ length: numelOf(shape) }, (_, i) => pool[i % pool.length]!);
      const src = withDType(makeTensor(flat, shape, layout), from);
      const r = src.to(target);
      if (from === target) assert.ok(r === src);
      assert.is(r.dtype, target);
      assert.equal(r.shape, shape);
      assert.equal(values(r), values(src).map((v) => refCast(v, target)));
    }),
    FC_RUNS,
  );
});
const Nonzero = suite('conversion: nonzero');

Nonzero('one int32 row of coordinates per nonzero element, row-major order', () => {
  const r = tensor([[0, 1.5], [2, 0]]).nonzero();
  assert.is(r.dtype, 'int32');
  assert.equal(r.toArray(), [[0, 1], [1, 0]]);
  assert.equal(nonzero(tensor([0, NaN, -0, 3])).toArray(), [[1], [3]], 'NaN is nonzero, -0 is zero');
  assert.equal(nonzero(tensor([false, true])).toArray(), [[1]]);
  assert.equal(nonzero(zeros([2, 3])).shape, [0, 2]);
  assert.equal(nonzero(zeros([0, 3])).shape, [0, 2]);
  assert.equal(nonzero(tensor(5)).shape, [1, 0], 'a nonzero 0-dim tensor gives one empty row');
  assert.equal(nonzero(tensor(0)).shape, [0, 0]);
});

Nonzero('is marked data-dependent; its meta asks the context for the row count', () => {
  const op = getOp('nonzero')!;
  assert.ok(op.dataDependent);
  const asked: string[] = [];
  const ctx: MetaContext = {
    dataDependentSize: (name, what) => {
      asked.push(`${name}: ${what}`);
      return 42;
    },
    dataDependentScalar: () => null,
  };
  const meta = op.meta!([zeros([2, 3])], ctx) as { shape: unknown[]; dtype: string };
  assert.equal(meta.shape, [42, 2]);
  assert.is(meta.dtype, 'int32');
  assert.is(asked.length, 1);
  assert.ok(asked[0]!.startsWith('nonzero'));
});

Nonzero('property: matches a naive scan over random layouts', () => {
  fc.assert(
    fc.property(shapeArb(3, 4), layoutArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), (shape, layout, bits) => {
      const flat = Array.from({ length: numelOf(shape) }, (_, i) => (bits[i % bits.length]! ? i + 1 : 0));
      const r = makeTensor(flat, shape, layout).nonzero();
      const expected = flat.flatMap((v, i) => (v !== 0 ? unravel(i, shape) : []));
      assert.equal(r.shape, [flat.filter((v) => v !== 0).length, shape.length]);
      assert.equal(values(r), expected);
    }),
    FC_RUNS,
  );
});

const Item = suite('conversion: item');

Item('the single element as a JS number, or a boolean for bool tensors', () => {
  assert.is(tensor(3).item(), 3);
  assert.is(tensor([[2.5]]).item(), 2.5);
  assert.is(tensor([0.1]).item(), Math.fround(0.1), 'a float32 value as stored');
  assert.is(tensor([0.1], { dtype: 'float64' }).item(), 0.1);
  assert.is(tensor(true).item(), true);
  assert.is(tensor([false]).item(), false);
  assert.is(tensor([[1, 2], [3, 4]]).transpose(0, 1).select(0, 1).select(0, 0).item(), 2, 'through a view');
});

Item('more or fewer than one element is a ValueError naming the shape', () => {
  expectError(() => tensor([1, 2]).item(), ValueError, 'item', '[2]', '2 elements');
  expectError(() => zeros([0, 3]).item(), ValueError, 'item', '[0, 3]');
});

Item('is a data-dependent method only, not a public function', () => {
  const op = getOp('item')!;
  assert.ok(op.method && op.dataDependent);
  assert.is(op.publicFunction, false);
  assert.equal(op.meta!([tensor([1.5])], eagerMetaContext), { scalar: 'float32' });
});

To.run();
Nonzero.run();
Item.run();

const Symbolic = suite('conversion: meta functions over symbolic sizes');

Symbolic('property: to keeps the symbolic shape; nonzero has ndim columns; item checks the element count', () => {
  fc.assert(
    fc.property(shapeArb(3, 4), fc.constantFrom(...DTYPES), (shape, dtype) => {
      const x = zeros(shape);
      assert.equal(metaOnSymbolicSizes('to', [x, dtype, false]), { shapes: [shape], dtypes: [dtype], symbolic: shape.some((s) => s > 1) });
      assert.equal(metaOnSymbolicSizes('nonzero', [x]).shapes, [[-1, shape.length]], 'eager context: row count unknown');
      if (numelOf(shape) !== 1) expectError(() => metaOnSymbolicSizes('item', [x]), ValueError, 'item');
    }),
    FC_RUNS,
  );
});

Symbolic.run();
