// Specs read from text that may come from anywhere, registered nodes that break their contract, and specs
// far larger than the memory they take (compose shares subtrees): each is refused with a typed error that
// says where, or handled in time and space linear in what the spec holds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  LeafCountError,
  SerializationError,
  StructureMismatchError,
  TreeSpec,
  deserializeTreeSpec,
  keystr,
  registerDataclass,
  registerPytreeNode,
  registerStatic,
  treeStructure,
  unregisterPytreeNode,
  withOptions,
} from '@kiln/pytree';
import { fuzzSettings, fuzzTimeLeft } from '../../../test-support/fuzz-settings.js';
import { mutateJson, seededRandom } from '../../../test-support/json-mutation.js';

const spec2 = (root: unknown) => JSON.stringify({ format: 'kiln-pytree/2', root });
const spec1 = (root: unknown) => JSON.stringify({ format: 'kiln-pytree/1', root });

function refused(text: string, message: RegExp | string): void {
  try {
    const spec = TreeSpec.deserialize(text);
    assert.unreachable(`accepted ${text.slice(0, 120)} as ${spec.toString().slice(0, 120)}`);
  } catch (error) {
    if (!(error instanceof SerializationError)) throw new Error(`${text.slice(0, 120)} raised ${String(error)}, not a SerializationError`);
    if (typeof message === 'string') assert.ok(String(error).includes(message), `${String(error)} should say ${message}`);
    else assert.match(String(error), message);
  }
}

const keys = suite('untrusted specs: keys');

keys('an object node with a repeated key is refused (unflatten would silently drop a leaf)', () => {
  refused(spec1({ t: 'object', k: ['a', 'a'], c: ['*', '*'] }), "an object node has the key 'a' twice");
  refused(spec2({ t: 'nullProtoObject', k: ['x', 'x'], c: ['*', { t: 'null' }] }), "the key 'x' twice");
  refused(spec2([{ t: 'object', k: ['a', 1], c: ['*', '*'] }]), /a node is \[/);
  refused(spec2({ t: 'array', c: [{ t: 'object', k: ['a', 1], c: ['*', '*'] }] }), /the key 1, which is not a string \(at \[0\]\)/);
  refused(spec2({ t: 'object', k: ['a'], c: ['*', '*'] }), 'an object node has 1 keys for 2 children');
});

keys('object keys must be in an order objects have (found by the fuzzer: leaves came back permuted)', () => {
  // JS lists integer-like keys first: { bigint, 7 } unflattens to { 7, bigint }, which flattens the other way.
  refused(spec2({ t: 'object', k: ['bigint', '7'], c: ['*', '*'] }), "keys ['bigint', '7'] are in an order no object has");
  refused(spec2({ t: 'object', k: ['b', '2', '1'], c: ['*', '*', '*'] }), 'in an order no object has');
  // Property order (indices ascending, then the rest as inserted) and sortKeys' code-unit order are fine.
  // ('4294967295' is past the largest array index, so objects list it with the other strings.)
  refused(spec2({ t: 'object', k: ['4294967295', '0'], c: ['*', '*'] }), 'in an order no object has');
  for (const k of [['1', '2', 'b', 'a'], ['9', '10'], ['10', '9', 'a'], ['01', 'a'], ['0', '4294967295', '01']]) {
    const spec = TreeSpec.deserialize(spec2({ t: 'object', k, c: k.map(() => '*') }));
    const tree = spec.unflatten(k.map((_, i) => i));
    assert.ok(treeStructure(tree).equals(spec) || treeStructure(tree, { sortKeys: true }).equals(spec), k.join(','));
  }
});

keys('malformed Map keys are SerializationErrors, never SyntaxError, RangeError, TypeError or NaN', () => {
  const bad: [unknown, string][] = [
    [['bigint', 'x'], 'does not hold a decimal integer string'],
    [['bigint', 1.5], 'does not hold a decimal integer string'],
    [['bigint', '1e3'], 'does not hold a decimal integer string'],
    [['number', 'abc'], 'does not hold a number'],
    [['number', null], 'does not hold a number'],
    [null, 'is not a [type, value] pair'],
    [[], 'is not a [type, value] pair'],
    [['string', 5], 'does not hold a string'],
    [['boolean', 'yes'], 'does not hold a boolean'],
    [['null', 0], 'has a value after its type'],
    [['symbol', 'x'], 'unknown key type "symbol"'],
    ['x', 'is not a [type, value] pair'],
    // BigInt parsing is superlinear: a megabyte of digits would take half a second.
    [['bigint', '9'.repeat(10_001)], 'has more than 10000 digits'],
  ];
  for (const [key, message] of bad) refused(spec2({ t: 'map', k: [key], c: ['*'] }), message);
  refused(spec2({ t: 'map', k: [['number', 1], ['number', 1]], c: ['*', '*'] }), 'a map node has the key 1 twice');
  refused(spec2({ t: 'map', k: [['number', 'NaN'], ['number', 'NaN']], c: ['*', '*'] }), 'the key NaN twice');
  refused(spec2({ t: 'map', k: [['number', 0], ['number', '-0']], c: ['*', '*'] }), 'twice');
  refused(spec2({ t: 'map', k: 'ab', c: ['*'] }), 'a map node has keys "ab" for 1 children');
  // The well-formed ones still decode, non-finite numbers included.
  const good = TreeSpec.deserialize(spec2({ t: 'map', k: [['number', 'NaN'], ['bigint', '-12'], ['string', '1'], ['number', 1]], c: ['*', '*', '*', '*'] }));
  assert.equal(good.entries(), [NaN, -12n, '1', 1]);
  assert.throws(() => treeStructure(new Map([[10n ** 10_001n, 0]])).serialize(), (e: unknown) => e instanceof SerializationError && /a bigint key of 10002 digits/.test(String(e)));
});

keys('registered nodes are checked against their registration', () => {
  class Rec {
    constructor(public w: unknown, public b: unknown, public tag = 'x') {}
  }
  class Unit {}
  registerDataclass(Rec, { dataFields: ['w', 'b'], metaFields: ['tag'], namespace: 'untrusted' });
  registerStatic(Unit, { namespace: 'untrusted', fromJSON: (json) => { if (json !== 'unit') throw new Error('not a unit'); return new Unit(); }, toJSON: () => 'unit' });
  const pt = withOptions({ namespace: 'untrusted' });
  const spec = pt.treeStructure([new Rec(1, 2), new Unit()]);
  assert.ok(TreeSpec.deserialize(spec.serialize()).equals(spec));
  const rec = (extra: object) => spec2({ t: 'custom', ns: 'untrusted', name: 'Rec', meta: ['x'], k: [['string', 'w'], ['string', 'b']], c: ['*', '*'], ...extra });
  refused(rec({ c: ['*'] }), 'a Rec node has 2 keys for 1 children');
  refused(rec({ k: undefined, c: ['*'] }), 'does not have the registered data fields [w, b]');
  refused(rec({ k: [['string', 'b'], ['string', 'w']] }), 'does not have the registered data fields');
  refused(rec({ meta: 'x' }), "a Rec node's metadata is not a list of its 1 meta fields");
  refused(rec({ ns: 5 }), 'namespace and name are 5 and "Rec", not strings');
  refused(spec2({ t: 'custom', ns: 'untrusted', name: 'Unit', meta: 'unit', c: ['*'] }), 'a Unit node (registered static) has 1 children');
  refused(spec2({ t: 'custom', ns: 'untrusted', name: 'Unit', meta: 'other', c: [] }), 'the metaFromJSON registered for Unit threw Error: not a unit');
  refused(spec2({ t: 'custom', ns: 'nowhere', name: '__proto__', c: [] }), "no class is registered as '__proto__' in namespace 'nowhere'");
});

keys('non-text and odd roots are typed errors', () => {
  assert.throws(() => deserializeTreeSpec(null as never), (e: unknown) => e instanceof SerializationError && /expected JSON text, got null/.test(String(e)));
  refused(spec2(undefined), 'a node is undefined');
  refused(spec2({ t: 'array' }), 'a "array" node has no children list');
  refused(spec2({ t: 'tuple', c: [] }), 'unknown node type "tuple"');
});

const refs = suite('untrusted specs: shared subtrees and size');

refs('refs point backwards only, to nodes with children, and only in format 2', () => {
  const pair = { t: 'array', c: ['*', '*'] };
  const ok = TreeSpec.deserialize(spec2({ t: 'array', c: [pair, { t: 'ref', i: 0 }] }));
  assert.is(ok.toString(), 'TreeSpec([[*, *], [*, *]])');
  assert.is(ok.childSpecs[0], ok.childSpecs[1]);
  refused(spec2({ t: 'array', c: [{ t: 'ref', i: 0 }, pair] }), /a ref points to node 0, but only 0 nodes with children came before it \(at \[0\]\)/);
  refused(spec2({ t: 'array', c: [pair, { t: 'ref', i: 1 }] }), 'a ref points to node 1');
  refused(spec2({ t: 'array', c: [pair, { t: 'ref', i: '0' }] }), 'a ref points to node "0"');
  refused(spec1({ t: 'array', c: [pair, { t: 'ref', i: 0 }] }), "a ref node in format 'kiln-pytree/1'");
});

refs('refs cannot make a spec deeper than the depth limit or larger than counts can hold', () => {
  // Each level is an array holding the level below twice: 70 levels stand for 2^70 leaves in 2 kB of text.
  let doubling: unknown = { t: 'array', c: ['*', '*'] };
  for (let i = 0; i < 70; i++) doubling = { t: 'array', c: [doubling, { t: 'ref', i }] };
  refused(spec2(doubling), 'more than 2^53 nodes');
  // 600 levels of JSON nesting whose innermost level refers to another 600-level chain: 1,200 levels.
  const chain = (n: number, inner: unknown) => {
    let node = inner;
    for (let i = 0; i < n; i++) node = { t: 'array', c: [node] };
    return node;
  };
  refused(spec2({ t: 'array', c: [chain(600, '*'), chain(600, { t: 'ref', i: 599 })] }), 'its refs make a spec deeper than 1000 levels');
  refused(spec2(chain(1200, '*')), 'it nests deeper than 1000 levels');
});

refs('composing a large spec with itself is linear in its size, and so are serialize, deserialize and toString', () => {
  const spec = treeStructure(Array.from({ length: 2000 }, (_, i) => ({ w: i, b: [i] })));
  const composed = spec.compose(spec);
  assert.is(composed.numLeaves, 4000 * 4000);
  const text = composed.serialize();
  // Written out in full it would be about 16 M leaves; shared, it is the two specs once each.
  assert.ok(text.length < 3 * spec.serialize().length, `serialized compose is ${text.length} characters`);
  const back = TreeSpec.deserialize(text);
  assert.ok(back.equals(composed) && composed.equals(back));
  assert.is(back.numLeaves, 16_000_000);
  assert.ok(back.childSpecs[0]!.isPrefixOf(composed.childSpecs[1]!));
  assert.not.ok(back.equals(spec.compose(treeStructure([1, 2]))));
  const shown = composed.toString();
  assert.ok(shown.length < 200_000, `toString is ${shown.length} characters`);
  assert.ok(shown.startsWith('TreeSpec([{w: [{w: *, b: [*]}, {w: *, b: [*]}'), shown.slice(0, 80));
  assert.ok(shown.endsWith(', ...])'), shown.slice(-80));
});

refs('unflatten reads an endless iterator only one past the leaf count', () => {
  const spec = treeStructure({ a: 1, b: [2, 3] });
  let read = 0;
  function* endless() {
    for (;;) yield read++;
  }
  try {
    spec.unflatten(endless());
    assert.unreachable();
  } catch (error) {
    assert.instance(error, LeafCountError);
    assert.match(String(error), 'treeUnflatten expected 3 leaves but got more than 3');
  }
  assert.is(read, 4);
  assert.equal(spec.unflatten(new Set([7, 8, 9])), { a: 7, b: [8, 9] });
  assert.throws(() => spec.unflatten(new Set([7, 8])), /expected 3 leaves but got 2/);
});

const contract = suite('registered nodes: flatten must return one key per child');

contract('keys of the wrong length or type raise StructureMismatchError naming the class, on every path', () => {
  let badKeys: unknown = ['a', 'b'];
  const keysFor = (p: Pair): unknown => (p.a === 'bad' ? badKeys : ['a', 'b']);
  class Pair {
    constructor(public a: unknown, public b: unknown) {}
  }
  registerPytreeNode(Pair, {
    namespace: 'untrusted-keys',
    flatten: (p) => ({ children: [p.a, p.b], keys: keysFor(p) as string[] }),
    unflatten: (_m, [a, b]) => new Pair(a, b),
  });
  const pt = withOptions({ namespace: 'untrusted-keys' });
  const good = { p: new Pair(1, 2) };
  const bad = { p: new Pair('bad', 2) };
  // Flattened a few times first, so that the generated (specialized) flatten is in use.
  for (let i = 0; i < 4; i++) assert.equal(pt.treeLeaves(good), [1, 2]);
  assert.equal(pt.treeFlattenWithPath(good)[0].map(([path]) => keystr(path)), ["['p'].a", "['p'].b"]);
  const cases: [unknown, string][] = [
    [['a'], 'the registered flatten of Pair returned 1 keys for 2 children'],
    [['a', 'b', 'c'], 'returned 3 keys for 2 children'],
    ['ab', 'returned keys that are not an array (string) for 2 children'],
    [null, 'returned keys that are not an array (null)'],
  ];
  for (const [keys, message] of cases) {
    badKeys = keys;
    // Generic and generated flatten, flatten with paths, and matching against a spec (treeMap's extra trees).
    for (const run of [() => pt.treeLeaves(bad), () => pt.treeFlattenWithPath(bad), () => pt.treeStructure(bad).entries(), () => pt.treeMap((x: unknown) => x, good, bad)]) {
      try {
        run();
        assert.unreachable(`keys ${JSON.stringify(keys)} were accepted`);
      } catch (error) {
        assert.ok(error instanceof StructureMismatchError, `${JSON.stringify(keys)} ${run}: ${String(error)}`);
        assert.ok(String(error).includes(message), String(error));
        assert.ok(String(error).includes("(at ['p'])"), String(error));
      }
    }
  }
  assert.equal(pt.treeLeaves(good), [1, 2]);
});

keys.run();
refs.run();
contract.run();

const fuzz = suite('untrusted specs: mutation fuzz');

const REPLACEMENTS: unknown[] = [null, 0, 1, -1, 1.5, '', '*', 'a', '__proto__', [], {}, true, ['number', 1], ['bigint', '7'], ['string', 'a'], { t: 'ref', i: 0 }, { t: 'null' }, { t: 'array', c: [] }, { t: 'map', k: [], c: [] }];

fuzz('every mutation of a serialized spec gives a spec that round-trips, or a SerializationError', () => {
  class Cell {
    constructor(public value: unknown, public tag = 't') {}
  }
  registerDataclass(Cell, { dataFields: ['value'], metaFields: ['tag'], namespace: 'untrusted-fuzz' });
  const pt = withOptions({ namespace: 'untrusted-fuzz' });
  const bases = [
    pt.treeStructure({ a: [1, { b: 2, c: null }], m: new Map<unknown, unknown>([[1, 3], ['1', [4, 5]], [NaN, undefined]]), d: new Cell([6, 7]) }),
    treeStructure(Array.from({ length: 4 }, () => ({ w: 1, b: [2] }))).compose(treeStructure([1, { x: 2 }])),
    treeStructure([Object.assign(Object.create(null), { k: 1, j: [2] }), [[[]]], { '': 0, __proto__x: 1 }]),
  ].map((spec) => JSON.parse(spec.serialize()));
  // CI: 3,000 mutations from a fixed seed; `pnpm fuzz spec-json --runs N --seed S` for a long run.
  const settings = fuzzSettings({ runs: 3000, seed: 0x5eed });
  const next = seededRandom(settings.seed);
  let accepted = 0;
  let refused = 0;
  let run = 0;
  for (; run < settings.runs && fuzzTimeLeft() > 0; run++) {
    const copy = mutateJson(bases[run % bases.length], next, REPLACEMENTS, 2);
    const text = JSON.stringify(copy);
    let spec: TreeSpec;
    try {
      spec = TreeSpec.deserialize(text);
    } catch (error) {
      if (!(error instanceof SerializationError)) throw new Error(`run ${run}: ${String(error)}\n${text.slice(0, 400)}`);
      refused++;
      continue;
    }
    accepted++;
    // What was accepted means what it says: it survives serialize, and a tree built from it has it as its
    // structure (a repeated key would lose a child here).
    assert.ok(TreeSpec.deserialize(spec.serialize()).equals(spec), `run ${run}: serialize round trip`);
    if (spec.numLeaves <= 10_000) {
      const tree = spec.unflatten(Array.from({ length: spec.numLeaves }, (_, i) => i));
      assert.ok(pt.treeStructure(tree).equals(spec), `run ${run}: ${spec.toString().slice(0, 200)} vs ${pt.treeStructure(tree).toString().slice(0, 200)}`);
    }
  }
  if (settings.long) console.log(`[fuzz spec-json] ${run} mutations from seed ${settings.seed}: ${accepted} accepted, ${refused} refused, 0 untyped errors`);
  if (!settings.long) assert.ok(accepted > 100 && refused > 500, `accepted ${accepted}, refused ${refused}`);
  unregisterPytreeNode(Cell, { namespace: 'untrusted-fuzz' });
});

fuzz.run();
