import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LeafCountError, StructureMismatchError, TreeSpec, treeStructure, treeUnflatten } from '@kiln/pytree';

const shape = suite('TreeSpec: shape queries');

shape('numLeaves, numNodes, children, child and entries', () => {
  const spec = treeStructure([1, { a: 2, b: null }, new Map([['k', 3]])]);
  assert.is(spec.numLeaves, 3);
  // root, leaf, object, leaf, null, Map, leaf
  assert.is(spec.numNodes, 7);
  assert.is(spec.children().length, 3);
  assert.ok(spec.child(0).isLeaf());
  assert.equal(spec.child(1).entries(), ['a', 'b']);
  assert.ok(spec.child(1).child(1).isNone());
  assert.equal(spec.child(2).entries(), ['k']);
  assert.equal(spec.entries(), [0, 1, 2]);
  assert.throws(() => spec.child(3), (e: unknown) => e instanceof StructureMismatchError && /out of range/.test(String(e)));
});

shape('toString prints a PyTreeSpec-like form', () => {
  assert.is(treeStructure([1, { a: 2, b: 3 }]).toString(), 'TreeSpec([*, {a: *, b: *}])');
  assert.is(treeStructure({ 'x-y': 1 }).toString(), 'TreeSpec({"x-y": *})');
  assert.is(treeStructure(new Map([[1, 1]])).toString(), 'TreeSpec(Map({1: *}))');
  assert.is(treeStructure(Object.assign(Object.create(null), { a: 1 })).toString(), 'TreeSpec(NullProto({a: *}))');
});

const equality = suite('TreeSpec: equality and hashing');

equality('equal structures are equal and hash alike; different ones are not', () => {
  const a = treeStructure({ x: [1, 2], y: null });
  const b = treeStructure({ x: ['p', 'q'], y: null });
  const c = treeStructure({ x: [1, 2], y: undefined });
  const d = treeStructure({ y: null, x: [1, 2] });
  assert.ok(a.equals(b));
  assert.is(a.hash(), b.hash());
  assert.not.ok(a.equals(c));
  assert.not.ok(a.equals(d), 'key order is part of the structure');
  assert.not.ok(treeStructure(new Map([[1, 0]])).equals(treeStructure(new Map([['1', 0]]))));
});

equality('hash is stable: the same structure gives the same number in every run', () => {
  assert.is(treeStructure([1, { a: 2 }]).hash(), treeStructure([0, { a: 0 }]).hash());
  assert.is(typeof treeStructure([1]).hash(), 'number');
});

const prefix = suite('TreeSpec: prefixes and composition');

prefix('isPrefixOf: a leaf may stand for any subtree', () => {
  const prefixSpec = treeStructure([0, { a: 0 }]);
  assert.ok(prefixSpec.isPrefixOf(treeStructure([[1, 2], { a: { deep: 3 } }])));
  assert.ok(prefixSpec.isPrefixOf(prefixSpec));
  assert.not.ok(prefixSpec.isPrefixOf(treeStructure([0, { b: 0 }])));
  assert.not.ok(treeStructure([[1, 2], 0]).isPrefixOf(treeStructure([0, 0])));
});

prefix('flattenUpTo returns the subtrees under the leaves and names the path of a mismatch', () => {
  const spec = treeStructure({ a: 0, b: [0, 0] });
  assert.equal(spec.flattenUpTo({ a: [1, 2], b: [{ c: 3 }, 4] }), [[1, 2], { c: 3 }, 4]);
  // Key order of the other tree does not matter: the spec's order decides.
  assert.equal(spec.flattenUpTo({ b: [1, 2], a: 0 }), [0, 1, 2]);
  try {
    spec.flattenUpTo({ a: 1, b: [1, 2, 3] });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, StructureMismatchError);
    assert.match(String(error), "expected an array of length 2, got an array of length 3 (at ['b'])");
  }
  assert.throws(() => spec.flattenUpTo({ a: 1, c: [1, 2] }), /missing 'b'; unexpected 'c'/);
  assert.throws(() => spec.flattenUpTo({ a: 1, b: 5 }), /got a number \(a leaf\)/);
});

prefix('compose replaces every leaf with the inner structure', () => {
  const outer = treeStructure([0, 0]);
  const inner = treeStructure({ a: 0, b: 0 });
  const composed = outer.compose(inner);
  assert.is(composed.toString(), 'TreeSpec([{a: *, b: *}, {a: *, b: *}])');
  assert.is(composed.numLeaves, 4);
  assert.ok(composed.equals(treeStructure([{ a: 1, b: 2 }, { a: 3, b: 4 }])));
});

const unflatten = suite('TreeSpec: unflatten');

unflatten('rebuilds fresh containers on every call, including after specialization', () => {
  const spec = treeStructure({ a: [1, 2], m: new Map([['k', 3]]), n: null });
  const results = [0, 1, 2, 3].map((n) => spec.unflatten([n, n, n]));
  results.forEach((result, n) => assert.equal(result, { a: [n, n], m: new Map([['k', n]]), n: null }));
  assert.is.not(results[2].a, results[3].a);
});

unflatten('leaf count mismatch reports both counts', () => {
  const spec = treeStructure([1, 2, 3]);
  try {
    treeUnflatten(spec, [1, 2]);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, LeafCountError);
    assert.is((error as LeafCountError).expected, 3);
    assert.is((error as LeafCountError).actual, 2);
    assert.match(String(error), 'expected 3 leaves but got 2');
  }
});

unflatten('accepts any iterable of leaves and never modifies it', () => {
  const spec = treeStructure({ a: 1, b: [2] });
  const leaves = Object.freeze([10, 20]);
  for (let i = 0; i < 3; i++) assert.equal(spec.unflatten(leaves), { a: 10, b: [20] });
  assert.equal(spec.unflatten(new Set([1, 2])), { a: 1, b: [2] });
});

unflatten('TreeSpec is exported as a class for instanceof checks', () => {
  assert.instance(treeStructure(1), TreeSpec);
});

const tryFlatten = suite('TreeSpec: tryFlatten (per-call-site guarded flatten)');

tryFlatten('returns the leaves of a tree of exactly this structure, null otherwise, before and after specializing', () => {
  const spec = treeStructure([[1, 2], { alpha: 1, out: null }]);
  for (let i = 0; i < 4; i++) {
    assert.equal(spec.tryFlatten([['a', 'b'], { alpha: 'c', out: null }]), ['a', 'b', 'c']);
    assert.is(spec.tryFlatten([['a', 'b'], { alpha: 'c', out: null, extra: 1 }]), null);
    assert.is(spec.tryFlatten([['a'], { alpha: 'c', out: null }]), null);
    assert.is(spec.tryFlatten([['a', ['b']], { alpha: 'c', out: null }]), null);
    assert.is(spec.tryFlatten([['a', 'b'], { alpha: 'c', out: 0 }]), null);
    assert.is(spec.tryFlatten(5), null);
  }
});

tryFlatten('honours options: with noneIsLeaf, null is an ordinary leaf', () => {
  const spec = treeStructure([null, 1], { noneIsLeaf: true });
  for (let i = 0; i < 3; i++) {
    assert.equal(spec.tryFlatten([null, 2], { noneIsLeaf: true }), [null, 2]);
    assert.equal(spec.tryFlatten([3, 2], { noneIsLeaf: true }), [3, 2]);
    assert.is(spec.tryFlatten([null, 2]), null, 'without the option [null, 2] has one leaf');
  }
});

shape.run();
tryFlatten.run();
equality.run();
prefix.run();
unflatten.run();
