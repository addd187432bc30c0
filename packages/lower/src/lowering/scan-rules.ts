// cumsum as a sequential scan, for any length (static or symbolic), float32 and int32, in two pointwise
// kernels and no new kernel kind:
//   first:  out[..., 0, ...]   = x[..., 0, ...]                       (the first slice along dim, if any)
//   step:   out[..., k+1, ...] = out[..., k, ...] + x[..., k+1, ...]  for k in [0, n-1)
// The step kernel reads its own output (a recurrence): its iteration space puts the scan axis outermost, so
// every element it reads was stored by an earlier iteration of that axis, and the innermost loop runs
// across the other dims — four independent columns per SIMD step for a scan over dim 0 of [n, m] (unit
// stride), four rows per step (gathered) for a scan over the last dim. Backends must not merge or reorder
// the axes of a kernel that reads its own output; fusion never moves one (fuse.ts, `readsOwnOutput`).
// The sum runs in the output dtype in eager's order (sequential along dim); eager keeps its running sum in
// float64 before rounding each element, so float32 results differ by float32 rounding of partial sums.
import { normalizeDim } from '@kiln/tensor';
import type { Access, Kernel, LoopDType, SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { binary, cast } from '../loop-ir/build.js';
import { sizeAdd, sizeOp } from '../loop-ir/sizes.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, paramsOf } from './builder.js';
import type { AffineIndex, BufferValue, LoweredValue } from './values.js';
import { axisIndex, bufferAccess, readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

const EXACT_INPUT_CASTS = new Set(['bool>int32', 'bool>float32', 'int32>float32']);

export function lowerCumsum(b: ProgramBuilder, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const x = all[0] as LoweredValue;
  const dtype = fake?.dtype;
  if (!fake?.shape || (dtype !== 'float32' && dtype !== 'int32') || x.shape.length === 0) return undefined;
  // Conversions whose rounding the loop IR's cast shares with eager (float → int differs at the edges).
  if (x.dtype !== dtype && !EXACT_INPUT_CASTS.has(`${x.dtype}>${dtype}`)) return undefined;
  const rank = x.shape.length;
  const dim = normalizeDim(all[1] as number, rank, 'cumsum');
  const n = x.shape[dim]!;
  const out = b.newBuffer(dtype, x.shape);
  const read = (index: readonly AffineIndex[], nAxes: number): ValueExpr => {
    const v = readValue(x, index, nAxes);
    return x.dtype === dtype ? v : cast(dtype, v);
  };

  // First slice: the output's own axes, with dim cut to min(n, 1) elements (none when n is 0).
  const firstSizes = x.shape.map((s, d) => (d === dim ? sizeOp('min', s, 1) : s));
  const units = x.shape.map((_, d) => axisIndex(d, rank));
  emit(b, 'cumsum_first', firstSizes, out, bufferAccess(out, units, rank), read(units, rank), dtype);

  // Step: axes [k, other dims…] (plus a unit axis for rank 1, so the scan axis is never the innermost).
  const others = x.shape.map((_, d) => d).filter((d) => d !== dim);
  const nAxes = 1 + Math.max(others.length, 1);
  const stepSizes: SizeExpr[] = [sizeOp('max', sizeAdd(n, -1), 0), ...others.map((d) => x.shape[d]!), ...(others.length ? [] : [1])];
  const at = (shift: number): AffineIndex[] =>
    x.shape.map((_, d) => (d === dim ? { ...axisIndex(0, nAxes), constant: shift } : axisIndex(1 + others.indexOf(d), nAxes)));
  const previous: ValueExpr = { kind: 'load', buffer: out.buffer, access: bufferAccess(out, at(0), nAxes) };
  emit(b, 'cumsum_step', stepSizes, out, bufferAccess(out, at(1), nAxes), binary('add', previous, read(at(1), nAxes)), dtype);
  return out;
}

function emit(b: ProgramBuilder, prefix: string, sizes: readonly SizeExpr[], out: BufferValue, access: Access, value: ValueExpr, dtype: LoopDType): void {
  const kernel = {
    kind: 'pointwise' as const,
    name: b.kernelName(prefix),
    params: [] as string[],
    // The step kernel loads `out` too; it is declared once, as an output.
    inputs: buffersRead(b, value).filter((d) => d.name !== out.buffer),
    outputs: [{ name: out.buffer, dtype }],
    sizes,
    stores: [{ buffer: out.buffer, access, value }],
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) } as Kernel);
}
