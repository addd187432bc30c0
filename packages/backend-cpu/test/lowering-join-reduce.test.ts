// cat / stack and the truth and values+indices reductions (all, any, max/min with dim), through the CPU
// backend against eager: odd and size-0/1 shapes, transposed and broadcast inputs, every dtype, and one
// program reused across input sizes (symbolic sizes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { checkAgainstEager, randomTensor } from './lowering-check.js';

k.manualSeed(7);
const DTYPES = ['float32', 'int32', 'bool'] as const;

const join = suite('cat and stack through the CPU backend');

join('cat along each dim matches eager, one program for several sizes', () => {
  for (const dim of [0, 1, 2, -1]) {
    checkAgainstEager((a, b, c) => k.cat([a, b, c], dim), [
      [randomTensor([2, 3, 5]), randomTensor([2, 3, 5]), randomTensor([2, 3, 5])],
      [randomTensor([4, 7, 9]), randomTensor([4, 7, 9]), randomTensor([4, 7, 9])],
      [randomTensor([1, 1, 1]), randomTensor([1, 1, 1]), randomTensor([1, 1, 1])],
    ], { lowered: ['cat'] });
  }
});

join('cat with sizes that differ along dim, including 0 and 1, and symbolic', () => {
  checkAgainstEager((a, b) => k.cat([a, b], 1), [
    [randomTensor([3, 4]), randomTensor([3, 7])],
    [randomTensor([3, 0]), randomTensor([3, 5])],
    [randomTensor([2, 1]), randomTensor([2, 0])],
  ], { lowered: ['cat'] });
});

join('cat of transposed, broadcast and computed inputs fuses their producers', () => {
  const report = checkAgainstEager((a, b) => k.cat([a.transpose(0, 1).exp(), b.expand([5, 3]).mul(2), a.transpose(0, 1).sum(1, true).expand([5, 3])], 0), [
    [randomTensor([3, 5]), randomTensor([1, 3])],
  ], { lowered: ['cat'], dynamic: false });
  assert.ok(report.kernels <= 4, `at most one kernel per input plus the sum: ${report.kernels}`);
});

join('cat promotes dtypes (bool, int32, float32) as eager', () => {
  for (const [da, db] of [['bool', 'int32'], ['int32', 'float32'], ['bool', 'float32'], ['bool', 'bool'], ['int32', 'int32']] as const) {
    checkAgainstEager((a, b) => k.cat([a, b], 0), [[randomTensor([2, 5], da), randomTensor([3, 5], db)]], { lowered: ['cat'] });
  }
});

join('cat skips empty 1-D inputs (legacy rule) and feeds a consumer', () => {
  checkAgainstEager((a, b) => k.cat([b, a], 0).relu().add(1), [[randomTensor([4, 3]), randomTensor([0])]], { lowered: ['cat'], dynamic: false });
});

join('stack along each dim matches eager for each dtype', () => {
  for (const dtype of DTYPES) {
    for (const dim of [0, 1, 2]) {
      checkAgainstEager((a, b) => k.stack([a, b.mul(1)], dim), [
        [randomTensor([3, 4], dtype), randomTensor([3, 4], dtype)],
        [randomTensor([1, 6], dtype), randomTensor([1, 6], dtype)],
      ], { lowered: ['stack', 'cat'] });
    }
  }
});

const truth = suite('all, any, and amax/amin over bool');

truth('all and any over a dim, all dims, and keepdim match eager for each dtype', () => {
  for (const dtype of DTYPES) {
    for (const op of ['all', 'any'] as const) {
      checkAgainstEager((x) => x[op](1), [[randomTensor([3, 5], dtype)], [randomTensor([4, 1], dtype)], [randomTensor([2, 9], dtype)]], { lowered: [op] });
      checkAgainstEager((x) => x.transpose(0, 1)[op](), [[randomTensor([3, 5], dtype)], [randomTensor([1, 1], dtype)]], { lowered: [op] });
      checkAgainstEager((x) => x[op](0, true), [[randomTensor([6, 5], dtype)]], { lowered: [op] });
    }
  }
});

truth('all of nothing is true and any of nothing is false', () => {
  // Size-0 dims are specialized when traced: one program per shape.
  for (const shape of [[3, 0], [0, 4]]) {
    checkAgainstEager((x) => [x.all(1), x.any(1), x.all(), x.any()], [[randomTensor(shape, 'bool')]], { lowered: ['all', 'any'] });
  }
});

truth('all/any of a computed mask and NaN (nonzero) match eager', () => {
  checkAgainstEager((x) => [x.gt(0).all(-1), x.any(-1)], [[k.tensor([[NaN, 1, 2], [0, 0, 0], [1, -0, 3]])]], { lowered: ['all', 'any', 'gt'] });
});

truth('amax and amin of a bool tensor match eager', () => {
  checkAgainstEager((x) => [x.amax(1), x.amin(0)], [[randomTensor([4, 6], 'bool')]], { lowered: ['amax', 'amin'] });
});

const indices = suite('max and min with dim (values and indices)');

indices('max/min values and indices match eager for float32 and int32, with keepdim', () => {
  for (const dtype of ['float32', 'int32'] as const) {
    for (const op of ['max', 'min'] as const) {
      checkAgainstEager((x) => { const r = x[op](1); return [r.values, r.indices]; }, [[randomTensor([3, 7], dtype)], [randomTensor([5, 1], dtype)], [randomTensor([1, 12], dtype)]], { lowered: [op] });
      checkAgainstEager((x) => { const r = x[op](0, true); return [r.values.add(1), r.indices]; }, [[randomTensor([4, 3, 2], dtype)]], { lowered: [op] });
    }
  }
});

indices('max/min over a transposed input, bool input, NaN rows, and with no dim', () => {
  checkAgainstEager((x) => { const r = x.transpose(0, 1).max(-1); return [r.values, r.indices]; }, [[randomTensor([6, 3])], [randomTensor([2, 9])]], { lowered: ['max'] });
  checkAgainstEager((x) => { const r = x.min(1); return [r.values, r.indices]; }, [[randomTensor([5, 4], 'bool')]], { lowered: ['min'] });
  checkAgainstEager((x) => { const r = x.max(1); return [r.values, r.indices]; }, [[k.tensor([[1, NaN, 3], [2, 5, 5], [-1, -1, -2]])]], { lowered: ['max'] });
  checkAgainstEager((x) => [x.max(), x.min()], [[randomTensor([3, 5])]], { lowered: ['max', 'min'] });
});

join.run();
truth.run();
indices.run();

const scan = suite('cumsum as a sequential scan');

scan('cumsum along each dim of random shapes (sizes 0 and 1 included) matches eager', () => {
  for (const shape of [[5, 7], [1, 9], [9, 1], [0, 4], [4, 0], [3, 200], [130, 6], [2, 3, 5], [17]]) {
    for (let dim = -shape.length; dim < shape.length; dim++) {
      // Eager sums in float64, the kernel in float32: partial sums drift by about n·ε (n up to 200 here).
      const tol = Math.max(1e-5, shape.at(dim)! * 2e-7);
      const report = checkAgainstEager((x) => x.cumsum(dim), [[randomTensor(shape)]], { lowered: ['cumsum'], dynamic: false, tol });
      assert.not.match(report.code!, /^eager /m, `[${shape}] dim ${dim}`);
    }
  }
});

scan('int32 and bool inputs scan in int32 (eager\'s dtype), and int32 → float32 on request', () => {
  checkAgainstEager((x) => x.cumsum(1), [[randomTensor([4, 33], 'int32')]], { lowered: ['cumsum'], dynamic: false });
  checkAgainstEager((x) => x.cumsum(0), [[randomTensor([70, 5], 'bool')]], { lowered: ['cumsum'], dynamic: false });
  checkAgainstEager((x) => x.cumsum(0, { dtype: 'float32' }), [[randomTensor([6, 3], 'int32')]], { lowered: ['cumsum'], dynamic: false });
  assert.is(k.cumsum(k.tensor([true, false, true]), 0).dtype, 'int32');
});

scan('non-contiguous inputs (transposed, sliced) and fused producers and consumers', () => {
  checkAgainstEager((x) => x.transpose(0, 1).cumsum(1).exp(), [[randomTensor([9, 4])]], { lowered: ['cumsum'], dynamic: false, tol: 1e-4 });
  checkAgainstEager((x) => x.slice(1, 1, 7, 2).mul(2).cumsum(0), [[randomTensor([11, 8])]], { lowered: ['cumsum'], dynamic: false });
  checkAgainstEager((x) => x.permute([2, 0, 1]).cumsum(1).sum(0), [[randomTensor([3, 5, 6])]], { lowered: ['cumsum'], dynamic: false, tol: 1e-4 });
});

scan('symbolic sizes: one program serves every length, including 0 and 1', () => {
  const sets = [[randomTensor([5, 3])], [randomTensor([300, 3])], [randomTensor([2, 3])], [randomTensor([7, 9])]];
  checkAgainstEager((x) => x.cumsum(0), sets, { lowered: ['cumsum'], tol: 1e-5 });
  checkAgainstEager((x) => x.cumsum(-1), sets, { lowered: ['cumsum'], tol: 1e-5 });
  // Eager keeps its running sum in float64; over 1000 float32 steps the partial sums drift by ~n·ε·|sum|.
  checkAgainstEager((x) => x.cumsum(0), [[randomTensor([6])], [randomTensor([1000])], [randomTensor([3])]], { lowered: ['cumsum'], tol: 1e-4 });
});

scan.run();
