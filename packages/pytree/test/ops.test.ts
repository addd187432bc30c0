import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  StructureMismatchError,
  treeAll,
  treeAllLeaves,
  treeAny,
  treeBroadcastPrefix,
  treeIsLeaf,
  treeMap,
  treeMapInPlace,
  treeMapOnly,
  treeReduce,
  treeStructure,
  treeTranspose,
  withOptions,
} from '@kiln/pytree';

class Tensor {
  constructor(readonly value: number) {}
}

const map = suite('treeMap');

map('maps every leaf and keeps the structure', () => {
  const tree = { a: [1, 2], b: { c: 3 }, n: null };
  for (let i = 0; i < 3; i++) assert.equal(treeMap((x: number) => x * 10, tree), { a: [10, 20], b: { c: 30 }, n: null });
  assert.equal(tree, { a: [1, 2], b: { c: 3 }, n: null }, 'input untouched');
});

map('extra trees only need the first tree as a prefix of their structure', () => {
  const result = treeMap((x: number, y: unknown) => [x, y], { a: 1, b: 2 }, { a: [5, 6], b: { deep: 7 } });
  assert.equal(result, { a: [1, [5, 6]], b: [2, { deep: 7 }] });
  assert.equal(treeMap((x: number, y: number, z: number) => x + y + z, [1, 2], [10, 20], [100, 200]), [111, 222]);
});

map('a structure mismatch in an extra tree names the argument and the path', () => {
  try {
    treeMap((x: number, y: number) => x + y, { a: [1, 2] }, { a: [1, 2, 3] });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, StructureMismatchError);
    assert.match(String(error), "treeMap: tree argument 2: structure mismatch: expected an array of length 2, got an array of length 3 (at ['a'])");
  }
  assert.throws(() => treeMap((x: number) => x, { a: 1 }, { b: 1 }), /missing 'a'; unexpected 'b'/);
});

map('treeMapInPlace calls f for its effects and returns the same tree', () => {
  const tree = [{ v: 1 }, { v: 2 }];
  const seen: unknown[] = [];
  const result = treeMapInPlace((x: number, y: number) => seen.push([x, y]), tree, [{ v: 10 }, { v: 20 }]);
  assert.is(result, tree);
  assert.equal(seen, [[1, 10], [2, 20]]);
});

map('treeMapOnly maps instances of a class, primitives by their wrapper class, or values passing a predicate', () => {
  const tree = { t: new Tensor(1), n: 2, s: 'x', nested: [new Tensor(3)] };
  const doubled = treeMapOnly(Tensor, (t: Tensor) => new Tensor(t.value * 2), tree);
  assert.equal(doubled, { t: new Tensor(2), n: 2, s: 'x', nested: [new Tensor(6)] });
  assert.equal(treeMapOnly(Number, (n: number) => -n, tree).n, -2);
  assert.equal(treeMapOnly(String, (s: string) => s.toUpperCase(), tree).s, 'X');
  function isSmall(x: unknown) {
    return typeof x === 'number' && x < 5;
  }
  assert.equal(treeMapOnly(isSmall, () => 0, [1, 9]), [0, 9], 'a plain function is a predicate');
  assert.equal(treeMapOnly((x: unknown) => x === 9, () => 0, [1, 9]), [1, 0]);
});

const reduce = suite('treeReduce, treeAll, treeAny');

reduce('treeReduce folds leaves left to right, with or without an initial value', () => {
  assert.is(treeReduce((a: string, x: string) => a + x, ['a', { b: 'b', c: ['c'] }]), 'abc');
  assert.is(treeReduce((a: number, x: number) => a + x, [1, 2, 3], 10), 16);
  assert.is(treeReduce((a: number, x: number) => a + x, [], 0), 0);
  assert.throws(() => treeReduce((a: number, x: number) => a + x, []), /needs an initial value/);
  assert.is(treeReduce((a: number, x: unknown) => a + (x === null ? 1 : 0), [null, 1], 0, { noneIsLeaf: true }), 1);
});

reduce('treeAll and treeAny test the truthiness of leaves', () => {
  assert.ok(treeAll({ a: [1, true], b: 'x' }));
  assert.not.ok(treeAll({ a: [1, 0] }));
  assert.ok(treeAll([]));
  assert.ok(treeAny([0, [0, 1]]));
  assert.not.ok(treeAny([0, [null]]));
  assert.not.ok(treeAll([null], { noneIsLeaf: true }));
});

const structure = suite('treeTranspose and treeBroadcastPrefix');

structure('treeTranspose swaps outer and inner structures', () => {
  const outer = treeStructure([0, 0, 0]);
  const inner = treeStructure({ a: 0, b: 0 });
  const tree = [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, b: 6 }];
  assert.equal(treeTranspose(outer, inner, tree), { a: [1, 3, 5], b: [2, 4, 6] });
  assert.equal(treeTranspose(outer, null, tree), { a: [1, 3, 5], b: [2, 4, 6] }, 'inner inferred');
  assert.throws(() => treeTranspose(outer, inner, [{ a: 1, b: 2 }]), /not outer.compose\(inner\): structure mismatch: expected an array of length 3, got an array of length 1/);
  assert.throws(() => treeTranspose(outer, inner, [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, c: 6 }]), /missing 'b'; unexpected 'c' \(at \[2\]\)/);
  assert.throws(() => treeTranspose(outer, inner, [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, b: [6] }]), /TreeSpec/);
});

structure('treeBroadcastPrefix repeats each prefix leaf over its subtree', () => {
  assert.equal(treeBroadcastPrefix([1, 2], [[0, 0, 0], { x: 0 }]), [[1, 1, 1], { x: 2 }]);
  assert.equal(treeBroadcastPrefix(7, { a: [0, 0] }), { a: [7, 7] });
  assert.throws(() => treeBroadcastPrefix([1, 2], [0]), /not a prefix.*expected an array of length 2/);
});

const leaves = suite('treeIsLeaf, treeAllLeaves, withOptions');

leaves('leaf tests follow the node rules and options', () => {
  assert.ok(treeIsLeaf(1));
  assert.ok(treeIsLeaf(new Tensor(1)));
  assert.not.ok(treeIsLeaf([]));
  assert.not.ok(treeIsLeaf({}));
  assert.not.ok(treeIsLeaf(null), 'null is a node with no children by default');
  assert.ok(treeIsLeaf(null, { noneIsLeaf: true }));
  assert.ok(treeIsLeaf([1], { isLeaf: Array.isArray }));
  assert.ok(treeAllLeaves([1, 'a', new Tensor(2)]));
  assert.not.ok(treeAllLeaves([1, [2]]));
});

leaves('withOptions binds options to the variadic functions too', () => {
  const pt = withOptions({ noneIsLeaf: true });
  assert.equal(pt.treeMap((x: unknown) => x ?? 'none', [null, 1]), ['none', 1]);
  assert.equal(pt.treeMap((x: unknown, y: unknown) => [x, y], [null], [2]), [[null, 2]]);
  assert.equal(pt.treeLeavesWithPath([null]).length, 1);
  assert.is(pt.treeReduce((a: number) => a + 1, [null, null], 0), 2);
});

map.run();
reduce.run();
structure.run();
leaves.run();
