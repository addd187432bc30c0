import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { treeFlatten, treeLeaves, treeStructure, treeUnflatten, withOptions } from '@kiln/pytree';

class Tensor {
  constructor(readonly id: number) {}
}

const builtins = suite('flatten: built-in nodes');

builtins('arrays and plain objects are nodes; leaves come out depth first, keys in insertion order', () => {
  const a = new Tensor(1);
  const [leaves, spec] = treeFlatten([a, { z: 2, y: [3, 'four'] }]);
  assert.equal(leaves, [a, 2, 3, 'four']);
  assert.is(spec.toString(), 'TreeSpec([*, {z: *, y: [*, *]}])');
  assert.is(spec.numLeaves, 4);
});

builtins('Map is a node with keys of any type, kept in insertion order', () => {
  const objectKey = { k: 1 };
  const map = new Map<unknown, unknown>([[2, 'two'], [objectKey, [5, 6]], ['a', 7]]);
  const [leaves, spec] = treeFlatten(map);
  assert.equal(leaves, ['two', 5, 6, 7]);
  const rebuilt = treeUnflatten(spec, leaves) as Map<unknown, unknown>;
  assert.equal([...rebuilt.keys()], [2, objectKey, 'a']);
  assert.is(rebuilt.keys().next().value, 2);
});

builtins('class instances, typed arrays, functions, dates and subclasses of Array are leaves', () => {
  class MyArray extends Array {}
  const values = [new Tensor(0), new Float32Array(2), () => 1, new Date(0), MyArray.from([1, 2]), Symbol.for('s'), 3n];
  const [leaves] = treeFlatten(values);
  assert.is(leaves.length, values.length);
  leaves.forEach((leaf, i) => assert.is(leaf, values[i]));
});

builtins('null and undefined are nodes with no children by default, leaves with noneIsLeaf', () => {
  const tree = { a: null, b: undefined, c: 1 };
  const [leaves, spec] = treeFlatten(tree);
  assert.equal(leaves, [1]);
  assert.is(spec.toString(), 'TreeSpec({a: null, b: undefined, c: *})');
  assert.equal(treeUnflatten(spec, [9]), { a: null, b: undefined, c: 9 });
  const [noneLeaves, noneSpec] = treeFlatten(tree, { noneIsLeaf: true });
  assert.equal(noneLeaves, [null, undefined, 1]);
  assert.is(noneSpec.numLeaves, 3);
});

builtins('a bare leaf or a bare null is a tree too', () => {
  const [leaves, spec] = treeFlatten(5);
  assert.equal(leaves, [5]);
  assert.ok(spec.isLeaf());
  const [noLeaves, noneSpec] = treeFlatten(null);
  assert.equal(noLeaves, []);
  assert.is(treeUnflatten(noneSpec, []), null);
});

const options = suite('flatten: options');

options('sortKeys orders object keys by code unit, and unflatten builds them in that order', () => {
  const [leaves, spec] = treeFlatten({ b: 1, a: 2, C: 3 }, { sortKeys: true });
  assert.equal(leaves, [3, 2, 1]);
  assert.equal(Object.keys(treeUnflatten(spec, leaves)), ['C', 'a', 'b']);
  // Another insertion order of the same keys has the same structure under sortKeys.
  const [, other] = treeFlatten({ C: 0, b: 0, a: 0 }, { sortKeys: true });
  assert.ok(spec.equals(other));
});

options('sortKeys keeps working after the structure is cached (objects in a different insertion order)', () => {
  const pt = withOptions({ sortKeys: true });
  for (let i = 0; i < 4; i++) assert.equal(pt.treeLeaves({ b: 1, a: 2 }), [2, 1]);
  for (let i = 0; i < 4; i++) assert.equal(pt.treeLeaves({ a: 2, b: 1 }), [2, 1]);
});

options('isLeaf stops descent and receives the key path when it asks for it', () => {
  const seen: string[] = [];
  const isLeaf = (x: unknown, path: readonly { toString(): string }[]) => {
    seen.push(path.join(''));
    return Array.isArray(x) && x.length === 2;
  };
  const [leaves, spec] = treeFlatten({ pair: [1, 2], deep: [[3, 4, 5]] }, { isLeaf });
  assert.equal(leaves, [[1, 2], 3, 4, 5]);
  assert.is(spec.toString(), 'TreeSpec({pair: *, deep: [[*, *, *]]})');
  assert.ok(seen.includes("['deep'][0][2]"));
});

options('treeLeaves and treeStructure agree with treeFlatten', () => {
  const tree = [{ a: 1 }, [2, 3]];
  const [leaves, spec] = treeFlatten(tree);
  assert.equal(treeLeaves(tree), leaves);
  assert.ok(treeStructure(tree).equals(spec));
});

const cache = suite('flatten: cached specialized path');

cache('repeated structures return one shared spec and the same leaves as the first call', () => {
  const make = (n: number) => [{ w: n, b: n + 1 }, { w: n + 2, b: n + 3 }];
  const specs = [0, 1, 2, 3].map((n) => treeFlatten(make(n)));
  specs.forEach(([leaves], n) => assert.equal(leaves, [n, n + 1, n + 2, n + 3]));
  assert.is(specs[3]![1], specs[1]![1]);
});

cache('a tree that differs from a cached structure falls back to the generic walk', () => {
  const base = () => ({ w: [1, 2], b: 3 });
  for (let i = 0; i < 3; i++) treeFlatten(base());
  const variants: [unknown, string][] = [
    [{ w: [1, 2], b: 3, extra: 4 }, 'TreeSpec({w: [*, *], b: *, extra: *})'],
    [{ w: [1, 2, 9], b: 3 }, 'TreeSpec({w: [*, *, *], b: *})'],
    [{ w: [1, [2]], b: 3 }, 'TreeSpec({w: [*, [*]], b: *})'],
    [{ w: [1, 2], b: null }, 'TreeSpec({w: [*, *], b: null})'],
    [{ w: [1, 2], b: undefined }, 'TreeSpec({w: [*, *], b: undefined})'],
    [{ b: 3, w: [1, 2] }, 'TreeSpec({b: *, w: [*, *]})'],
    [{ w: new Map([[0, 1]]), b: 3 }, 'TreeSpec({w: Map({0: *}), b: *})'],
  ];
  for (const [tree, expected] of variants) {
    for (let i = 0; i < 3; i++) assert.is(treeStructure(tree).toString(), expected);
  }
  assert.is(treeStructure(base()).toString(), 'TreeSpec({w: [*, *], b: *})');
});

cache('a leaf position that now holds a node is a structure change', () => {
  const tensor = new Tensor(1);
  for (let i = 0; i < 3; i++) treeFlatten({ x: tensor, y: 2 });
  assert.equal(treeLeaves({ x: { inner: 1 }, y: 2 }), [1, 2]);
  assert.equal(treeLeaves({ x: [1, 2], y: 2 }), [1, 2, 2]);
  assert.equal(treeLeaves({ x: tensor, y: 2 }), [tensor, 2]);
});

cache('many structures in rotation (more than the cache holds) all flatten correctly', () => {
  const trees = Array.from({ length: 40 }, (_, n) => ({ [`k${n}`]: Array.from({ length: n % 5 }, (_, i) => i) }));
  for (let round = 0; round < 4; round++) {
    trees.forEach((tree, n) => {
      const [leaves, spec] = treeFlatten(tree);
      assert.equal(leaves, Array.from({ length: n % 5 }, (_, i) => i));
      assert.equal(spec.entries(), [`k${n}`]);
    });
  }
});

builtins.run();
options.run();
cache.run();
