// Matmul packing (kernels/matmul.ts): copies a block of A or B into the contiguous, zero-padded micro-panels
// the microkernel streams, choosing at run time among a memcpy, an in-register transpose and an element copy
// by the operand's strides.
import type { FunctionBuilder, Local } from '../wasm/function.js';

/**
 * Packs `extent` rows (A) or columns (B) of a kc-long block into panels of `width`: panel q holds, for each
 * p < kc, the `width` elements q*width.. of that k step, zero past `extent`. `addr(p, i)` pushes the byte
 * address of element (k step p, row/column i) of the source block. Three ways, chosen at run time:
 * - `unitStride` (consecutive i are adjacent floats: B row-major, A transposed): a full panel row is copied
 *   with v128 loads, a memcpy;
 * - `kUnit` (consecutive p are adjacent: A row-major, B transposed as in `x @ w.T`) and a width of whole
 *   v128s: four k steps of four rows are loaded as four v128s and transposed in registers (eight shuffles),
 *   a full panel needing no bounds test; this was a compare, a branch and an address product per element;
 * - otherwise (edge panels, other strides) element by element, zero padding past the edge.
 */
export function packPanels(
  f: FunctionBuilder, dst: Local<'i32'>, extent: Local<'i32'>, kc: Local<'i32'>, width: number,
  addr: (p: Local<'i32'>, i: Local<'i32'>) => void, unitStride: () => void, kUnit: () => void,
): void {
  const q = f.local('i32'), p = f.local('i32'), i = f.local('i32'), out = f.local('i32'), src = f.local('i32');
  const fast = f.local('i32'), transpose = f.local('i32'), full = f.local('i32');
  unitStride();
  f.set(fast);
  if (width % 4 === 0) {
    kUnit();
    f.set(transpose);
  }
  f.get(dst).set(out);
  f.forRange(q, () => f.i32(0), extent, width, () => {
    f.get(q).i32(width).op('i32_add').get(extent).op('i32_le_s').set(full);
    const elementwise = () => f.forRange(p, () => f.i32(0), kc, 1, () => {
      for (let w = 0; w < width; w++) {
        f.get(q).i32(w).op('i32_add').set(i);
        f.get(out);
        // zero padding past the edge keeps the microkernel branch-free
        f.get(i).get(extent).op('i32_lt_s');
        f.if(() => { addr(p, i); f.mem('f32_load'); }, () => f.f32(0), 'f32');
        f.mem('f32_store', 4 * w);
      }
      f.get(out).i32(4 * width).op('i32_add').set(out);
    });
    const rowsTransposed = width % 4 === 0
      ? () => f.get(full).get(transpose).op('i32_and').if(() => packTransposed(f, out, kc, width, q, i, addr), elementwise)
      : elementwise;
    f.get(full).get(fast).op('i32_and');
    f.if(
      () => f.forRange(p, () => f.i32(0), kc, 1, () => {
        addr(p, q);
        f.set(src);
        // whole v128s, then single floats for a width that is not a multiple of 4 (an MR of 2 or 6)
        let w = 0;
        for (; w + 4 <= width; w += 4) f.get(out).get(src).simdMem('v128_load', 4 * w).simdMem('v128_store', 4 * w);
        for (; w < width; w++) f.get(out).get(src).mem('f32_load', 4 * w).mem('f32_store', 4 * w);
        f.get(out).i32(4 * width).op('i32_add').set(out);
      }),
      rowsTransposed,
    );
  });
}

/** i8x16.shuffle lanes picking four 32-bit lanes of (a, b): 0–3 are a's, 4–7 b's. */
const lanes32 = (picks: readonly number[]) => picks.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
const UNPACK_LO = lanes32([0, 4, 1, 5]), UNPACK_HI = lanes32([2, 6, 3, 7]), LOW_HALVES = lanes32([0, 1, 4, 5]), HIGH_HALVES = lanes32([2, 3, 6, 7]);

/**
 * One full panel whose source rows (A) or columns (B) are contiguous along k: each of the `width` source
 * lines starts at addr(0, q + w); four k steps of four lines are four v128 loads, transposed with eight
 * shuffles (unpack lo/hi, then 64-bit halves: single instructions on x64 and arm64) into four panel rows.
 * The last kc % 4 steps go one float at a time. Leaves `out` past the panel.
 */
function packTransposed(
  f: FunctionBuilder, out: Local<'i32'>, kc: Local<'i32'>, width: number, q: Local<'i32'>, i: Local<'i32'>,
  addr: (p: Local<'i32'>, i: Local<'i32'>) => void,
): void {
  const zero = f.local('i32'), off = f.local('i32'), end4 = f.local('i32'), end = f.local('i32');
  f.i32(0).set(zero);
  const lines = Array.from({ length: width }, (_, w) => {
    const line = f.local('i32');
    f.get(q).i32(w).op('i32_add').set(i);
    addr(zero, i);
    f.set(line);
    return line;
  });
  const r = Array.from({ length: 4 }, () => f.local('v128'));
  const t = Array.from({ length: 4 }, () => f.local('v128'));
  // byte offsets along k: whole groups of four steps, then the rest
  f.get(kc).i32(4).op('i32_mul').set(end);
  f.get(end).i32(-16).op('i32_and').set(end4);
  f.forRange(off, () => f.i32(0), end4, 16, () => {
    for (let g = 0; g < width; g += 4) {
      r.forEach((v, j) => f.get(lines[g + j]!).get(off).op('i32_add').simdMem('v128_load').set(v));
      f.get(r[0]!).get(r[1]!).shuffle(UNPACK_LO).set(t[0]!);
      f.get(r[2]!).get(r[3]!).shuffle(UNPACK_LO).set(t[1]!);
      f.get(r[0]!).get(r[1]!).shuffle(UNPACK_HI).set(t[2]!);
      f.get(r[2]!).get(r[3]!).shuffle(UNPACK_HI).set(t[3]!);
      // panel row j (k step off/4 + j) holds lanes j of the four lines
      const rows: [Local<'v128'>, Local<'v128'>, number[]][] = [[t[0]!, t[1]!, LOW_HALVES], [t[0]!, t[1]!, HIGH_HALVES], [t[2]!, t[3]!, LOW_HALVES], [t[2]!, t[3]!, HIGH_HALVES]];
      rows.forEach(([x, y, lanes], j) => f.get(out).get(x).get(y).shuffle(lanes).simdMem('v128_store', 4 * (j * width + g)));
    }
    f.get(out).i32(16 * width).op('i32_add').set(out);
  });
  f.forRange(off, () => f.get(end4), end, 4, () => {
    for (let w = 0; w < width; w++) f.get(out).get(lines[w]!).get(off).op('i32_add').mem('f32_load').mem('f32_store', 4 * w);
    f.get(out).i32(4 * width).op('i32_add').set(out);
  });
}
