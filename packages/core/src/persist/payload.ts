// How an entry's data becomes bytes. JSON where the data survives it exactly: a fresh process parses JSON
// several times faster than it deserializes V8's format (a frame entry of the demo block: ≈1.2 against
// ≈5.5 ms), and a cached compile reads little else. Data JSON alone would change is tried next as tagged
// JSON: each typed array, Map, Set, undefined, -0, NaN, ±Infinity and bigint becomes a one-key object `{"\u0000":
// [tag, text]}` (the demo block's backend entry, a program with its wasm bytes and a constant's bytes: ≈1.5
// against ≈11 ms in V8's format). Both are read back at store time and compared with the data; anything
// that does not come back exactly (a Date, a class instance, an object that already looks like a tag) is written in
// V8's format, which keeps every such value. In plain JSON an object property holding undefined counts as
// absent (JSON leaves it out; reading it gives undefined either way). The first byte tells the formats
// apart: V8's begins with its version tag (0xFF), tagged JSON with 0x01, plain JSON with `{` or `[`.
import { deserialize, serialize } from 'node:v8';

const V8_VERSION_TAG = 0xff;
const TAGGED_JSON = 0x01;
const TAG = '\u0000';

const TYPED_ARRAYS: Readonly<Record<string, new (buffer: ArrayBuffer) => ArrayBufferView>> = {
  Uint8Array, Int8Array, Uint8ClampedArray, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

/** Whether `read` stands for `data` exactly, a property holding undefined counting as absent. */
function sameData(read: unknown, data: unknown): boolean {
  if (data === null || typeof data !== 'object') return Object.is(read, data);
  if (read === null || typeof read !== 'object') return false;
  if (ArrayBuffer.isView(data)) {
    if (!ArrayBuffer.isView(read) || read.constructor !== data.constructor || TYPED_ARRAYS[data.constructor.name] !== data.constructor) return false;
    return Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  // Maps and sets in the same order (what a reader iterating them sees).
  for (const Kind of [Map, Set]) {
    if (data instanceof Kind) return read instanceof Kind && Object.getPrototypeOf(data) === Kind.prototype && read.size === data.size && sameData([...read], [...data]);
  }
  if (Array.isArray(data)) return Array.isArray(read) && read.length === data.length && data.every((x, i) => sameData(read[i], x));
  if (Array.isArray(read) || ArrayBuffer.isView(read) || read instanceof Map || read instanceof Set || Object.getPrototypeOf(data) !== Object.prototype) return false;
  const r = read as Record<string, unknown>;
  const d = data as Record<string, unknown>;
  const keys = new Set([...Object.keys(r), ...Object.keys(d)]);
  for (const k of keys) if (!sameData(r[k], d[k])) return false;
  return true;
}

/** JSON.stringify's replacer for tagged JSON. */
function tagged(_key: string, v: unknown): unknown {
  if (v === undefined) return { [TAG]: ['u'] };
  if (typeof v === 'bigint') return { [TAG]: ['b', String(v)] };
  if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return { [TAG]: ['n', Object.is(v, -0) ? '-0' : String(v)] };
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return { [TAG]: [v.constructor.name, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')] };
  if (v instanceof Map) return { [TAG]: ['Map', [...v]] };
  if (v instanceof Set) return { [TAG]: ['Set', [...v]] };
  return v;
}

function untag([tag, text]: readonly [string, unknown?]): unknown {
  if (tag === 'u') return undefined;
  if (tag === 'b') return BigInt(text as string);
  if (tag === 'n') return Number(text);
  if (tag === 'Map' && Array.isArray(text)) return new Map(untagAll(text) as [unknown, unknown][]);
  if (tag === 'Set' && Array.isArray(text)) return new Set(untagAll(text) as unknown[]);
  const View = Object.hasOwn(TYPED_ARRAYS, tag) ? TYPED_ARRAYS[tag] : undefined;
  if (!View || typeof text !== 'string') throw new Error(`unknown tag '${tag}' in a cache entry`);
  const bytes = Buffer.from(text, 'base64');
  // A fresh buffer of its own: aligned for the view, and no other array shares it.
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new View(copy);
}

/** Parsed tagged JSON with its tags replaced (in place) by the values they stand for. */
function untagAll(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = untagAll(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (Object.hasOwn(o, TAG)) return untag(o[TAG] as [string, unknown?]);
  for (const k of Object.keys(o)) o[k] = untagAll(o[k]);
  return o;
}

const utf8 = (bytes: Uint8Array, from = 0): string => Buffer.from(bytes.buffer, bytes.byteOffset + from, bytes.byteLength - from).toString('utf8');

/** `text` when it parses back to `data` exactly (after `read`), else undefined; JSON.stringify may throw (a cycle, a bigint). */
function exactly(data: unknown, stringify: () => string | undefined, read: (parsed: unknown) => unknown): string | undefined {
  try {
    const text = stringify();
    return text !== undefined && sameData(read(JSON.parse(text)), data) ? text : undefined;
  } catch {
    return undefined;
  }
}

export function encodePayload(data: unknown): Uint8Array {
  const plain = exactly(data, () => JSON.stringify(data), (x) => x);
  if (plain !== undefined) return Buffer.from(plain, 'utf8');
  const withTags = exactly(data, () => JSON.stringify(data, tagged), untagAll);
  if (withTags !== undefined) return Buffer.concat([Buffer.of(TAGGED_JSON), Buffer.from(withTags, 'utf8')]);
  return serialize(data);
}

/** Throws on bytes that are none of the formats (the caller counts that as a miss). */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes[0] === V8_VERSION_TAG) return deserialize(bytes);
  if (bytes[0] === TAGGED_JSON) return untagAll(JSON.parse(utf8(bytes, 1)));
  return JSON.parse(utf8(bytes));
}
