// How the persistent cache writes an entry's data: JSON where the data survives it exactly (a fresh process
// parses it several times faster than V8's format), V8's format for anything JSON would change. Either way
// what is read back is what was written.
import { isDeepStrictEqual } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePayload, encodePayload } from '../src/persist/payload.js';

const Payload = suite('persistent cache payloads');

Payload('plain data is written as JSON text and read back equal', () => {
  const data = { format: 1, records: [{ text: 'L[0].shape[0] === 2', n: 3.5, ok: true, none: null, list: ['a', 1] }] };
  const bytes = encodePayload(data);
  assert.is(String.fromCharCode(bytes[0]!), '{', 'JSON text');
  assert.equal(decodePayload(bytes), data);
});

Payload('values JSON would change (-0, NaN, ±Infinity, undefined, bigint, bytes) keep their exact value', () => {
  const cases: unknown[] = [{ v: -0 }, { v: NaN }, { v: Infinity }, { v: -Infinity }, [undefined], { v: 10n }, { v: new Uint8Array([1, 2]) }, { v: new Map([[1, 2]]) }, { v: new Date(0) }];
  for (const data of cases) {
    const bytes = encodePayload(data);
    assert.is(bytes[0], 0xff, `V8's format for ${String((data as { v?: unknown }).v)}`);
    const back = decodePayload(bytes);
    assert.ok(isDeepStrictEqual(back, data), `read back equal: ${String((data as { v?: unknown }).v)}`);
  }
  // -0 survives inside an otherwise plain record: JSON would have written 0.
  assert.ok(Object.is((decodePayload(encodePayload({ a: [1, { b: -0 }] })) as { a: [number, { b: number }] }).a[1].b, -0));
});

Payload('a property holding undefined is left out of the JSON: reading it back gives undefined', () => {
  const bytes = encodePayload({ graph: undefined, guards: [{ text: 'x', location: undefined }] });
  assert.is(String.fromCharCode(bytes[0]!), '{', 'JSON text');
  const back = decodePayload(bytes) as { graph?: unknown; guards: { text: string; location?: string }[] };
  assert.is(back.graph, undefined);
  assert.is(back.guards[0]!.location, undefined);
  assert.is(back.guards[0]!.text, 'x');
});

Payload('bytes that are neither format throw (the cache counts a miss)', () => {
  assert.throws(() => decodePayload(new Uint8Array([0x41, 0x42])));
});

Payload.run();
