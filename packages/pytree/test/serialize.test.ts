import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  SerializationError,
  TreeSpec,
  deserializeTreeSpec,
  registerDataclass,
  registerPytreeNode,
  registerStatic,
  serializeTreeSpec,
  treeStructure,
  withOptions,
} from '@kiln/pytree';

const roundTrip = suite('serialize: round trips');

roundTrip('built-in nodes, null/undefined and Map keys of several types survive JSON', () => {
  const spec = treeStructure([
    1,
    { a: null, b: undefined, 'weird "key"\n': [2] },
    new Map<unknown, unknown>([[1, 0], ['1', 0], [true, 0], [null, 0], [NaN, 0], [-0, 0], [10n, 0]]),
    Object.assign(Object.create(null), { z: 0 }),
  ]);
  const text = spec.serialize();
  assert.type(text, 'string');
  const back = TreeSpec.deserialize(text);
  assert.ok(back.equals(spec));
  assert.is(back.toString(), spec.toString());
  assert.ok(deserializeTreeSpec(serializeTreeSpec(spec)).equals(spec));
  const rebuilt = back.unflatten([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // (Map itself turns -0 into 0.)
  assert.equal([...rebuilt[2].keys()], [1, '1', true, null, NaN, 0, 10n]);
});

roundTrip('registered nodes round-trip by namespace and name, with their metadata', () => {
  class Module {
    constructor(
      public params: unknown,
      public training: boolean,
    ) {}
  }
  class Device {
    constructor(readonly kind: string) {}
  }
  class Pair {
    constructor(
      readonly a: unknown,
      readonly b: unknown,
    ) {}
  }
  registerDataclass(Module, { dataFields: ['params'], metaFields: ['training'], namespace: 'test-serialize' });
  registerStatic(Device, { namespace: 'test-serialize', toJSON: (d) => d.kind, fromJSON: (k) => new Device(k as string) });
  registerPytreeNode(Pair, {
    namespace: 'test-serialize',
    flatten: (p) => ({ children: [p.a, p.b], keys: ['a', 'b'] }),
    unflatten: (_m, [a, b]) => new Pair(a, b),
  });
  const pt = withOptions({ namespace: 'test-serialize' });
  const spec = pt.treeStructure([new Module({ w: 1 }, true), new Device('cpu'), new Pair(1, 2)]);
  const back = TreeSpec.deserialize(spec.serialize());
  assert.ok(back.equals(spec));
  const rebuilt = back.unflatten([5, 6, 7]);
  assert.instance(rebuilt[0], Module);
  assert.is(rebuilt[0].training, true);
  assert.equal(rebuilt[1], new Device('cpu'));
  assert.equal(rebuilt[2], new Pair(6, 7));
});

const failures = suite('serialize: failures');

failures('metadata that does not survive JSON needs metaToJSON', () => {
  class Handle {
    constructor(readonly fn: () => void) {}
  }
  registerStatic(Handle, { namespace: 'test-serialize-bad' });
  const spec = withOptions({ namespace: 'test-serialize-bad' }).treeStructure({ h: new Handle(() => {}) });
  assert.throws(() => spec.serialize(), (e: unknown) => e instanceof SerializationError && /metaToJSON/.test(String(e)));
});

failures('unknown classes, bad JSON and foreign formats are rejected with a hint', () => {
  const unknown = JSON.stringify({ format: 'kiln-pytree/1', root: { t: 'custom', ns: 'nowhere', name: 'Ghost', c: [] } });
  assert.throws(() => TreeSpec.deserialize(unknown), /no class is registered as 'Ghost' in namespace 'nowhere'/);
  assert.throws(() => TreeSpec.deserialize('{'), (e: unknown) => e instanceof SerializationError && /not JSON/.test(String(e)));
  assert.throws(() => TreeSpec.deserialize('{"format": "other"}'), /format tag/);
  const objectKeys = treeStructure(new Map([[{}, 1]]));
  assert.throws(() => objectKeys.serialize(), /cannot serialize the key/);
});

roundTrip.run();
failures.run();
