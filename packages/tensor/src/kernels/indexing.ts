import { allocate } from '../dtype.js';
import { IndexError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Row-major coordinates of flat position `i` in `shape`, for error messages. */
export function coordsOf(i: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return coords;
}

/**
 * The values of an int32 index tensor, each checked to lie in [0, size). Like PyTorch's `index_select` and
 * `gather`, negative indices are errors rather than counted from the end.
 */
export function checkedIndices(op: string, arg: string, index: Tensor, size: number, what: string): Int32Array {
  const values = index.toTypedArray() as Int32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= size) {
      const at = index.ndim > 0 ? ` at ${fmtShape(coordsOf(i, index.shape))} of '${arg}'` : ` in '${arg}'`;
      throw new IndexError(
        `${op}: index ${v}${at} is out of range for ${what} of size ${size}`,
        `indices must lie in [0, ${size - 1}]${size === 0 ? ' (the dim is empty)' : ''}; negative indices are not wrapped`,
      );
    }
  }
  return values;
}

/** The sizes before, at and after `dim`, treating a 0-dim tensor as shape [1]. */
export function splitAtDim(shape: readonly number[], dim: number): { outer: number; size: number; inner: number } {
  if (shape.length === 0) return { outer: 1, size: 1, inner: 1 };
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < dim; d++) outer *= shape[d]!;
  for (let d = dim + 1; d < shape.length; d++) inner *= shape[d]!;
  return { outer, size: shape[dim]!, inner };
}

/** `x` with the slices `indices` taken along `dim`, as a new contiguous tensor of `outShape`. */
export function takeAlongDim(x: Tensor, dim: number, indices: Int32Array, outShape: readonly number[]): Tensor {
  const { outer, size, inner } = splitAtDim(x.shape, dim);
  const src = x.toTypedArray();
  const n = indices.length;
  const out = allocate(x.dtype, outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const from = (o * size + indices[j]!) * inner;
      out.set(src.subarray(from, from + inner), (o * n + j) * inner);
    }
  }
  return Tensor.fromData(out, outShape, x.dtype);
}

/**
 * `out[i][j][k] = x[i][index[i][j][k]][k]` for `dim = 1`, generalised: every position of `index` reads `x`
 * at the same coordinates except along `dim`, where it reads the index value.
 */
export function gatherAlongDim(x: Tensor, dim: number, index: Tensor, values: Int32Array): Tensor {
  const xShape = x.ndim === 0 ? [1] : x.shape;
  const iShape = index.ndim === 0 ? [1] : index.shape;
  const xStrides = new Array<number>(xShape.length);
  for (let d = xShape.length - 1, acc = 1; d >= 0; d--) {
    xStrides[d] = acc;
    acc *= xShape[d]!;
  }
  const src = x.toTypedArray();
  const out = allocate(x.dtype, values.length);
  const coords = new Array<number>(iShape.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    let offset = 0;
    for (let d = 0; d < iShape.length; d++) offset += (d === dim ? values[i]! : coords[d]!) * xStrides[d]!;
    out[i] = src[offset]!;
    for (let d = iShape.length - 1; d >= 0; d--) {
      if (++coords[d]! < iShape[d]!) break;
      coords[d] = 0;
    }
  }
  return Tensor.fromData(out, index.shape, x.dtype);
}
