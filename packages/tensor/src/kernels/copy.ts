import { allocate } from '../dtype.js';
import { Tensor, forEachOffset } from '../tensor.js';

/** A new contiguous tensor with `x`'s elements (always a fresh buffer). */
export function copyToContiguous(x: Tensor): Tensor {
  const n = x.numel;
  const out = allocate(x.dtype, n);
  const data = x.storage.data;
  if (x.isContiguous()) out.set(data.subarray(x.offset, x.offset + n));
  else forEachOffset(x, (o, i) => (out[i] = data[o]!));
  return Tensor.fromData(out, x.shape, x.dtype);
}

/** Writes `values` (row-major, already broadcast to `dst`'s shape) through `dst`'s strides. */
export function writeThrough(dst: Tensor, values: ArrayLike<number>): void {
  const data = dst.storage.writable();
  forEachOffset(dst, (o, i) => (data[o] = values[i]!));
}
