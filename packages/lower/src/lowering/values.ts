// Values during lowering. A tensor is either a *buffer* (memory some kernel wrote, seen through strides and
// an offset, so views of it stay views) or *virtual* (a per-element expression not yet computed: pointwise
// chains fuse by composing these, and a kernel is emitted only where a value is materialized).
import type { Access, LoopDType, SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { cast } from '../loop-ir/build.js';
import { sizeAdd, sizeMul } from '../loop-ir/sizes.js';

/** One logical index of a tensor as an affine function of the kernel's iteration axes. */
export interface AffineIndex {
  readonly coeffs: readonly SizeExpr[];
  readonly constant: SizeExpr;
}

export interface BufferValue {
  readonly kind: 'buffer';
  readonly buffer: string;
  readonly dtype: LoopDType;
  readonly shape: readonly SizeExpr[];
  readonly strides: readonly SizeExpr[];
  readonly offset: SizeExpr;
}

export interface VirtualValue {
  readonly kind: 'virtual';
  readonly dtype: LoopDType;
  readonly shape: readonly SizeExpr[];
  /** The element at the given logical index (one affine index per dim). */
  read(index: readonly AffineIndex[], nAxes: number): ValueExpr;
}

export type LoweredValue = BufferValue | VirtualValue;

export const axisIndex = (axis: number, nAxes: number): AffineIndex => ({
  coeffs: Array.from({ length: nAxes }, (_, j) => (j === axis ? 1 : 0)),
  constant: 0,
});

export const constantIndex = (value: SizeExpr, nAxes: number): AffineIndex => ({
  coeffs: new Array<SizeExpr>(nAxes).fill(0),
  constant: value,
});

/** `start + step * idx`, the index map of slices. */
export function scaleIndex(idx: AffineIndex, step: SizeExpr, start: SizeExpr): AffineIndex {
  return { coeffs: idx.coeffs.map((c) => sizeMul(c, step)), constant: sizeAdd(sizeMul(idx.constant, step), start) };
}

/** The access that reads a buffer value at affine logical indices. */
export function bufferAccess(v: BufferValue, index: readonly AffineIndex[], nAxes: number): Access {
  let offset = v.offset;
  const strides = new Array<SizeExpr>(nAxes).fill(0);
  index.forEach((idx, d) => {
    const stride = v.strides[d]!;
    offset = sizeAdd(offset, sizeMul(stride, idx.constant));
    idx.coeffs.forEach((c, j) => {
      strides[j] = sizeAdd(strides[j]!, sizeMul(stride, c));
    });
  });
  return { offset, strides };
}

export function readValue(v: LoweredValue, index: readonly AffineIndex[], nAxes: number): ValueExpr {
  if (v.kind === 'virtual') return v.read(index, nAxes);
  return { kind: 'load', buffer: v.buffer, access: bufferAccess(v, index, nAxes) };
}

/**
 * Reads `v` broadcast to an output of rank `index.length` (numpy rules: trailing dims line up, a dim of
 * static size 1 reads index 0).
 */
export function readBroadcast(v: LoweredValue, index: readonly AffineIndex[], nAxes: number, dtype?: LoopDType): ValueExpr {
  const lead = index.length - v.shape.length;
  const own = v.shape.map((size, d) => (size === 1 ? constantIndex(0, nAxes) : index[lead + d]!));
  const value = readValue(v, own, nAxes);
  return dtype && dtype !== v.dtype ? cast(dtype, value) : value;
}

/** A view: the same data read through an index map (transpose, expand, slice…). Buffers stay buffers. */
export function viewValue(
  v: LoweredValue,
  shape: readonly SizeExpr[],
  mapIndex: (outIndex: readonly AffineIndex[], nAxes: number) => AffineIndex[],
): LoweredValue {
  if (v.kind === 'buffer') {
    // Applying the map to unit indices gives the view's strides and offset directly.
    const n = shape.length;
    const units = shape.map((_, d) => axisIndex(d, n));
    const mapped = mapIndex(units, n);
    const access = bufferAccess(v, mapped, n);
    return { ...v, shape, strides: access.strides, offset: access.offset };
  }
  return {
    kind: 'virtual',
    dtype: v.dtype,
    shape,
    read: (index, nAxes) => v.read(mapIndex(index, nAxes), nAxes),
  };
}
