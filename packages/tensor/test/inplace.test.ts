import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  KilnTypeError, ShapeError, Tensor, ValueError, add_, arange, clamp_, copy_, div_, fill_, getOp, maskedFill_, mul_, ones, runEager, sub_,
  tensor, zero_, zeros,
} from '@kiln/tensor';

import { FC_RUNS, expectError, layoutArb, makeTensor, ravel, shapeArb, unravel, valuesFor } from './support/refs.js';
import type { Layout } from './support/refs.js';
import { withDType } from './support/relayout.js';
import { metaOnSymbolicSizes } from './support/symbolic.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

const Arithmetic = suite('inplace: add_ sub_ mul_ div_');

Arithmetic('update self and return it; scalars and alpha as in the out-of-place ops', () => {
  const x = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
  assert.ok(x.add_(1) === x);
  assert.equal(x.toArray(), [[2, 3], [4, 5]]);
  assert.ok(x.sub_(tensor([1, 2]), { alpha: 2 }) === x);
  assert.equal(x.toArray(), [[0, -1], [2, 1]]);
  assert.ok(mul_(x, tensor([[2], [3]])) === x);
  assert.equal(x.toArray(), [[0, -2], [6, 3]]);
  assert.ok(div_(x, 4) === x);
  assert.equal(x.toArray(), [[0, -0.5], [1.5, 0.75]]);
  const i = tensor([5, 7]);
  i.add_(tensor([1, 2]), { alpha: 3 }).mul_(2);
  assert.equal(i.toArray(), [16, 26]);
  assert.is(i.dtype, 'int32');
});

Arithmetic('a wider result is cast back into self: float32 self with a float64 other rounds', () => {
  const x = tensor([1], { dtype: 'float32' });
  x.add_(tensor([1e-10], { dtype: 'float64' }));
  assert.equal(values(x), [Math.fround(1 + 1e-10)]);
  const f = tensor([0.5, 1.5]);
  f.mul_(tensor([2, 3]));
  assert.equal(f.toArray(), [1, 4.5], 'an int32 other into float32 self is fine');
  const b = tensor([true, false]);
  b.add_(tensor([false, false]));
  assert.equal(b.toArray(), [true, false], 'bool + bool stays bool');
});

Arithmetic('a result dtype that cannot be cast into self is a KilnTypeError naming op and dtypes', () => {
  expectError(() => tensor([1, 2]).add_(1.5), KilnTypeError, 'add_', 'float32', 'int32');
  expectError(() => tensor([1, 2]).sub_(tensor([0.5, 1])), KilnTypeError, 'sub_', 'float32', 'int32');
  expectError(() => tensor([4, 2]).div_(2), KilnTypeError, 'div_', 'float32', 'int32');
  expectError(() => tensor([true]).add_(1), KilnTypeError, 'add_', 'int32', 'bool');
  expectError(() => tensor([1, 2]).add_(tensor([1, 1]), { alpha: 0.5 }), KilnTypeError, 'add_', 'alpha=0.5');
  assert.equal(tensor([1, 2], { dtype: 'float32' }).add_(tensor([1, 1]), { alpha: 0.5 }).toArray(), [1.5, 2.5]);
  const x = tensor([1, 2]);
  try {
    x.add_(0.5);
  } catch {
    // expected
  }
  assert.equal(x.toArray(), [1, 2], 'a failed in-place op leaves self untouched');
});

Arithmetic('other broadcasts to self, never self to other', () => {
  const x = zeros([2, 3]);
  x.add_(tensor([1, 2, 3]));
  assert.equal(x.toArray(), [[1, 2, 3], [1, 2, 3]]);
  expectError(() => zeros([3]).add_(ones([2, 3])), ShapeError, 'add_', "'other'", '[2, 3]', "self's shape [3]");
  expectError(() => zeros([1, 3]).mul_(ones([2, 3])), ShapeError, 'mul_', '[1, 3]');
  expectError(() => zeros([2, 3]).add_(ones([2])), ShapeError, 'add_', '[2]', '[2, 3]');
});

/** The storage positions a tensor covers. */
function offsetsOf(t: Tensor): Set<number> {
  const set = new Set<number>();
  for (let i = 0; i < t.numel; i++) set.add(t.offset + unravel(i, t.shape).reduce((a, k, d) => a + k * t.strides[d]!, 0));
  return set;
}

type BinaryName = 'add_' | 'sub_' | 'mul_' | 'div_';
const ops: Record<BinaryName, { apply: (x: Tensor, y: Tensor) => Tensor; ref: (a: number, b: number) => number }> = {
  add_: { apply: (x, y) => add_(x, y, { alpha: 2 }), ref: (a, b) => a + 2 * b },
  sub_: { apply: (x, y) => sub_(x, y), ref: (a, b) => a - b },
  mul_: { apply: (x, y) => mul_(x, y), ref: (a, b) => a * b },
  div_: { apply: (x, y) => div_(x, y), ref: (a, b) => a / b },
};

Arithmetic('property: writes the reference result through any layout and touches nothing else', () => {
  fc.assert(
    fc.property(
      shapeArb(3, 3),
      layoutArb,
      layoutArb,
      fc.constantFrom(...(Object.keys(ops) as BinaryName[])),
      fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 0, max: 3 }),
      (shape, selfLayout, otherLayout, name, ones1, drop) => {
        const otherShape = shape.slice(Math.min(drop, shape.length)).map((s, i) => (ones1[i] ? 1 : s));
        const otherFlat = valuesFor(otherShape).map((v) => v + 0.5);
        const self = makeTensor(valuesFor(shape), shape, selfLayout);
        const before = Array.from(self.storage.data);
        const covered = offsetsOf(self);
        const result = ops[name].apply(self, makeTensor(otherFlat, otherShape, otherLayout));
        assert.ok(result === self);
        const lead = shape.length - otherShape.length;
        const expected = valuesFor(shape).map((v, i) => {
          const idx = unravel(i, shape);
          const o = otherFlat[ravel(otherShape.map((s, d) => (s === 1 ? 0 : idx[d + lead]!)), otherShape)]!;
          return ops[name].ref(v, o);
        });
        assert.equal(values(self), expected);
        const after = self.storage.data;
        for (let k = 0; k < before.length; k++) if (!covered.has(k)) assert.is(after[k], before[k], `storage[${k}] outside self changed`);
      },
    ),
    FC_RUNS,
  );
});

const DTYPE_ORDER = ['bool', 'int32', 'float32', 'float64'] as const;
type D = (typeof DTYPE_ORDER)[number];
const isFloat = (d: D) => d === 'float32' || d === 'float64';
/** Written out from PyTorch: the promoted dtype of two dimensioned tensors, with div always floating. */
function refResultDtype(name: BinaryName, a: D, b: D): D {
  const promoted = DTYPE_ORDER[Math.max(DTYPE_ORDER.indexOf(a), DTYPE_ORDER.indexOf(b))]!;
  return name === 'div_' && !isFloat(promoted) ? 'float32' : promoted;
}
/** PyTorch's can_cast, written out. */
const refCanCast = (from: D, to: D) => !(isFloat(from) && !isFloat(to)) && !(from !== 'bool' && to === 'bool');
const refStore = (v: number, d: D) => (d === 'bool' ? (v !== 0 ? 1 : 0) : d === 'int32' ? Math.trunc(v) | 0 : d === 'float32' ? Math.fround(v) : v);

Arithmetic('property: over dtype pairs, the result is cast into self exactly when PyTorch allows it', () => {
  const dtypeArb = fc.constantFrom(...DTYPE_ORDER);
  fc.assert(
    fc.property(shapeArb(2, 3).filter((s) => s.length > 0), layoutArb, dtypeArb, dtypeArb, fc.constantFrom(...(Object.keys(ops) as BinaryName[])), (shape, layout, selfDtype, otherDtype, name) => {
      const selfValues = valuesFor(shape).map((v) => refStore(v % 3 === 0 ? v / 4 : v, selfDtype));
      const otherValues = valuesFor(shape).map((v) => refStore(v % 2 === 0 ? 3 : 0.75, otherDtype));
      const self = withDType(makeTensor(selfValues, shape, layout), selfDtype);
      const other = withDType(makeTensor(otherValues, shape, layout), otherDtype);
      const result = refResultDtype(name, selfDtype, otherDtype);
      if (!refCanCast(result, selfDtype)) {
        expectError(() => ops[name].apply(self, other), KilnTypeError, name, result, selfDtype);
        assert.equal(values(self), selfValues, 'untouched');
        return;
      }
      ops[name].apply(self, other);
      const expected = selfValues.map((a, i) => refStore(refStore(ops[name].ref(a, otherValues[i]!), result), selfDtype));
      assert.equal(values(self), expected);
    }),
    FC_RUNS,
  );
});

const Aliasing = suite('inplace: views, strides and overlap');

Aliasing('writing into a view writes into its base and into every other view', () => {
  const base = arange(6).reshape([2, 3]);
  const row = base.select(0, 1);
  const col = base.select(1, 2);
  row.add_(10);
  assert.equal(base.toArray(), [[0, 1, 2], [13, 14, 15]]);
  assert.equal(col.toArray(), [2, 15]);
  base.transpose(0, 1).narrow(0, 0, 1).mul_(-1);
  assert.equal(base.toArray(), [[0, 1, 2], [-13, 14, 15]]);
  assert.equal(row.toArray(), [-13, 14, 15]);
});

Aliasing('an operand overlapping self is read in full before any write', () => {
  const x = tensor([[1, 2], [3, 4]]);
  x.add_(x.transpose(0, 1));
  assert.equal(x.toArray(), [[2, 5], [5, 8]]);
  const y = arange(5);
  y.slice(0, 1).copy_(y.slice(0, 0, 4));
  assert.equal(y.toArray(), [0, 0, 1, 2, 3], 'a shifted copy onto itself acts like a copy from a snapshot');
  const z = tensor([1, 2, 3]);
  z.mul_(z);
  assert.equal(z.toArray(), [1, 4, 9]);
});

Aliasing('writing into an expanded tensor (stride 0) is an error', () => {
  const e = tensor([1, 2]).expand([3, 2]);
  expectError(() => e.add_(1), ValueError, 'add_', 'stride 0', '[3, 2]');
  expectError(() => e.fill_(0), ValueError, 'fill_');
  expectError(() => zero_(e), ValueError, 'zero_');
  const one = tensor([5]).expand([1, 1]);
  one.add_(1);
  assert.equal(one.toArray(), [[6]], 'a stride-0 dim of size 1 is writable');
  const empty = zeros([2, 0]);
  assert.ok(empty.add_(1) === empty, 'so is a tensor with no elements (its contiguous strides contain 0)');
});

const Fill = suite('inplace: fill_ zero_ copy_ maskedFill_ clamp_');

Fill('fill_ and zero_ write one value through self, cast like PyTorch (1.9 into int32 is 1)', () => {
  const x = arange(6).reshape([2, 3]);
  x.slice(1, 1).fill_(1.9);
  assert.equal(x.toArray(), [[0, 1, 1], [3, 1, 1]]);
  assert.ok(x.fill_(tensor(7.5)) === x);
  assert.equal(x.toArray(), [[7, 7, 7], [7, 7, 7]]);
  const b = tensor([true, false]);
  b.fill_(0.5);
  assert.equal(b.toArray(), [true, true]);
  assert.ok(fill_(b, false) === b);
  assert.equal(b.toArray(), [false, false]);
  const f = ones([2, 2]).transpose(0, 1);
  assert.ok(zero_(f) === f);
  assert.equal(f.toArray(), [[0, 0], [0, 0]]);
  expectError(() => x.fill_(tensor([1, 2])), ShapeError, 'fill_', "'value'", '[2]');
});

Fill('copy_ broadcasts src to self and casts it, any dtype to any dtype', () => {
  const x = zeros([2, 3], { dtype: 'int32' });
  assert.ok(x.copy_(tensor([1.9, -1.9, 2.5])) === x);
  assert.equal(x.toArray(), [[1, -1, 2], [1, -1, 2]]);
  const b = zeros([3], { dtype: 'bool' });
  copy_(b, tensor([0, NaN, 0.25]));
  assert.equal(b.toArray(), [false, true, true]);
  const t = zeros([3, 2]);
  t.transpose(0, 1).copy_(tensor([[1, 2, 3], [4, 5, 6]]));
  assert.equal(t.toArray(), [[1, 4], [2, 5], [3, 6]]);
  expectError(() => zeros([3]).copy_(ones([2, 3])), ShapeError, 'copy_', "'src'", '[2, 3]');
  expectError(() => zeros([3]).copy_(ones([2])), ShapeError, 'copy_', '[2]', '[3]');
});

Fill('maskedFill_ fills through self where the mask (broadcast to self) is true', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.ok(x.maskedFill_(tensor([true, false, true]), -1) === x);
  assert.equal(x.toArray(), [[-1, 2, -1], [-1, 5, -1]]);
  maskedFill_(x.transpose(0, 1), x.transpose(0, 1).gt(4), 2.7);
  assert.equal(x.toArray(), [[-1, 2, -1], [-1, 2, -1]]);
  expectError(() => x.maskedFill_(tensor([[[true]], [[false]]]), 0), ShapeError, 'maskedFill_', "'mask'", '[2, 1, 1]');
  expectError(() => x.maskedFill_(tensor([1, 0, 1]), 0), KilnTypeError, 'maskedFill_', 'bool');
});

Fill('clamp_ clamps in place; a float bound on an int tensor is a dtype error', () => {
  const x = tensor([-3, 0, 5]);
  assert.ok(x.clamp_(-1, 2) === x);
  assert.equal(x.toArray(), [-1, 0, 2]);
  const f = tensor([NaN, -2, 9]);
  clamp_(f, null, 1);
  assert.equal(values(f).map(String), ['NaN', '-2', '1']);
  expectError(() => x.clamp_(0.5), KilnTypeError, 'clamp_', 'float32', 'int32');
  expectError(() => x.clamp_(), KilnTypeError, 'clamp_:', 'min and max');
});

Fill('property: every in-place op’s decomposition (out-of-place op + copy_) has the same effect', () => {
  type Case = [string, (self: Tensor) => unknown[]];
  const cases: Case[] = [
    ['add_', (s) => [s, tensor(3), 2]],
    ['sub_', (s) => [s, 1.5, 1]],
    ['mul_', (s) => [s, -2]],
    ['div_', (s) => [s, 4]],
    ['clamp_', (s) => [s, 2, 5]],
    ['fill_', (s) => [s, 0.25]],
    ['zero_', (s) => [s]],
    ['maskedFill_', (s) => [s, s.gt(3), -7]],
  ];
  fc.assert(
    fc.property(shapeArb(3, 3), layoutArb, fc.constantFrom(...cases), (shape, layout: Layout, [name, argsFor]) => {
      const op = getOp(name)!;
      const viaKernel = makeTensor(valuesFor(shape), shape, layout);
      const viaDecomposition = makeTensor(valuesFor(shape), shape, layout);
      const r1 = runEager(op, argsFor(viaKernel));
      const r2 = op.decompose!(argsFor(viaDecomposition));
      assert.ok(r1 === viaKernel && r2 === viaDecomposition, `${name} returns self`);
      assert.equal(values(viaDecomposition), values(viaKernel), name);
      assert.equal(Array.from(viaDecomposition.storage.data), Array.from(viaKernel.storage.data), `${name}: whole storage`);
    }),
    FC_RUNS,
  );
});

Fill('property: int32 self with int operands stays exact; float operands are refused', () => {
  fc.assert(
    fc.property(shapeArb(3, 3), layoutArb, fc.integer({ min: -5, max: 5 }), (shape, layout, k) => {
      const self = withDType(makeTensor(valuesFor(shape), shape, layout), 'int32');
      self.mul_(k).add_(k);
      assert.equal(values(self), valuesFor(shape).map((v) => v * k + k));
      expectError(() => self.add_(k + 0.5), KilnTypeError, 'add_');
      assert.equal(values(self), valuesFor(shape).map((v) => v * k + k), 'the refused op left self untouched');
    }),
    FC_RUNS,
  );
});

Arithmetic.run();
Aliasing.run();
Fill.run();

const Symbolic = suite('inplace: meta functions over symbolic sizes');

Symbolic('property: in-place metas on symbolic sizes describe self and check broadcasting', () => {
  fc.assert(
    fc.property(shapeArb(3, 4).filter((s) => s.length > 0), (shape) => {
      const self = zeros(shape);
      const row = zeros(shape.slice(1));
      const mask = zeros(shape.slice(1), { dtype: 'bool' });
      const cases: [string, unknown[]][] = [
        ['add_', [self, row, 1]],
        ['mul_', [self, row]],
        ['copy_', [self, row]],
        ['maskedFill_', [self, mask, 0]],
        ['clamp_', [self, 0, 1]],
        ['fill_', [self, 2]],
        ['zero_', [self]],
      ];
      for (const [name, args] of cases) {
        const meta = metaOnSymbolicSizes(name, args);
        assert.equal(meta.shapes, [shape], name);
        assert.equal(meta.dtypes, ['float32'], name);
      }
      if (shape.length >= 2 && shape[0]! > 1) {
        expectError(() => metaOnSymbolicSizes('add_', [row, self, 1]), ShapeError, 'add_');
      }
    }),
    FC_RUNS,
  );
});

Symbolic.run();
