import type { TypedArray } from '../dtype.js';

/**
 * One matrix product out[n×m] = a[n×k] · b[k×m] on row-major blocks inside larger arrays. The i-k-j order
 * streams through rows of b and of the accumulator, so every inner loop walks memory with stride 1. Sums
 * are accumulated in float64 (`acc`, length ≥ m) and rounded once on store. No zero-skipping: 0 · NaN must
 * stay NaN.
 */
export function gemmFloat(
  a: TypedArray, aBase: number, b: TypedArray, bBase: number, out: TypedArray, outBase: number,
  n: number, k: number, m: number, acc: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    acc.fill(0, 0, m);
    const aRow = aBase + i * k;
    for (let p = 0; p < k; p++) {
      const av = a[aRow + p]!;
      const bRow = bBase + p * m;
      for (let j = 0; j < m; j++) acc[j] += av * b[bRow + j]!;
    }
    const outRow = outBase + i * m;
    for (let j = 0; j < m; j++) out[outRow + j] = acc[j]!;
  }
}

/**
 * The same product when b is stored transposed (bt[m×k] row-major, as `linear`'s weight is): each output is
 * a dot product of two stride-1 rows, so no copy of the transposed operand is needed.
 */
export function gemmFloatTransposedB(
  a: TypedArray, aBase: number, bt: TypedArray, btBase: number, out: TypedArray, outBase: number,
  n: number, k: number, m: number,
): void {
  for (let i = 0; i < n; i++) {
    const aRow = aBase + i * k;
    for (let j = 0; j < m; j++) {
      const bRow = btBase + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aRow + p]! * bt[bRow + p]!;
      out[outBase + i * m + j] = s;
    }
  }
}

/** int32 product with wrap-around on overflow, as PyTorch's integer matmul: Math.imul keeps it exact. */
export function gemmInt32(
  a: TypedArray, aBase: number, b: TypedArray, bBase: number, out: TypedArray, outBase: number,
  n: number, k: number, m: number, acc: Int32Array,
): void {
  for (let i = 0; i < n; i++) {
    acc.fill(0, 0, m);
    const aRow = aBase + i * k;
    for (let p = 0; p < k; p++) {
      const av = a[aRow + p]!;
      const bRow = bBase + p * m;
      for (let j = 0; j < m; j++) acc[j] = (acc[j]! + Math.imul(av, b[bRow + j]!)) | 0;
    }
    out.set(acc.subarray(0, m), outBase + i * m);
  }
}
