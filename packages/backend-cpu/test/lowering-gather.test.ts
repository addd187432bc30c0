// Indirect loads through the CPU backend against eager: gather, indexSelect, embedding (which decomposes
// to indexSelect) and oneHot, with strided and broadcast sources and indices, every source dtype, size-0
// and size-1 dims, symbolic sizes reused across calls, and out-of-range indices raising IndexError before
// any kernel reads through them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';
import { checkAgainstEager, randomIndices, randomTensor } from './lowering-check.js';

k.manualSeed(11);
const DTYPES = ['float32', 'int32', 'bool'] as const;

const select = suite('indexSelect and embedding through the CPU backend');

select('indexSelect along each dim matches eager for each dtype, one program for several sizes', () => {
  for (const dtype of DTYPES) {
    for (const dim of [0, 1, 2]) {
      checkAgainstEager((x, i) => x.indexSelect(dim, i), [
        [randomTensor([4, 5, 6], dtype), randomIndices([7], 4)],
        [randomTensor([3, 2, 9], dtype), randomIndices([5], 2)],
        [randomTensor([5, 3, 2], dtype), randomIndices([3], 2)],
      ], { lowered: ['indexSelect'] });
    }
  }
});

select('indexSelect of a transposed source, a computed index, a 0-dim index, and a consumer', () => {
  checkAgainstEager((x, i) => x.transpose(0, 1).indexSelect(1, i.add(1)).exp(), [[randomTensor([6, 4]), randomIndices([5], 5)]], { lowered: ['indexSelect'] });
  checkAgainstEager((x, i) => x.indexSelect(0, i).mul(2), [[randomTensor([3, 5]), k.tensor(2)]], { lowered: ['indexSelect'], dynamic: false });
  checkAgainstEager((x, i) => x.expand([4, 3]).indexSelect(0, i).sum(1), [[randomTensor([1, 3]), randomIndices([6], 4)]], { lowered: ['indexSelect'], dynamic: false });
});

select('indexSelect with size-0 and size-1 dims', () => {
  checkAgainstEager((x, i) => x.indexSelect(0, i), [[randomTensor([4, 3]), randomIndices([0], 4)]], { lowered: ['indexSelect'], dynamic: false });
  checkAgainstEager((x, i) => x.indexSelect(0, i), [[randomTensor([4, 0]), randomIndices([3], 4)]], { lowered: ['indexSelect'], dynamic: false });
  checkAgainstEager((x, i) => x.indexSelect(1, i), [[randomTensor([1, 1]), randomIndices([1], 1)]], { lowered: ['indexSelect'], dynamic: false });
});

select('embedding lowers to indexSelect (no fallback) and matches eager across sizes', () => {
  const report = checkAgainstEager((ids, w) => k.embedding(ids, w).mul(2), [
    [randomIndices([2, 5], 10), randomTensor([10, 8])],
    [randomIndices([3, 7], 13), randomTensor([13, 4])],
  ], { lowered: ['indexSelect', 'embedding', 'reshape', 'flatten'] });
  assert.is(report.eagerSteps.length, 0, JSON.stringify(report.eagerSteps));
});

const gather = suite('gather through the CPU backend');

gather('gather along each dim matches eager for each dtype and reuses the program', () => {
  for (const dtype of DTYPES) {
    for (const dim of [0, 1, -1]) {
      checkAgainstEager((x, i) => x.gather(dim, i), [
        [randomTensor([4, 6], dtype), randomIndices([3, 5], 4)],
        [randomTensor([7, 3], dtype), randomIndices([7, 3], 3)],
      ], { lowered: ['gather'] });
    }
  }
});

gather('gather from a transposed source with a computed index (argmax) fuses the position', () => {
  checkAgainstEager((x, y) => x.transpose(0, 1).gather(1, y.argmax(1, true)), [[randomTensor([5, 4]), randomTensor([4, 5])], [randomTensor([9, 2]), randomTensor([2, 9])]], { lowered: ['gather', 'argmax'] });
  checkAgainstEager((x, i) => x.gather(2, i).add(x.sum(2, true)), [[randomTensor([2, 3, 4]), randomIndices([2, 3, 1], 4)]], { lowered: ['gather'] });
});

gather('gather with size-0 and size-1 dims', () => {
  checkAgainstEager((x, i) => x.gather(1, i), [[randomTensor([3, 4]), randomIndices([3, 0], 4)]], { lowered: ['gather'], dynamic: false });
  checkAgainstEager((x, i) => x.gather(0, i), [[randomTensor([1, 5]), randomIndices([1, 5], 1)]], { lowered: ['gather'], dynamic: false });
});

const bounds = suite('out-of-range indices raise instead of reading out of bounds');

bounds('indexSelect, gather, embedding and oneHot raise IndexError with the bad index', () => {
  const cases: [string, (...a: k.Tensor[]) => k.Tensor, k.Tensor[], k.Tensor[]][] = [
    ['indexSelect', (x, i) => x.indexSelect(0, i), [randomTensor([4, 3]), randomIndices([5], 4)], [randomTensor([4, 3]), k.tensor([0, 4, 1])]],
    ['indexSelect', (x, i) => x.indexSelect(1, i), [randomTensor([4, 3]), randomIndices([5], 3)], [randomTensor([4, 3]), k.tensor([-1, 0])]],
    ['gather', (x, i) => x.gather(1, i), [randomTensor([4, 3]), randomIndices([4, 2], 3)], [randomTensor([4, 3]), k.tensor([[0, 1], [2, 3], [0, 0], [1, 1]])]],
    ['embedding', (i, w) => k.embedding(i, w), [randomIndices([2, 3], 5), randomTensor([5, 4])], [k.tensor([[0, 1, 2], [3, 4, 5]]), randomTensor([5, 4])]],
  ];
  for (const [name, fn, example, bad] of cases) {
    const compiled = compileGraphForCpu(traceOps(fn, example, { dynamic: true }).coreGraph);
    assert.equal(compiled.report.eagerSteps, [], name);
    assert.throws(() => fn(...bad), (e: Error) => e instanceof k.IndexError, `${name}: eager raises`);
    assert.throws(() => compiled.run(bad), (e: Error) => e instanceof k.IndexError && /out of range/.test(e.message), `${name}: compiled raises`);
    // The program still works after a failed call (its buffers were released).
    const ok = compiled.run(example) as k.Tensor[];
    assert.equal(ok[0]!.toArray(), fn(...example).toArray(), `${name}: runs again`);
  }
});

const onehot = suite('oneHot with a static class count');

onehot('oneHot matches eager, with symbolic sizes, a computed input and size-0 dims', () => {
  checkAgainstEager((x) => k.oneHot(x, 5), [[randomIndices([3, 4], 5)], [randomIndices([7, 2], 5)]], { lowered: ['oneHot'] });
  checkAgainstEager((x) => k.oneHot(x.argmax(1), 3).add(1), [[randomTensor([6, 3])]], { lowered: ['oneHot'] });
  checkAgainstEager((x) => k.oneHot(x, 4), [[randomIndices([0], 4)]], { lowered: ['oneHot'], dynamic: false });
  checkAgainstEager((x) => k.oneHot(x, 1), [[randomIndices([3], 1)]], { lowered: ['oneHot'], dynamic: false });
});

onehot('oneHot raises IndexError for a value outside [0, numClasses)', () => {
  const fn = (x: k.Tensor) => k.oneHot(x, 3);
  const compiled = compileGraphForCpu(traceOps(fn, [randomIndices([4], 3)], { dynamic: true }).coreGraph);
  assert.equal(compiled.report.eagerSteps, []);
  assert.throws(() => compiled.run([k.tensor([0, 3, 1])]), (e: Error) => e instanceof k.IndexError);
});

select.run();
gather.run();
bounds.run();
onehot.run();
