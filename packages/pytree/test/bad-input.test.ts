import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AccessError,
  CycleError,
  DepthLimitError,
  treeFlatten,
  treeLeaves,
  treeMap,
  treeStructure,
  treeUnflatten,
} from '@kiln/pytree';

const cycles = suite('bad input: cycles and depth');

cycles('a cycle raises CycleError naming where the tree loops back, not a stack overflow', () => {
  const root: { children: unknown[] } = { children: [1] };
  root.children.push({ back: root });
  try {
    treeFlatten(root);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, CycleError);
    assert.match(String(error), "the tree contains a cycle");
    assert.match(String(error), "at ['children'][1]['back']");
  }
  const array: unknown[] = [];
  array.push(array);
  assert.throws(() => treeLeaves(array), (e: unknown) => e instanceof CycleError);
});

cycles('a deep acyclic tree raises DepthLimitError past maxDepth, and passes with a larger one', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 1500; i++) deep = [deep];
  assert.throws(() => treeFlatten(deep), (e: unknown) => e instanceof DepthLimitError && /maxDepth = 1000/.test(String(e)));
  assert.equal(treeFlatten(deep, { maxDepth: 2000 })[0], [1]);
  assert.throws(() => treeFlatten([[[1]]], { maxDepth: 2 }), (e: unknown) => e instanceof DepthLimitError && /at \[0\]\[0\]/.test(String(e)));
});

cycles('shared (diamond) references are not cycles', () => {
  const shared = { v: 1 };
  assert.equal(treeLeaves([shared, shared]), [1, 1]);
});

const objects = suite('bad input: unusual objects');

objects('Object.create(null) objects are plain records and come back with a null prototype', () => {
  const record = Object.assign(Object.create(null), { a: 1, b: [2] });
  for (let i = 0; i < 3; i++) {
    const [leaves, spec] = treeFlatten(record);
    assert.equal(leaves, [1, 2]);
    const rebuilt = treeUnflatten(spec, [3, 4]);
    assert.is(Object.getPrototypeOf(rebuilt), null);
    assert.equal({ ...rebuilt }, { a: 3, b: [4] });
  }
});

objects('null-prototype objects next to class-instance leaves are still nodes', () => {
  class Leafy {}
  const leafy = new Leafy();
  const tree = [leafy, Object.assign(Object.create(null), { a: 1 }), leafy, { constructor: Leafy, b: 2 }];
  for (let i = 0; i < 3; i++) assert.equal(treeLeaves(tree), [leafy, 1, leafy, Leafy, 2]);
});

objects('an own __proto__ key (as JSON.parse makes) stays an own key and never sets the prototype', () => {
  const parsed = JSON.parse('{"__proto__": {"polluted": 1}, "x": 2}');
  for (let i = 0; i < 3; i++) {
    const [leaves, spec] = treeFlatten(parsed);
    assert.equal(leaves, [1, 2]);
    const rebuilt = spec.unflatten(['p', 'q']);
    assert.is(Object.getPrototypeOf(rebuilt), Object.prototype);
    assert.ok(Object.hasOwn(rebuilt, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(rebuilt, '__proto__')!.value, { polluted: 'p' });
    assert.is(({} as Record<string, unknown>)['polluted'], undefined);
  }
});

objects('an own "constructor" key does not hide that an object is plain', () => {
  const record = { constructor: 5, other: 6 };
  assert.equal(treeLeaves(record), [5, 6]);
  assert.equal(treeMap((x: number) => x + 1, record), { constructor: 6, other: 7 });
});

objects('an array with an own "constructor" property is still an array', () => {
  const array: unknown[] & { constructor?: unknown } = [1, 2];
  array.constructor = 'shadowed';
  for (let i = 0; i < 3; i++) assert.equal(treeLeaves(array), [1, 2]);
});

objects('holes in sparse arrays read as undefined (a node by default) and unflatten makes the array dense', () => {
  // eslint-disable-next-line no-sparse-arrays
  const sparse = [1, , 3];
  const [leaves, spec] = treeFlatten(sparse);
  assert.equal(leaves, [1, 3]);
  assert.is(spec.toString(), 'TreeSpec([*, undefined, *])');
  const dense = treeUnflatten(spec, leaves);
  assert.ok(1 in dense);
  assert.is(dense[1], undefined);
  assert.equal(treeLeaves(sparse, { noneIsLeaf: true }), [1, undefined, 3]);
});

objects('frozen trees flatten and map; results are fresh, unfrozen containers', () => {
  const frozen = Object.freeze({ a: Object.freeze([1, 2]) });
  for (let i = 0; i < 3; i++) {
    const mapped = treeMap((x: number) => x * 2, frozen);
    assert.equal(mapped, { a: [2, 4] });
    assert.not.ok(Object.isFrozen(mapped));
  }
});

objects('getters are read like data; a throwing getter raises AccessError with its path and cause', () => {
  const withGetter = { get lazy() { return 7; }, plain: 1 };
  assert.equal(treeLeaves(withGetter), [7, 1]);
  const boom = new Error('boom');
  const throwing = { ok: 1, nested: { get bad(): number { throw boom; } } };
  for (let i = 0; i < 3; i++) {
    try {
      treeFlatten(throwing);
      assert.unreachable();
    } catch (error) {
      assert.instance(error, AccessError);
      assert.match(String(error), "Error: boom (at ['nested']['bad'])");
      assert.is((error as AccessError).cause, boom);
    }
  }
});

objects('a throwing getter is reported with its path even once the structure is cached', () => {
  let fail = false;
  const tree = { a: { get v() { if (fail) throw new Error('late'); return 1; } } };
  for (let i = 0; i < 3; i++) treeFlatten(tree);
  fail = true;
  assert.throws(() => treeFlatten(tree), (e: unknown) => e instanceof AccessError && /late \(at \['a'\]\['v'\]\)/.test(String(e)));
});

objects('Proxies are transparent: a Proxy of a plain object or array is flattened through its traps', () => {
  const reads: PropertyKey[] = [];
  const target = { a: 1, b: [2, 3] };
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      reads.push(key);
      return Reflect.get(t, key, receiver);
    },
  });
  for (let i = 0; i < 3; i++) assert.equal(treeLeaves(proxy), [1, 2, 3]);
  assert.ok(reads.includes('a'));
  assert.equal(treeLeaves(new Proxy([4, 5], {})), [4, 5]);
});

objects('a revoked Proxy raises AccessError at its path', () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.throws(() => treeFlatten({ p: proxy }), (e: unknown) => e instanceof AccessError && /at \['p'\]/.test(String(e)));
});

const purity = suite('bad input: unflatten never mutates its inputs');

purity('the leaves array, the leaves and the spec are left as they were', () => {
  const leaf = { payload: [1] };
  const spec = treeStructure({ a: 0, b: [0, 0] });
  const before = spec.toString();
  const leaves = [leaf, 2, 3];
  for (let i = 0; i < 3; i++) {
    const tree = spec.unflatten(leaves);
    tree.b.push('mutating the result');
    tree.a.payload.push(2);
  }
  assert.equal(leaves.length, 3);
  assert.is(leaves[0], leaf);
  assert.is(spec.toString(), before);
  assert.equal(spec.unflatten([1, 2, 3]), { a: 1, b: [2, 3] });
});

cycles.run();
objects.run();
purity.run();
