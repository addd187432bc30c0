// Scalar math used by the eager kernels where JS's Math has no function of its own.

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) from the series (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(2n+1)!!, whose terms are all positive: no
 * cancellation, so it stays accurate to float64 rounding for every |x| < 6 (beyond, erf is ±1 in float64).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 6) return 1;
  if (x <= -6) return -1;
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** Round half to even, as PyTorch's `round` and IEEE's default rounding. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Python-style remainder: the result has the sign of the divisor. */
export function remainder(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/**
 * Integer power with int32 wrap-around, by squaring (as PyTorch's integer `pow`). Negative exponents give
 * 1/x truncated: 1 and -1 keep their magnitude, anything else gives 0.
 */
export function powInt(x: number, y: number): number {
  if (y < 0) return x === 1 ? 1 : x === -1 ? (y % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let base = x | 0;
  for (let e = y; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
}

export const sign = (x: number) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0);
