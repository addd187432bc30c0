// Byte-level encoding of the wasm binary format: LEB128 integers, IEEE floats, vectors, names.
//
// A module is written a byte at a time, mostly by a fresh process's first compile (the demo transformer
// block's ≈ 10 KB: ≈ 10,000 bytes, half of them LEB128 immediates), when this code still runs in V8's
// interpreter: so `byte` checks capacity inline and `u32` writes a value below 128 (most local indices and
// SIMD opcodes) without a loop or further calls. Floats go through one shared scratch, not a new buffer each.

/** The bytes of one float, little-endian (wasm's order, and every engine's that runs SIMD wasm). */
const FLOAT_BITS = new DataView(new ArrayBuffer(8));
const FLOAT_BYTES = new Uint8Array(FLOAT_BITS.buffer);

export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.grow(n);
  }

  private grow(n: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): this {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b & 0xff;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    this.reserve(bs.length);
    this.buf.set(bs, this.len);
    this.len += bs.length;
    return this;
  }

  /** Unsigned LEB128 (u32 indices, counts, alignments, offsets). */
  u32(v: number): this {
    if (v >= 0 && v < 0x80 && (v | 0) === v) {
      if (this.len === this.buf.length) this.grow(1);
      this.buf[this.len++] = v;
      return this;
    }
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 for i32.const. */
  i32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  f32(v: number): this {
    FLOAT_BITS.setFloat32(0, v, true);
    return this.bytes(FLOAT_BYTES.subarray(0, 4));
  }

  f64(v: number): this {
    FLOAT_BITS.setFloat64(0, v, true);
    return this.bytes(FLOAT_BYTES);
  }

  /** Names are ASCII identifiers chosen by the compiler, never user text. */
  name(s: string): this {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new TypeError(`wasm name '${s}' is not an identifier`);
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
    return this;
  }

  /** A section or function body: its byte size, then its bytes. */
  sized(inner: ByteWriter): this {
    return this.u32(inner.length).bytes(inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
