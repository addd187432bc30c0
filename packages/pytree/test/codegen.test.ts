import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generatedSource, registerDataclass, treeFlatten, treeStructure, treeUnflatten } from '@kiln/pytree';
import { assertGolden } from './golden.js';

const escaping = suite('codegen: user strings in generated code');

const hostileKeys = [
  '"]; globalThis.hacked = 1; //',
  "'); globalThis.hacked = 1; ('",
  '\u2028\u2029',
  '`${globalThis.hacked = 1}`',
  '\\',
  '__proto__',
  '*/ globalThis.hacked = 1; /*',
];

escaping('hostile object keys are escaped: specialized code runs correctly and injects nothing', () => {
  const tree: Record<string, unknown> = {};
  hostileKeys.forEach((key, i) => Object.defineProperty(tree, key, { value: i, enumerable: true, writable: true, configurable: true }));
  for (let round = 0; round < 4; round++) {
    const [leaves, spec] = treeFlatten(tree);
    assert.equal(leaves, hostileKeys.map((_, i) => i));
    const rebuilt = treeUnflatten(spec, leaves);
    assert.equal(Object.keys(rebuilt), hostileKeys);
    hostileKeys.forEach((key, i) => assert.is(Object.getOwnPropertyDescriptor(rebuilt, key)!.value, i));
  }
  assert.is((globalThis as Record<string, unknown>)['hacked'], undefined);
});

escaping('the printed source quotes keys with JSON.stringify and holds no user values', () => {
  const spec = treeStructure({ 'a"b': 1, m: new Map([['secret-map-key', 2]]) });
  const flatten = generatedSource(spec).flatten!;
  const unflatten = generatedSource(spec).unflatten!;
  assert.ok(flatten.includes('x["a\\"b"]'));
  assert.ok(unflatten.includes('"a\\"b": l[i]'));
  assert.not.ok(flatten.includes('secret-map-key'), 'Map keys are closure data');
  assert.not.ok(unflatten.includes('secret-map-key'));
});

const sharing = suite('codegen: code size');

sharing('identical subtrees share one function, and repeated children become a loop', () => {
  const spec = treeStructure(Array.from({ length: 500 }, () => ({ w: 1, b: 2, s: 3 })));
  const flatten = generatedSource(spec).flatten!;
  const unflatten = generatedSource(spec).unflatten!;
  assert.is(flatten.match(/^function /gm)!.length, 2);
  assert.ok(flatten.includes('for (let i = 0, p = j; i < 500; i++, p += 3)'));
  assert.ok(unflatten.length < 1000);
});

sharing('a large record of leaves (a state dict) is read in a loop, so its flatten code stays small', () => {
  const stateDict: Record<string, number> = {};
  for (let i = 0; i < 2000; i++) stateDict[`layer${i}.weight`] = i;
  const spec = treeStructure(stateDict);
  assert.ok(generatedSource(spec).flatten!.length < 1500);
  assert.is(generatedSource(spec).unflatten, null, "a 2000-key literal is over the size limit");
  for (let round = 0; round < 3; round++) {
    assert.equal(treeFlatten(stateDict)[0], Object.values(stateDict));
    assert.equal(spec.tryFlatten(stateDict), Object.values(stateDict));
  }
  const changed = { ...stateDict, extra: 1 };
  assert.is(spec.tryFlatten(changed), null);
});

sharing('structures too large to specialize stay correct on the generic path', () => {
  const big = Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? { ['k' + i]: i } : [i]));
  for (let round = 0; round < 3; round++) {
    const [leaves, spec] = treeFlatten(big);
    assert.is(leaves.length, 3000);
    assert.equal(treeUnflatten(spec, leaves), big);
  }
});

const golden = suite('codegen: golden generated code');

class Linear {
  constructor(
    public weight: unknown,
    public bias: unknown,
    public name: string,
  ) {}
}
registerDataclass(Linear, { dataFields: ['weight', 'bias'], metaFields: ['name'], namespace: 'test-codegen' });

const cases: [string, unknown, object?][] = [
  ['op-args', [[1, 2], { alpha: 1, out: null }]],
  ['records', [new Linear(1, 2, 'fc1'), new Linear(3, 4, 'fc2')], { namespace: 'test-codegen' }],
  ['map-and-null-proto', { m: new Map([[1, 'a']]), n: Object.assign(Object.create(null), { ['__proto__']: 1 }) }],
  ['sorted-keys', { b: 1, a: 2 }, { sortKeys: true }],
];

for (const [name, tree, options] of cases) {
  golden(name, () => {
    const spec = treeStructure(tree, options);
    const { flatten, unflatten } = generatedSource(spec, options);
    assertGolden(`${name}/flatten.js`, String(flatten));
    assertGolden(`${name}/unflatten.js`, String(unflatten));
  });
}

escaping.run();
sharing.run();
golden.run();
