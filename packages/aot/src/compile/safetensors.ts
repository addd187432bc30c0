// The weights blob in safetensors layout: an 8-byte little-endian header length, a JSON header (padded
// with spaces to 8 bytes), then each tensor's bytes. The runtime reads it (runtime/weights.ts).
import type { Tensor } from '@kiln/tensor';
import { AotCompileError } from './source.js';

const CODES: Record<string, string> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

export function writeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const code = CODES[t.dtype];
    if (!code) throw new AotCompileError(`weight ${JSON.stringify(name)} is ${t.dtype}; AOT modules store float32, int32 and bool weights`, `convert it with .to('float32')`);
    const data = t.toTypedArray();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: code, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
