// The safetensors layout (the format Hugging Face's `safetensors` reads and writes): an 8-byte little-endian
// header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {
// string: string } }` padded with spaces to a multiple of 8, then the tensors' bytes, little-endian, row-major,
// packed in offset order with no holes. No npm package for it is in this project's registry list, and the
// layout is this small, so it is written here; reading validates every field (the bytes may come from anyone).
import type { DType, TypedArray } from '@kiln/tensor';
import { Tensor, allocate } from '@kiln/tensor';
import { ProgramFormatError } from '../errors.js';

const TO_SAFETENSORS: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const FROM_SAFETENSORS: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool' };
const ITEM_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
/** The reference implementation refuses larger headers; so does this one (a length field is untrusted). */
const MAX_HEADER_BYTES = 100_000_000;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function requireLittleEndian(): void {
  if (!littleEndian) throw new ProgramFormatError('safetensors: this platform is big-endian; the layout stores little-endian bytes', 'run on a little-endian machine (every browser and Node platform Kiln targets is)');
}

export function writeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  requireLittleEndian();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new ProgramFormatError("safetensors: a tensor cannot be named '__metadata__'");
    const data = t.toTypedArray();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: TO_SAFETENSORS[t.dtype], shape: t.shape.slice(), data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const encoded = () => new TextEncoder().encode(json);
  let headerBytes = encoded();
  // Padding with spaces keeps the data 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - (headerBytes.byteLength % 8)) % 8);
  headerBytes = encoded();
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export interface SafetensorsContents {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

const bad = (what: string): ProgramFormatError => new ProgramFormatError(`safetensors: ${what}`, 'the file is damaged or not a safetensors file');

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) throw new ProgramFormatError(`safetensors: expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.byteLength < 8) throw bad(`${bytes.byteLength} bytes is too short for the 8-byte header length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) throw bad(`the header length ${length} exceeds the file (${bytes.byteLength} bytes) or the 100 MB limit`);
  const n = Number(length);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw bad(`the header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('the header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart: 8 + n };
}

function readMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('__metadata__ is not an object');
  for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') throw bad(`__metadata__['${k}'] is not a string`);
  return raw as Record<string, string>;
}

export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  requireLittleEndian();
  const { header, dataStart } = parseHeader(bytes);
  const dataBytes = bytes.byteLength - dataStart;
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? FROM_SAFETENSORS[e.dtype] : undefined;
    if (!dtype) throw bad(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; Kiln reads ${Object.keys(FROM_SAFETENSORS).join(', ')}`);
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) throw bad(`tensor '${name}' has shape ${JSON.stringify(e.shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) throw bad(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    const numel = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataBytes || end - begin !== numel * ITEM_BYTES[dtype]) {
      throw bad(`tensor '${name}' (${dtype} [${(e.shape as number[]).join(', ')}]) has data_offsets [${begin}, ${end}] that do not fit its size or the ${dataBytes} data bytes`);
    }
    entries.push({ name, dtype, shape: e.shape as number[], begin, end });
  }
  // The layout has no holes and no overlaps: tensors tile the data exactly.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) throw bad(`tensor '${e.name}' starts at byte ${e.begin}, expected ${expected} (overlapping or missing data)`);
    expected = e.end;
  }
  if (expected !== dataBytes) throw bad(`${dataBytes - expected} bytes after the last tensor`);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data: TypedArray = allocate(e.dtype, (e.end - e.begin) / ITEM_BYTES[e.dtype]);
    // A copy: the file's bytes need not be aligned for the dtype, and the tensor must own its data.
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    if (e.dtype === 'bool') for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
    tensors.set(e.name, Tensor.fromData(data, e.shape, e.dtype));
  }
  return { tensors, metadata: readMetadata(header.__metadata__) };
}
