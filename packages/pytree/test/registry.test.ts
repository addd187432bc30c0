import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GLOBAL_NAMESPACE,
  RegistrationError,
  registerDataclass,
  registerPytreeNode,
  registerStatic,
  treeFlatten,
  treeMap,
  treeUnflatten,
  unregisterPytreeNode,
  withOptions,
} from '@kiln/pytree';

// Each suite uses its own namespace: all test files share one process and one registry.
class Pair {
  constructor(
    readonly left: unknown,
    readonly right: unknown,
    readonly label: string,
  ) {}
}

const custom = suite('registry: registerPytreeNode');

custom('a registered class is a node in its namespace and a leaf elsewhere', () => {
  registerPytreeNode(Pair, {
    namespace: 'test-registry-a',
    flatten: (p) => ({ children: [p.left, p.right], meta: p.label, keys: ['left', 'right'] }),
    unflatten: (label, [left, right]) => new Pair(left, right, label as string),
  });
  const pt = withOptions({ namespace: 'test-registry-a' });
  const tree = { p: new Pair(1, [2, 3], 'x') };
  for (let i = 0; i < 3; i++) {
    const [leaves, spec] = pt.treeFlatten(tree);
    assert.equal(leaves, [1, 2, 3]);
    assert.is(spec.toString(), 'TreeSpec({p: CustomNode(Pair["x"], [*, [*, *]])})');
    const rebuilt = treeUnflatten(spec, [4, 5, 6]);
    assert.instance(rebuilt.p, Pair);
    assert.equal(rebuilt.p, new Pair(4, [5, 6], 'x'));
  }
  assert.equal(treeFlatten(tree)[0], [tree.p], 'not visible without the namespace option');
  assert.equal(pt.treeMap((x: number) => x * 2, tree).p, new Pair(2, [4, 6], 'x'));
});

custom('metadata is part of the structure', () => {
  const pt = withOptions({ namespace: 'test-registry-a' });
  const a = pt.treeFlatten(new Pair(1, 2, 'a'))[1];
  const b = pt.treeFlatten(new Pair(1, 2, 'b'))[1];
  assert.not.ok(a.equals(b));
});

custom('subclasses of a registered class are leaves (exact class match)', () => {
  class SubPair extends Pair {}
  const pt = withOptions({ namespace: 'test-registry-a' });
  const sub = new SubPair(1, 2, 's');
  assert.equal(pt.treeLeaves(sub), [sub]);
});

custom('registering twice in a namespace is an error; another namespace is fine', () => {
  const again = () =>
    registerPytreeNode(Pair, {
      namespace: 'test-registry-a',
      flatten: () => ({ children: [] }),
      unflatten: () => new Pair(0, 0, ''),
    });
  assert.throws(again, (e: unknown) => e instanceof RegistrationError && /already registered/.test(String(e)));
  registerPytreeNode(Pair, {
    namespace: 'test-registry-b',
    flatten: (p) => ({ children: [p.left] , meta: [p.right, p.label] }),
    unflatten: (meta, [left]) => new Pair(left, (meta as unknown[])[0], (meta as string[])[1]!),
  });
  assert.equal(withOptions({ namespace: 'test-registry-b' }).treeLeaves(new Pair(1, 2, 'z')), [1]);
});

custom('a namespace is required, and built-in nodes cannot be registered', () => {
  class Thing {}
  const noNamespace = { flatten: () => ({ children: [] }), unflatten: () => new Thing() } as never;
  assert.throws(() => registerPytreeNode(Thing, noNamespace), /needs a namespace/);
  assert.throws(
    () => registerPytreeNode(Array, { namespace: 'x', flatten: () => ({ children: [] }), unflatten: () => [] }),
    /built-in pytree node/,
  );
  assert.throws(() => registerPytreeNode(Thing, { namespace: 'x' } as never), /flatten and unflatten/);
});

custom('unregister turns instances back into leaves, also for cached structures', () => {
  const pt = withOptions({ namespace: 'test-registry-b' });
  const pair = new Pair(1, 2, 'z');
  for (let i = 0; i < 3; i++) assert.equal(pt.treeLeaves([pair]), [1]);
  assert.ok(unregisterPytreeNode(Pair, { namespace: 'test-registry-b' }));
  assert.not.ok(unregisterPytreeNode(Pair, { namespace: 'test-registry-b' }));
  assert.equal(pt.treeLeaves([pair]), [pair]);
});

custom('GLOBAL_NAMESPACE registrations are seen by every operation', () => {
  class Box {
    constructor(readonly value: unknown) {}
  }
  registerPytreeNode(Box, {
    namespace: GLOBAL_NAMESPACE,
    flatten: (b) => ({ children: [b.value] }),
    unflatten: (_meta, [value]) => new Box(value),
  });
  assert.equal(treeFlatten([new Box(1)])[0], [1]);
  assert.equal(withOptions({ namespace: 'anything' }).treeLeaves(new Box(2)), [2]);
  assert.equal(treeMap((x: number) => x + 1, new Box(1)), new Box(2));
  unregisterPytreeNode(Box, { namespace: GLOBAL_NAMESPACE });
});

const dataclass = suite('registry: registerDataclass');

class Linear {
  constructor(
    public weight: unknown,
    public bias: unknown,
    public name: string,
  ) {}
  describe(): string {
    return `Linear ${this.name}`;
  }
}
registerDataclass(Linear, { dataFields: ['weight', 'bias'], metaFields: ['name'], namespace: 'test-dataclass' });

dataclass('data fields are children, meta fields are structure; unflatten keeps the prototype', () => {
  const pt = withOptions({ namespace: 'test-dataclass' });
  const layers = [new Linear(1, 2, 'fc1'), new Linear(3, 4, 'fc2')];
  for (let i = 0; i < 3; i++) {
    const [leaves, spec] = pt.treeFlatten(layers);
    assert.equal(leaves, [1, 2, 3, 4]);
    const rebuilt = spec.unflatten([5, 6, 7, 8]);
    assert.instance(rebuilt[1], Linear);
    assert.is(rebuilt[1].describe(), 'Linear fc2');
    assert.equal({ ...rebuilt[0] }, { name: 'fc1', weight: 5, bias: 6 });
  }
  const paths = pt.treeLeavesWithPath(layers).map(([path]) => path.join(''));
  assert.equal(paths, ['[0].weight', '[0].bias', '[1].weight', '[1].bias']);
  const renamed = pt.treeStructure([new Linear(1, 2, 'other'), layers[1]]);
  assert.not.ok(renamed.equals(pt.treeStructure(layers)));
});

dataclass('a custom create builds instances through the constructor', () => {
  class Point {
    readonly #secret = 1;
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
    secret(): number {
      return this.#secret;
    }
  }
  registerDataclass(Point, {
    dataFields: ['x', 'y'],
    namespace: 'test-dataclass',
    create: (f) => new Point(f['x'] as number, f['y'] as number),
  });
  const pt = withOptions({ namespace: 'test-dataclass' });
  for (let i = 0; i < 3; i++) {
    const moved = pt.treeMap((v: number) => v + 1, new Point(1, 2));
    assert.is(moved.secret(), 1);
    assert.is(moved.y, 3);
  }
});

dataclass('bad field lists are rejected', () => {
  class Bad {}
  assert.throws(() => registerDataclass(Bad, { dataFields: ['a', 'a'], namespace: 'x' }), /invalid or repeated field/);
  assert.throws(() => registerDataclass(Bad, { dataFields: ['__proto__'], namespace: 'x' }), /invalid or repeated/);
  // An own 'constructor' field would hide the class (nodes are found by .constructor): every instance a leaf.
  assert.throws(() => registerDataclass(Bad, { dataFields: ['w', 'constructor'], namespace: 'x' }), /invalid or repeated field "constructor"/);
});

const statics = suite('registry: registerStatic');

dataclass.run();

class DType {
  constructor(readonly name: string) {}
}
registerStatic(DType, { namespace: 'test-static', toJSON: (d) => d.name, fromJSON: (n) => new DType(n as string) });

statics('static values have no leaves and come back as themselves', () => {
  const pt = withOptions({ namespace: 'test-static' });
  const f32 = new DType('f32');
  for (let i = 0; i < 3; i++) {
    const [leaves, spec] = pt.treeFlatten({ dtype: f32, x: 1 });
    assert.equal(leaves, [1]);
    const rebuilt = spec.unflatten([2]);
    assert.is(rebuilt.dtype, f32);
  }
  assert.ok(pt.treeStructure({ d: new DType('f32') }).equals(pt.treeStructure({ d: f32 })), 'compared by value');
  assert.not.ok(pt.treeStructure({ d: new DType('i32') }).equals(pt.treeStructure({ d: f32 })));
});

custom.run();
statics.run();
