import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IndexError, ShapeError, Tensor, ViewError, arange, tensor, zeros } from '@kiln/tensor';
import { expectError } from './support/refs.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());
const grid = () => arange(12).reshape([3, 4]); // [[0..3], [4..7], [8..11]]

const Hand = suite('views: each view op by hand, sharing storage');

Hand('reshape and view of contiguous data share storage; -1 is inferred', () => {
  const x = grid();
  const r = x.reshape([2, -1]);
  assert.equal(r.shape, [2, 6]);
  assert.ok(r.storage === x.storage);
  assert.equal(r.toArray(), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]);
  const v = x.view([4, 3]);
  assert.ok(v.storage === x.storage);
  assert.equal(v.toArray(), [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]);
  assert.equal(tensor(5).reshape([1, 1]).toArray(), [[5]]);
  assert.equal(x.reshape([12]).reshape([3, 2, 2]).select(2, 1).toArray(), [[1, 3], [5, 7], [9, 11]]);
});

Hand('reshape of non-viewable data copies; view of it throws a ViewError', () => {
  const t = grid().transpose(0, 1); // [4, 3], strides [1, 4]
  const r = t.reshape([12]);
  assert.ok(r.storage !== t.storage, 'a transposed tensor cannot be flattened without a copy');
  assert.equal(values(r), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  const err = expectError(() => t.view([12]), ViewError, 'view:', '[12]', '[4, 3]', 'strides [1, 4]');
  assert.match(err.message, /reshape|contiguous/, 'the hint says what to do');
  // Some non-contiguous tensors can still be viewed: splitting a dim keeps its stride pattern.
  const s = t.view([2, 2, 3]);
  assert.ok(s.storage === t.storage);
  assert.equal(s.toArray(), [[[0, 4, 8], [1, 5, 9]], [[2, 6, 10], [3, 7, 11]]]);
  assert.ok(t.reshape([2, 2, 3]).storage === t.storage, 'reshape views when it can, even when non-contiguous');
});

Hand('permute and transpose', () => {
  const x = arange(24).reshape([2, 3, 4]);
  const p = x.permute([2, 0, 1]);
  assert.equal(p.shape, [4, 2, 3]);
  assert.equal(p.strides, [1, 12, 4]);
  assert.ok(p.storage === x.storage);
  assert.equal((p.toArray() as number[][][])[3]![1]![2], x.select(0, 1).select(0, 2).select(0, 3).toArray());
  assert.equal(x.permute([-1, 0, 1]).shape, [4, 2, 3]);
  assert.equal(grid().transpose(0, 1).toArray(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  assert.equal(grid().transpose(-1, -2).shape, [4, 3]);
  assert.equal(tensor(3).transpose(0, -1).shape, [], 'a 0-dim tensor transposes to itself');
  assert.equal(tensor(3).transpose(0, 0).toArray(), 3);
  expectError(() => x.permute([0, 1]), ShapeError, 'permute', '[2, 3, 4]');
  expectError(() => x.permute([0, 0, 1]), ShapeError, 'permute');
  expectError(() => x.transpose(0, 3), IndexError, 'transpose', 'dim1=3', 'rank 3');
});

Hand('expand broadcasts size-1 dims with stride 0 and adds leading dims', () => {
  const c = tensor([[1], [2]]);
  const e = c.expand([3, 2, 4]);
  assert.equal(e.shape, [3, 2, 4]);
  assert.equal(e.strides, [0, 1, 0]);
  assert.ok(e.storage === c.storage);
  assert.equal(e.select(0, 2).toArray(), [[1, 1, 1, 1], [2, 2, 2, 2]]);
  assert.equal(c.expand([-1, 3]).toArray(), [[1, 1, 1], [2, 2, 2]]);
  assert.equal(c.expand([2, 0]).shape, [2, 0]);
  expectError(() => c.expand([3, 3]), ShapeError, 'expand', '[2, 1]', '[3, 3]');
  expectError(() => c.expand([3]), ShapeError, 'expand');
  expectError(() => c.expand([-1, 2, 2]), ShapeError, 'expand');
  expectError(() => c.expand([2, -2]), ShapeError, 'expand', '-2');
});

Hand('slice and narrow, with negative bounds, clamping and steps', () => {
  const x = grid();
  const s = x.slice(1, 1, 3);
  assert.ok(s.storage === x.storage);
  assert.is(s.offset, 1);
  assert.equal(s.toArray(), [[1, 2], [5, 6], [9, 10]]);
  assert.equal(x.slice(1, -2).toArray(), [[2, 3], [6, 7], [10, 11]]);
  assert.equal(x.slice(0, 1, 100).shape, [2, 4]);
  assert.equal(x.slice(0, 2, 1).shape, [0, 4]);
  assert.equal(x.slice(1, 0, null, 3).toArray(), [[0, 3], [4, 7], [8, 11]]);
  assert.equal(x.slice(1, -100, -2).toArray(), [[0, 1], [4, 5], [8, 9]]);
  assert.equal(x.slice().toArray(), x.toArray(), 'defaults: dim 0, the whole range');
  // Options right after the last positional argument given: fine at run time, not yet in the method types.
  const sliceLoose = x.slice as (...args: unknown[]) => Tensor;
  assert.equal(sliceLoose.call(x, 1, { start: 2 }).toArray(), [[2, 3], [6, 7], [10, 11]], 'bounds by name');
  expectError(() => x.slice(1, 0, 4, 0), IndexError, 'slice', 'step');
  const n = x.narrow(0, 1, 2);
  assert.ok(n.storage === x.storage);
  assert.equal(n.toArray(), [[4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.equal(x.narrow(1, -1, 1).toArray(), [[3], [7], [11]]);
  assert.equal(x.narrow(0, 3, 0).shape, [0, 4]);
  expectError(() => x.narrow(0, 2, 2), IndexError, 'narrow', 'start=2', 'length=2', 'size 3');
});

Hand('select drops a dim; squeeze and unsqueeze', () => {
  const x = grid();
  const r = x.select(0, -1);
  assert.ok(r.storage === x.storage);
  assert.equal(r.toArray(), [8, 9, 10, 11]);
  assert.equal(x.select(1, 2).toArray(), [2, 6, 10]);
  assert.is(x.select(0, 1).select(0, 2).toArray(), 6);
  expectError(() => x.select(0, 3), IndexError, 'select', 'index 3', 'size 3');
  expectError(() => tensor(1).select(0, 0), IndexError, 'select', '0-dim');
  const y = zeros([1, 3, 1, 2]);
  assert.equal(y.squeeze().shape, [3, 2]);
  assert.equal(y.squeeze(2).shape, [1, 3, 2]);
  assert.equal(y.squeeze([0, 2]).shape, [3, 2]);
  assert.equal(y.squeeze(1).shape, [1, 3, 1, 2], 'squeezing a dim that is not 1 keeps it');
  assert.ok(y.squeeze().storage === y.storage);
  assert.equal(x.unsqueeze(0).shape, [1, 3, 4]);
  assert.equal(x.unsqueeze(-1).shape, [3, 4, 1]);
  assert.equal(x.unsqueeze(1).toArray(), [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]);
  assert.ok(x.unsqueeze(2).storage === x.storage);
  assert.equal(tensor(4).unsqueeze(0).toArray(), [4]);
  expectError(() => x.unsqueeze(3), IndexError, 'unsqueeze');
});

Hand('flatten views contiguous data and copies otherwise', () => {
  const x = arange(24).reshape([2, 3, 4]);
  assert.equal(x.flatten().shape, [24]);
  assert.ok(x.flatten().storage === x.storage);
  assert.equal(x.flatten(1).shape, [2, 12]);
  assert.equal(x.flatten(0, 1).shape, [6, 4]);
  assert.equal(tensor(7).flatten().toArray(), [7]);
  const t = x.transpose(0, 2);
  assert.ok(t.flatten().storage !== t.storage);
  assert.equal(values(t.flatten()), values(t));
  expectError(() => x.flatten(2, 1), IndexError, 'flatten');
});

Hand('contiguous copies only when needed; clone always gives new storage', () => {
  const x = grid();
  assert.ok(x.contiguous() === x, 'already contiguous: the same tensor');
  const t = x.transpose(0, 1);
  const c = t.contiguous();
  assert.ok(c.storage !== t.storage);
  assert.ok(c.isContiguous());
  assert.equal(c.toArray(), t.toArray());
  assert.not.ok(t.isContiguous());
  assert.ok(x.slice(0, 1).isContiguous(), 'a row slice with an offset is contiguous');
  assert.not.ok(x.slice(1, 1).isContiguous());
  for (const src of [x, t, x.slice(1, 1, 3), x.expand([2, 3, 4])]) {
    const k = src.clone();
    assert.ok(k.storage !== src.storage);
    assert.equal(k.toArray(), src.toArray());
    assert.equal(k.shape, src.shape);
  }
  assert.ok(x.clone().storage.sharesBufferWith(x.storage), 'a clone of contiguous data is lazy (copy-on-write)');
});

Hand.run();
