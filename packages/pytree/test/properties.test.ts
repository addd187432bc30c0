import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TreeSpec, keystr, registerDataclass, withOptions } from '@kiln/pytree';

class Tensor {
  constructor(readonly id: number) {}
}
class Layer {
  constructor(
    public weight: unknown,
    public name: string,
  ) {}
}
registerDataclass(Layer, { dataFields: ['weight'], metaFields: ['name'], namespace: 'test-properties' });

const pt = withOptions({ namespace: 'test-properties' });
// The same options with an isLeaf that never fires: forces the generic walk, never the specialized code.
const generic = withOptions({ namespace: 'test-properties', isLeaf: () => false });

const { tree } = fc.letrec<{ tree: unknown; leaf: unknown; node: unknown }>((tie) => ({
  leaf: fc.oneof(
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.integer().map((id) => new Tensor(id)),
  ),
  node: fc.oneof(
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('tree'), { maxKeys: 4 }),
    fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -5, max: 5 })), tie('tree')), { maxLength: 3 }).map(
      (entries) => new Map(entries),
    ),
    fc.tuple(tie('tree'), fc.constantFrom('fc1', 'fc2')).map(([weight, name]) => new Layer(weight, name)),
  ),
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('node'), tie('node')),
}));

const RUNS = { numRuns: 300 };

const roundTrip = suite('properties: round trips');

roundTrip('unflatten(flatten(x)) deep-equals x, on the generic and the specialized path', () => {
  fc.assert(
    fc.property(tree, (x) => {
      for (let i = 0; i < 3; i++) {
        const [leaves, spec] = pt.treeFlatten(x);
        assert.equal(spec.unflatten(leaves), x);
      }
    }),
    RUNS,
  );
});

roundTrip('treeMap(identity) deep-equals x and flattenUpTo of its own spec gives the leaves', () => {
  fc.assert(
    fc.property(tree, (x) => {
      assert.equal(pt.treeMap((leaf: unknown) => leaf, x), x);
      const [leaves, spec] = pt.treeFlatten(x);
      assert.equal(spec.flattenUpTo(x), leaves);
    }),
    RUNS,
  );
});

roundTrip('serialize / deserialize gives an equal spec with an equal hash', () => {
  fc.assert(
    fc.property(tree, (x) => {
      const spec = pt.treeStructure(x);
      const back = TreeSpec.deserialize(spec.serialize());
      assert.ok(back.equals(spec));
      assert.is(back.hash(), spec.hash());
    }),
    RUNS,
  );
});

const agreement = suite('properties: variants agree');

agreement('specialized flatten agrees with the generic walk', () => {
  fc.assert(
    fc.property(tree, (x) => {
      const [genericLeaves, genericSpec] = generic.treeFlatten(x);
      for (let i = 0; i < 3; i++) {
        const [leaves, spec] = pt.treeFlatten(x);
        assert.equal(leaves, genericLeaves);
        assert.ok(spec.equals(genericSpec));
      }
    }),
    RUNS,
  );
});

agreement('path variants give the same leaves and spec as the plain functions, with distinct paths', () => {
  fc.assert(
    fc.property(tree, (x) => {
      const [pairs, pathSpec] = pt.treeFlattenWithPath(x);
      const [leaves, spec] = pt.treeFlatten(x);
      assert.equal(pairs.map(([, leaf]) => leaf), leaves);
      assert.ok(pathSpec.equals(spec));
      assert.equal(pt.treeMapWithPath((_path, leaf: unknown) => leaf, x), pt.treeMap((leaf: unknown) => leaf, x));
      const rendered = pairs.map(([path]) => keystr(path));
      assert.is(new Set(rendered).size, rendered.length);
    }),
    RUNS,
  );
});

agreement('a tree is a prefix of itself and equal to its own structure', () => {
  fc.assert(
    fc.property(tree, tree, (x, y) => {
      const sx = pt.treeStructure(x);
      const sy = pt.treeStructure(y);
      assert.ok(sx.isPrefixOf(sx));
      assert.is(sx.equals(sy), sy.equals(sx));
      if (sx.equals(sy)) assert.is(sx.hash(), sy.hash());
    }),
    RUNS,
  );
});

const variants = suite('properties: option variants');

for (const extra of [{ noneIsLeaf: true }, { sortKeys: true }, { noneIsLeaf: true, sortKeys: true }]) {
  variants(`round trip and generic agreement with ${JSON.stringify(extra)}`, () => {
    const cached = withOptions({ namespace: 'test-properties', ...extra });
    const uncached = withOptions({ namespace: 'test-properties', ...extra, isLeaf: () => false });
    fc.assert(
      fc.property(tree, (x) => {
        const [genericLeaves, genericSpec] = uncached.treeFlatten(x);
        for (let i = 0; i < 3; i++) {
          const [leaves, spec] = cached.treeFlatten(x);
          assert.equal(leaves, genericLeaves);
          assert.ok(spec.equals(genericSpec));
          assert.equal(spec.unflatten(leaves), x);
        }
      }),
      { numRuns: 150 },
    );
  });
}

roundTrip.run();
agreement.run();
variants.run();
