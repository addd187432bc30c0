// One file per key under the cache folder. A file is: magic, the key's text, the payload, and a SHA-256 of
// both; a file that is short, damaged, written by another format or for another key is a miss (logged under
// KILN_LOGS=cache), never an error. Writers write a temporary file and rename it into place, so a reader
// sees a whole file or none, and concurrent writers of one key leave one of their files.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = Buffer.from('KILNCACHE\u0001', 'latin1');
const DIGEST_BYTES = 32;

export type ReadResult = { readonly payload: Uint8Array } | { readonly miss: 'absent' | 'damaged' | 'other key'; readonly detail?: string };

const digest = (key: Buffer, payload: Uint8Array): Buffer => createHash('sha256').update(key).update(payload).digest();

/** The file that holds `keyText` (its hash names it; the text inside decides). */
export function entryPath(dir: string, kind: string, keyText: string): string {
  return join(dir, `${kind}-${createHash('sha256').update(keyText).digest('hex').slice(0, 40)}.bin`);
}

export function encodeEntry(keyText: string, payload: Uint8Array): Buffer {
  const key = Buffer.from(keyText, 'utf8');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32LE(key.length, 0);
  lengths.writeUInt32LE(payload.length, 4);
  return Buffer.concat([MAGIC, lengths, key, payload, digest(key, payload)]);
}

export function decodeEntry(bytes: Buffer, keyText: string): ReadResult {
  const head = MAGIC.length + 8;
  if (bytes.length < head + DIGEST_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { miss: 'damaged', detail: 'not a Kiln cache file of this format' };
  const keyLength = bytes.readUInt32LE(MAGIC.length);
  const payloadLength = bytes.readUInt32LE(MAGIC.length + 4);
  if (head + keyLength + payloadLength + DIGEST_BYTES !== bytes.length) return { miss: 'damaged', detail: 'truncated or padded' };
  const key = bytes.subarray(head, head + keyLength);
  const payload = bytes.subarray(head + keyLength, head + keyLength + payloadLength);
  if (!digest(key, payload).equals(bytes.subarray(head + keyLength + payloadLength))) return { miss: 'damaged', detail: 'checksum mismatch' };
  if (key.toString('utf8') !== keyText) return { miss: 'other key', detail: 'written for another key (another Kiln, config or source)' };
  return { payload: new Uint8Array(payload) };
}

export function readEntry(path: string, keyText: string): ReadResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return { miss: 'absent' };
  }
  return decodeEntry(bytes, keyText);
}

/** Writes atomically (temporary file, then rename); throws what the file system raised. */
export function writeEntry(dir: string, path: string, keyText: string, payload: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, encodeEntry(keyText, payload));
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
