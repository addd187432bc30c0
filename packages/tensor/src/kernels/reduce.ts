import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { Tensor, elementOffsets } from '../tensor.js';

/**
 * A tensor split into lanes for reductions, scans and row-wise ops. Each lane is one position of the kept
 * dims (row-major); inside a lane, element `r` sits at `data[outer[lane] + inner[r]]`, `r` row-major over the
 * reduced dims. Precomputed offsets make every kernel stride-agnostic (transposed, sliced and expanded
 * inputs need no copy) at the price of one extra array read per element.
 */
export interface Lanes {
  readonly data: TypedArray;
  readonly outer: Int32Array;
  readonly inner: Int32Array;
}

/** Lanes of `x` along `dims` (sorted, unique, in range; empty for a 0-dim tensor). */
export function lanesOf(x: Tensor, dims: readonly number[]): Lanes {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const laneShape: number[] = [];
  const laneStrides: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const reduced = dims.includes(d);
    (reduced ? laneShape : keptShape).push(x.shape[d]!);
    (reduced ? laneStrides : keptStrides).push(x.strides[d]!);
  }
  return {
    data: x.storage.data,
    outer: offsetsOf(keptShape, keptStrides, x.offset),
    inner: offsetsOf(laneShape, laneStrides, 0),
  };
}

/**
 * Storage offsets of every element of a strided view, row-major. Dims that together form one evenly strided
 * run are merged first, so the common cases (a contiguous tensor, a lane along one dim) take a plain loop
 * instead of the general odometer.
 */
function offsetsOf(shape: readonly number[], strides: readonly number[], base: number): Int32Array {
  if (shape.includes(0)) return new Int32Array(0);
  const sizes: number[] = [];
  const steps: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && steps[last] === shape[d]! * strides[d]!) {
      sizes[last] *= shape[d]!;
      steps[last] = strides[d]!;
    } else {
      sizes.push(shape[d]!);
      steps.push(strides[d]!);
    }
  }
  if (sizes.length > 1) return elementOffsets(sizes, steps, base);
  const n = sizes[0] ?? 1;
  const step = steps[0] ?? 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = base + i * step;
  return out;
}

/** Folds one lane into one value. `inner` may be empty (a reduction over a size-0 dim). */
export type LaneReducer = (data: TypedArray, base: number, inner: Int32Array) => number;

/** One output element per lane, laid out row-major over the kept dims, reshaped to `outShape`. */
export function reduceLanes(x: Tensor, dims: readonly number[], outShape: readonly number[], outDtype: DType, f: LaneReducer): Tensor {
  const { data, outer, inner } = lanesOf(x, dims);
  const out = allocate(outDtype, outer.length);
  if (outDtype === 'bool') for (let i = 0; i < outer.length; i++) out[i] = f(data, outer[i]!, inner) !== 0 ? 1 : 0;
  else for (let i = 0; i < outer.length; i++) out[i] = f(data, outer[i]!, inner);
  return Tensor.fromData(out, outShape, outDtype);
}

/** Reads a lane and writes the matching lane of the output (same shape as the input, contiguous). */
export type LaneMapper = (src: TypedArray, srcBase: number, srcInner: Int32Array, dst: TypedArray, dstBase: number, dstInner: Int32Array) => void;

export function mapLanes(x: Tensor, dims: readonly number[], outDtype: DType, f: LaneMapper): Tensor {
  const out = Tensor.empty(x.shape, outDtype);
  const src = lanesOf(x, dims);
  const dst = lanesOf(out, dims);
  for (let i = 0; i < src.outer.length; i++) f(src.data, src.outer[i]!, src.inner, dst.data, dst.outer[i]!, dst.inner);
  return out;
}

// Lane reducers. NaN propagates through max/min (as in PyTorch); `v !== v` is the cheap NaN test.

export const laneSum: LaneReducer = (data, base, inner) => {
  let s = 0;
  for (let r = 0; r < inner.length; r++) s += data[base + inner[r]!]!;
  return s;
};

export const laneProd: LaneReducer = (data, base, inner) => {
  let p = 1;
  for (let r = 0; r < inner.length; r++) p *= data[base + inner[r]!]!;
  return p;
};

/** Index (within the lane) of the first maximum, or of the first NaN. The lane must not be empty. */
export const laneArgmax: LaneReducer = (data, base, inner) => {
  let best = 0;
  let m = data[base + inner[0]!]!;
  if (m !== m) return 0;
  for (let r = 1; r < inner.length; r++) {
    const v = data[base + inner[r]!]!;
    if (v !== v) return r;
    if (v > m) {
      m = v;
      best = r;
    }
  }
  return best;
};

export const laneArgmin: LaneReducer = (data, base, inner) => {
  let best = 0;
  let m = data[base + inner[0]!]!;
  if (m !== m) return 0;
  for (let r = 1; r < inner.length; r++) {
    const v = data[base + inner[r]!]!;
    if (v !== v) return r;
    if (v < m) {
      m = v;
      best = r;
    }
  }
  return best;
};

export const laneMax: LaneReducer = (data, base, inner) => data[base + inner[laneArgmax(data, base, inner)]!]!;
export const laneMin: LaneReducer = (data, base, inner) => data[base + inner[laneArgmin(data, base, inner)]!]!;

export const laneAll: LaneReducer = (data, base, inner) => {
  for (let r = 0; r < inner.length; r++) if (data[base + inner[r]!] === 0) return 0;
  return 1;
};

export const laneAny: LaneReducer = (data, base, inner) => {
  for (let r = 0; r < inner.length; r++) if (data[base + inner[r]!] !== 0) return 1;
  return 0;
};

/** Sum of squared deviations over `max(0, n - correction)`, two-pass for accuracy. */
export function laneVar(correction: number): LaneReducer {
  return (data, base, inner) => {
    const n = inner.length;
    const mean = laneSum(data, base, inner) / n;
    let ss = 0;
    for (let r = 0; r < n; r++) {
      const d = data[base + inner[r]!]! - mean;
      ss += d * d;
    }
    return ss / Math.max(0, n - correction);
  };
}

/**
 * log Σ exp(v), shifted by the lane's maximum so nothing overflows. An infinite maximum is replaced by 0
 * (PyTorch's rule): all -inf gives -inf, any +inf gives +inf, instead of inf - inf = NaN.
 */
export const laneLogSumExp: LaneReducer = (data, base, inner) => {
  if (inner.length === 0) return -Infinity;
  const max = laneMax(data, base, inner);
  const shift = Math.abs(max) === Infinity ? 0 : max;
  let s = 0;
  for (let r = 0; r < inner.length; r++) s += Math.exp(data[base + inner[r]!]! - shift);
  return Math.log(s) + shift;
};
