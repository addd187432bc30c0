import type { DType } from '../dtype.js';
import { allocate, castScalar } from '../dtype.js';
import { Tensor, elementOffsets } from '../tensor.js';

/** A tensor operand or a JS scalar, as pointwise kernels accept them. */
export type Operand = Tensor | number | boolean;

/** Strides that read `t` as if expanded to `shape` (0 where broadcast). */
export function broadcastStridesTo(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.ndim;
  return shape.map((size, i) => {
    if (i < lead) return 0;
    const s = t.shape[i - lead]!;
    return s === 1 && size !== 1 ? 0 : t.strides[i - lead]!;
  });
}

/**
 * A reader for one operand over the output's elements, in row-major order. Contiguous same-shape tensors
 * read their storage directly; anything else (broadcast, strided) goes through precomputed offsets.
 */
function reader(x: Operand, shape: readonly number[], numel: number): (i: number) => number {
  if (!(x instanceof Tensor)) {
    const v = Number(x);
    return () => v;
  }
  const data = x.storage.data;
  const sameShape = x.ndim === shape.length && x.shape.every((s, i) => s === shape[i]);
  if (sameShape && x.isContiguous()) {
    const base = x.offset;
    return (i) => data[base + i]!;
  }
  if (x.numel === 1) {
    const v = data[x.offset]!;
    return () => v;
  }
  const offsets = elementOffsets(shape, broadcastStridesTo(x, shape), x.offset);
  void numel;
  return (i) => data[offsets[i]!]!;
}

/** Casts an operand's value into the op's computation dtype, e.g. int inputs of a float op. */
function storeInto(dtype: DType): (v: number) => number {
  return dtype === 'bool' ? (v) => (v !== 0 && !Number.isNaN(v) ? 1 : 0) : (v) => v;
}

export function mapUnary(x: Tensor, outDtype: DType, f: (v: number) => number): Tensor {
  const n = x.numel;
  const out = allocate(outDtype, n);
  const read = reader(x, x.shape, n);
  const store = storeInto(outDtype);
  for (let i = 0; i < n; i++) out[i] = store(f(read(i)));
  return Tensor.fromData(out, x.shape, outDtype);
}

export function mapBinary(
  a: Operand,
  b: Operand,
  shape: readonly number[],
  outDtype: DType,
  computeDtype: DType,
  f: (x: number, y: number) => number,
): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  const out = allocate(outDtype, n);
  const readA = inComputeDtype(a, computeDtype, reader(castOperand(a, computeDtype), shape, n));
  const readB = inComputeDtype(b, computeDtype, reader(castOperand(b, computeDtype), shape, n));
  const store = storeInto(outDtype);
  for (let i = 0; i < n; i++) out[i] = store(f(readA(i), readB(i)));
  return Tensor.fromData(out, shape, outDtype);
}

export function mapTernary(
  a: Operand,
  b: Operand,
  c: Operand,
  shape: readonly number[],
  outDtype: DType,
  f: (x: number, y: number, z: number) => number,
): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  const out = allocate(outDtype, n);
  const ra = reader(a, shape, n);
  const rb = reader(castOperand(b, outDtype), shape, n);
  const rc = reader(castOperand(c, outDtype), shape, n);
  for (let i = 0; i < n; i++) out[i] = f(ra(i), rb(i), rc(i));
  return Tensor.fromData(out, shape, outDtype);
}

/**
 * Tensor operands are converted to a float32 computation dtype before the op, as PyTorch does: an int32
 * above 2^24 or a float64 0-dim operand would otherwise take part with more precision than float32 has, and
 * `f32.eq(f64 0-dim 0.1)` would be false. (float64 and int32 computations read every dtype exactly.)
 */
function inComputeDtype(x: Operand, computeDtype: DType, read: (i: number) => number): (i: number) => number {
  if (computeDtype !== 'float32' || !(x instanceof Tensor) || x.dtype === 'float32' || x.dtype === 'bool') return read;
  return (i) => Math.fround(read(i));
}

/**
 * Scalars take the computation dtype before the op runs (1.5 added to an int tensor is computed as float;
 * true added to a float tensor is 1). Tensors are read as stored; the typed array rounds on store.
 */
function castOperand(x: Operand, dtype: DType): Operand {
  if (x instanceof Tensor) return x;
  return castScalar(x, dtype);
}
