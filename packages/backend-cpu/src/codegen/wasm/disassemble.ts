// A text listing of the modules this emitter produces (for KILN_LOGS=output_code and for debugging): the
// code section decoded back through the same opcode tables, one instruction per line, indented by block.
// It covers exactly the instructions the emitter can produce.
import {
  MEMORY, PLAIN, SIMD, SIMD_LANE, SIMD_MEMORY, SIMD_MEMORY_LANE, SIMD_PREFIX, VALTYPE,
} from './opcodes.js';

const invert = (table: Record<string, number>) => new Map(Object.entries(table).map(([k, v]) => [v, k.replace('_', '.')]));
const PLAIN_NAMES = invert(PLAIN);
const MEMORY_NAMES = invert(MEMORY);
const SIMD_NAMES = invert(SIMD);
const SIMD_MEMORY_NAMES = invert(SIMD_MEMORY);
const SIMD_LANE_NAMES = invert(SIMD_LANE);
const SIMD_MEMORY_LANE_NAMES = invert(SIMD_MEMORY_LANE);
const TYPE_NAMES = new Map<number, string>(Object.entries(VALTYPE).map(([k, v]) => [v, k]));

class Reader {
  constructor(private readonly bytes: Uint8Array, public pos = 0) {}
  byte(): number {
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  }
  i32(): number {
    let result = 0, shift = 0, b: number;
    do {
      b = this.byte();
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? result | (-1 << shift) : result;
  }
  f32(): number {
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  take(n: number): Uint8Array {
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }
}

/** Lists every function body of a module built by `ModuleBuilder`. */
export function disassemble(wasm: Uint8Array): string {
  const r = new Reader(wasm, 8);
  const out: string[] = [];
  while (r.pos < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id !== 10) {
      r.pos = end;
      continue;
    }
    const count = r.u32();
    for (let fn = 0; fn < count; fn++) {
      const bodyEnd = r.u32() + r.pos;
      const locals: string[] = [];
      for (let runs = r.u32(); runs > 0; runs--) locals.push(`${r.u32()}×${TYPE_NAMES.get(r.byte())}`);
      out.push(`func ${fn}  (locals ${locals.join(' ') || 'none'})`);
      listBody(r, bodyEnd, out);
    }
  }
  return out.join('\n');
}

function listBody(r: Reader, bodyEnd: number, out: string[]): void {
  let depth = 1;
  const line = (s: string) => out.push('  '.repeat(depth) + s);
  while (r.pos < bodyEnd) {
    const op = r.byte();
    if (op === 0x02 || op === 0x03 || op === 0x04) {
      const bt = r.byte();
      line(`${op === 0x02 ? 'block' : op === 0x03 ? 'loop' : 'if'}${bt === 0x40 ? '' : ` (result ${TYPE_NAMES.get(bt)})`}`);
      depth++;
    } else if (op === 0x05) out.push('  '.repeat(depth - 1) + 'else');
    else if (op === 0x0b) {
      depth--;
      if (depth > 0) line('end');
    } else if (op === 0x0c || op === 0x0d) line(`${op === 0x0c ? 'br' : 'br_if'} ${r.u32()}`);
    else if (op >= 0x20 && op <= 0x22) line(`local.${['get', 'set', 'tee'][op - 0x20]} ${r.u32()}`);
    else if (op === 0x10) line(`call ${r.u32()}`);
    else if (op === 0x41) line(`i32.const ${r.i32()}`);
    else if (op === 0x43) line(`f32.const ${r.f32()}`);
    else if (MEMORY_NAMES.has(op)) line(`${MEMORY_NAMES.get(op)} align=${2 ** r.u32()} offset=${r.u32()}`);
    else if (op === SIMD_PREFIX) line(simd(r));
    else line(PLAIN_NAMES.get(op) ?? `?? 0x${op.toString(16)}`);
  }
}

function simd(r: Reader): string {
  const sub = r.u32();
  if (sub === 0x0c) return `v128.const ${[...r.take(16)].join(' ')}`;
  if (sub === 0x0d) return `i8x16.shuffle ${[...r.take(16)].join(' ')}`;
  if (SIMD_MEMORY_NAMES.has(sub)) return `${SIMD_MEMORY_NAMES.get(sub)} align=${2 ** r.u32()} offset=${r.u32()}`;
  if (SIMD_MEMORY_LANE_NAMES.has(sub)) {
    const align = r.u32(), offset = r.u32();
    return `${SIMD_MEMORY_LANE_NAMES.get(sub)} align=${2 ** align} offset=${offset} lane=${r.byte()}`;
  }
  if (SIMD_LANE_NAMES.has(sub)) return `${SIMD_LANE_NAMES.get(sub)} ${r.byte()}`;
  return SIMD_NAMES.get(sub) ?? `?? simd 0x${sub.toString(16)}`;
}
