// The printer of this backend's IR, the wasm modules it emits: WebAssembly text (WAT) that assembles back to
// an equivalent module (KILN_LOGS=output_code, the compile report, golden files). The sections are decoded
// back through the same opcode tables the emitter writes with, one instruction per line, indented by block;
// it covers exactly the instructions and sections the emitter can produce.
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
  /** The raw bits of an f32 immediate (a NaN's payload survives them, not a JS number). */
  f32Bits(): number {
    const bits = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return bits;
  }
  take(n: number): Uint8Array {
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }
  name(): string {
    return new TextDecoder().decode(this.take(this.u32()));
  }
  valtype(): string {
    return TYPE_NAMES.get(this.byte()) ?? '??';
  }
}

export interface WatOptions {
  /** A comment after each exported function's header (the CPU backend: `;; kernel reduce0`), by export name. */
  readonly notes?: ReadonlyMap<string, string>;
}

interface Signature {
  readonly params: readonly string[];
  readonly results: readonly string[];
}

/** Everything before the code section that the text form needs. */
interface ModuleHeader {
  readonly types: Signature[];
  readonly funcTypes: number[];
  readonly exports: Map<number, string>;
  memory: string;
}

/** Prints a module built by `ModuleBuilder` as WAT: `(module (import …) (func $k0 (export "k0") …))`. */
export function printWat(wasm: Uint8Array, options: WatOptions = {}): string {
  const r = new Reader(wasm, 8);
  const header: ModuleHeader = { types: [], funcTypes: [], exports: new Map(), memory: '' };
  const out = ['(module'];
  while (r.pos < wasm.length) {
    const id = r.byte();
    const end = r.u32() + r.pos;
    if (id === 1) readTypes(r, header);
    else if (id === 2) header.memory = readMemoryImport(r);
    else if (id === 3) for (let n = r.u32(); n > 0; n--) header.funcTypes.push(r.u32());
    else if (id === 7) readExports(r, header);
    else if (id === 10) {
      if (header.memory) out.push(`  ${header.memory}`);
      printCode(r, header, options, out);
    }
    r.pos = end;
  }
  out.push(')');
  return out.join('\n');
}

function readTypes(r: Reader, header: ModuleHeader): void {
  for (let n = r.u32(); n > 0; n--) {
    r.byte(); // 0x60: a function type
    const params = Array.from({ length: r.u32() }, () => r.valtype());
    const results = Array.from({ length: r.u32() }, () => r.valtype());
    header.types.push({ params, results });
  }
}

function readMemoryImport(r: Reader): string {
  const lines: string[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const module = r.name(), field = r.name();
    r.byte(); // 0x02: a memory
    const flags = r.byte();
    const min = r.u32();
    const limits = flags & 1 ? `${min} ${r.u32()}${flags & 2 ? ' shared' : ''}` : String(min);
    lines.push(`(import ${watString(module)} ${watString(field)} (memory ${limits}))`);
  }
  return lines.join('\n  ');
}

function readExports(r: Reader, header: ModuleHeader): void {
  for (let n = r.u32(); n > 0; n--) {
    const name = r.name();
    r.byte(); // 0x00: a function
    header.exports.set(r.u32(), name);
  }
}

/** `$name` for function `index`: its export name where it has one (made an identifier), else `$f{index}`. */
function funcId(header: ModuleHeader, index: number): string {
  const exported = header.exports.get(index);
  return exported !== undefined && /^[\w.]+$/.test(exported) ? `$${exported}` : `$f${index}`;
}

function printCode(r: Reader, header: ModuleHeader, options: WatOptions, out: string[]): void {
  const count = r.u32();
  for (let fn = 0; fn < count; fn++) {
    const bodyEnd = r.u32() + r.pos;
    const sig = header.types[header.funcTypes[fn]!] ?? { params: [], results: [] };
    const exported = header.exports.get(fn);
    const parts = [`(func ${funcId(header, fn)}`];
    if (exported !== undefined) parts.push(`(export ${watString(exported)})`);
    if (sig.params.length) parts.push(`(param ${sig.params.join(' ')})`);
    if (sig.results.length) parts.push(`(result ${sig.results.join(' ')})`);
    const note = exported !== undefined ? options.notes?.get(exported) : undefined;
    out.push(`  ${parts.join(' ')}${note ? `  ;; ${note.replace(/[\r\n]/g, ' ')}` : ''}`);
    const locals: string[] = [];
    for (let runs = r.u32(); runs > 0; runs--) {
      const n = r.u32(), type = r.valtype();
      for (let i = 0; i < n; i++) locals.push(type);
    }
    if (locals.length) out.push(`    (local ${locals.join(' ')})`);
    listBody(r, bodyEnd, header, out);
    out.push('  )');
  }
}

function listBody(r: Reader, bodyEnd: number, header: ModuleHeader, out: string[]): void {
  let depth = 2;
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
      // The function body's own `end` is the closing parenthesis.
      if (depth > 1) line('end');
    } else if (op === 0x0c || op === 0x0d) line(`${op === 0x0c ? 'br' : 'br_if'} ${r.u32()}`);
    else if (op >= 0x20 && op <= 0x22) line(`local.${['get', 'set', 'tee'][op - 0x20]} ${r.u32()}`);
    else if (op === 0x10) line(`call ${funcId(header, r.u32())}`);
    else if (op === 0x41) line(`i32.const ${r.i32()}`);
    else if (op === 0x43) line(`f32.const ${f32Text(r.f32Bits())}`);
    else if (MEMORY_NAMES.has(op)) line(`${MEMORY_NAMES.get(op)} ${memarg(r)}`);
    else if (op === SIMD_PREFIX) line(simd(r));
    else line(PLAIN_NAMES.get(op) ?? `?? 0x${op.toString(16)}`);
  }
}

/** The binary memarg (log2 alignment, then offset) in text order: `offset=…` (when not 0), then `align=…`. */
function memarg(r: Reader): string {
  const align = 2 ** r.u32(), offset = r.u32();
  return `${offset ? `offset=${offset} ` : ''}align=${align}`;
}

function simd(r: Reader): string {
  const sub = r.u32();
  if (sub === 0x0c) return `v128.const i8x16 ${[...r.take(16)].join(' ')}`;
  if (sub === 0x0d) return `i8x16.shuffle ${[...r.take(16)].join(' ')}`;
  if (SIMD_MEMORY_NAMES.has(sub)) return `${SIMD_MEMORY_NAMES.get(sub)} ${memarg(r)}`;
  if (SIMD_MEMORY_LANE_NAMES.has(sub)) return `${SIMD_MEMORY_LANE_NAMES.get(sub)} ${memarg(r)} ${r.byte()}`;
  if (SIMD_LANE_NAMES.has(sub)) return `${SIMD_LANE_NAMES.get(sub)} ${r.byte()}`;
  return SIMD_NAMES.get(sub) ?? `?? simd 0x${sub.toString(16)}`;
}

/** An f32 in WAT: a decimal that reads back to the same float (JS's shortest double form of it), -0, inf, nan:0x…. */
function f32Text(bits: number): string {
  const sign = bits >>> 31 ? '-' : '';
  if ((bits & 0x7f800000) === 0x7f800000) return (bits & 0x7fffff) === 0 ? `${sign}inf` : `${sign}nan:0x${(bits & 0x7fffff).toString(16)}`;
  const v = new Float32Array(new Uint32Array([bits]).buffer)[0]!;
  return Object.is(v, -0) ? '-0' : String(v);
}

/** A WAT string literal: printable ASCII as is, `"` `\` and every other byte as `\hh`. */
function watString(s: string): string {
  const bytes = new TextEncoder().encode(s);
  return `"${[...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(16).padStart(2, '0')}`)).join('')}"`;
}
