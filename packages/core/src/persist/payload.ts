// How an entry's data becomes bytes. JSON where the data survives it exactly: a fresh process parses JSON
// several times faster than it deserializes V8's format (a frame entry of the demo block: ≈1.2 against
// ≈5.5 ms), and a cached compile reads little else. Anything JSON would change (-0, NaN, undefined, a
// bigint, a typed array) is caught by reading the text back at store time, and the entry is then written in
// V8's format, which keeps every such value. An object property holding undefined counts as absent (JSON
// leaves it out; reading it gives undefined either way). The first byte tells the formats apart: V8's
// begins with its version tag (0xFF), JSON text with `{` or `[`.
import { deserialize, serialize } from 'node:v8';

const V8_VERSION_TAG = 0xff;

/** Whether `read` (parsed JSON) stands for `data` exactly, a property holding undefined counting as absent. */
function sameAfterJson(read: unknown, data: unknown): boolean {
  if (data === null || typeof data !== 'object') return Object.is(read, data);
  if (read === null || typeof read !== 'object') return false;
  if (Array.isArray(data)) return Array.isArray(read) && read.length === data.length && data.every((x, i) => sameAfterJson(read[i], x));
  if (Array.isArray(read) || Object.getPrototypeOf(data) !== Object.prototype) return false;
  const r = read as Record<string, unknown>;
  const d = data as Record<string, unknown>;
  const keys = new Set([...Object.keys(r), ...Object.keys(d)]);
  for (const k of keys) if (!sameAfterJson(r[k], d[k])) return false;
  return true;
}

export function encodePayload(data: unknown): Uint8Array {
  try {
    const text = JSON.stringify(data);
    if (text !== undefined && sameAfterJson(JSON.parse(text), data)) return Buffer.from(text, 'utf8');
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
