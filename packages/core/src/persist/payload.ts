// How an entry's data becomes bytes. JSON where the data survives it exactly: a fresh process parses JSON
// several times faster than it deserializes V8's format (a frame entry of the demo block: ≈1.2 against
// ≈5.5 ms), and a cached compile reads little else. Anything JSON would change (-0, NaN, undefined, a
// bigint, a typed array) is caught by reading the text back at store time, and the entry is then written in
// V8's format, which keeps every such value. The first byte tells them apart: V8's format begins with its
// version tag (0xFF), JSON text with `{` or `[`.
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';

const V8_VERSION_TAG = 0xff;

export function encodePayload(data: unknown): Uint8Array {
  try {
    const text = JSON.stringify(data);
    if (text !== undefined && isDeepStrictEqual(JSON.parse(text), data)) return Buffer.from(text, 'utf8');
  } catch {
    // Not JSON at all (a cycle, a bigint): V8's format below.
  }
  return serialize(data);
}

/** Throws on bytes that are neither (the caller counts that as a miss). */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes[0] === V8_VERSION_TAG) return deserialize(bytes);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}
