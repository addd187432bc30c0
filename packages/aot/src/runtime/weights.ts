// The module's binary data: base64 text inlined in the module, or a file beside it (a .safetensors file for
// the weights), read with fetch in a browser and with Node's fs where fetch cannot read file: URLs. Node's
// fs is reached through process.getBuiltinModule (Node ≥ 20.16), never imported, so the module has no
// `node:` import for a browser or bundler to trip on.
import { AotLoadError } from './errors.js';

/** Decodes base64 (RFC 4648, no line breaks) without atob's Latin-1 string round trip. */
export function fromBase64(text: string): Uint8Array {
  const table = new Uint8Array(128);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < clean.length; i++) {
    acc = (acc << 6) | table[clean.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

type ReadFile = (url: URL) => Promise<Uint8Array>;

/** Node's readFile, found without an import (undefined in a browser). */
function nodeReadFile(): ReadFile | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => { readFile: ReadFile } | undefined } }).process;
  return proc?.getBuiltinModule?.('fs/promises')?.readFile;
}

/** The bytes at `url` (relative to the module), by fetch, or by Node's fs for a file: URL. */
export async function readBytes(url: URL): Promise<Uint8Array> {
  const readFile = url.protocol === 'file:' ? nodeReadFile() : undefined;
  try {
    if (readFile) return new Uint8Array(await readFile(url));
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    throw Object.assign(new AotLoadError(`cannot read ${url.href}: ${(err as Error).message}`, 'keep the file beside the module, or pass its bytes: load({ weights: bytes })'), { cause: err });
  }
}

/** A tensor of a safetensors blob: where its bytes are. */
export interface BlobTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

const SAFETENSORS_DTYPES: Record<string, string> = { F32: 'float32', I32: 'int32', BOOL: 'bool', U8: 'bool' };

/**
 * Reads a safetensors blob: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] } }`, then the data. Checked, never trusted: offsets
 * inside the data, sizes that match the shape.
 */
export function readSafetensors(blob: Uint8Array): Map<string, BlobTensor> {
  const fail = (why: string): never => {
    throw new AotLoadError(`weights blob: ${why}`, 'use the .safetensors file written with this module');
  };
  if (blob.length < 8) fail('shorter than its header');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const headerBytes = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (8 + headerBytes > blob.length) fail('its header runs past the end');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(blob.subarray(8, 8 + headerBytes)));
  } catch {
    return fail('its header is not JSON');
  }
  const data = blob.subarray(8 + headerBytes);
  const tensors = new Map<string, BlobTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = SAFETENSORS_DTYPES[t.dtype] ?? fail(`tensor ${JSON.stringify(name)} has dtype ${JSON.stringify(t.dtype)}, which the module does not read`);
    const [begin, end] = t.data_offsets;
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= data.length && end - begin === numel * (dtype === 'bool' ? 1 : 4))) fail(`tensor ${JSON.stringify(name)} has offsets that do not fit its shape or the blob`);
    tensors.set(name, { dtype, shape: t.shape, bytes: data.subarray(begin, end) });
  }
  return tensors;
}
