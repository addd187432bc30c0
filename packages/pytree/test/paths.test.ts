import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AttrKey,
  DictKey,
  SequenceKey,
  keystr,
  treeFlatten,
  treeFlattenWithPath,
  treeLeavesWithPath,
  treeMapWithPath,
} from '@kiln/pytree';

const keys = suite('keystr');

keys('renders sequence, dictionary and attribute steps the way jax does', () => {
  assert.is(keystr([new SequenceKey(0), new AttrKey('w'), new DictKey('a')]), "[0].w['a']");
  assert.is(keystr([]), '');
  assert.is(keystr([new DictKey(3), new DictKey("it's")]), "[3]['it\\'s']");
});

const withPath = suite('path variants');

withPath('treeFlattenWithPath pairs each leaf with its path and returns the same spec', () => {
  const tree = { a: [1, { b: 2 }], m: new Map<unknown, number>([[7, 3]]) };
  const [pairs, spec] = treeFlattenWithPath(tree);
  assert.equal(pairs.map(([path, leaf]) => [keystr(path), leaf]), [["['a'][0]", 1], ["['a'][1]['b']", 2], ["['m'][7]", 3]]);
  assert.ok(spec.equals(treeFlatten(tree)[1]));
  assert.instance(pairs[0]![0][0], DictKey);
  assert.instance(pairs[0]![0][1], SequenceKey);
});

withPath('treeLeavesWithPath and treeMapWithPath agree with the plain functions', () => {
  const tree = [{ x: 1 }, 2];
  assert.equal(treeLeavesWithPath(tree).map(([, leaf]) => leaf), treeFlatten(tree)[0]);
  const labelled = treeMapWithPath((path, leaf: number, other: number) => `${keystr(path)}=${leaf + other}`, tree, [{ x: 10 }, 20]);
  assert.equal(labelled, [{ x: "[0]['x']=11" }, '[1]=22']);
});

keys.run();
withPath.run();
