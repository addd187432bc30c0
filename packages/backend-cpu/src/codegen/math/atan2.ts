// atan2(y, x) for f32x4: reduce to t = min(|x|, |y|) / max(|x|, |y|) in [0, 1], a second reduction around
// tan(π/8) (t → (t - 1) / (t + 1), plus π/4), Cephes atanf's polynomial on [-0.4142, 0.4142], then the
// octant fix-ups (π/2 - r when |y| > |x|, π - r when x is negative or -0) and the sign of y. The edge cases
// follow C99/PyTorch: atan2(±0, +0) = ±0, atan2(±0, -0) = ±π, atan2(±∞, ±∞) = ±π/4 or ±3π/4, NaN in → NaN.
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { horner } from './library.js';

const TAN_PI_8 = 0.41421356237309503;
const PI = Math.PI;

export function emitAtan2(f: FunctionBuilder, y: Local<'v128'>, x: Local<'v128'>): void {
  const ax = f.local('v128'), ay = f.local('v128'), num = f.local('v128'), den = f.local('v128');
  const t = f.local('v128'), big = f.local('v128'), z = f.local('v128'), r = f.local('v128');
  f.get(x).simd('f32x4_abs').set(ax);
  f.get(y).simd('f32x4_abs').set(ay);
  // pmin/pmax: NaN is restored at the end, so their NaN handling does not matter here
  f.get(ax).get(ay).simd('f32x4_pmin').set(num);
  f.get(ax).get(ay).simd('f32x4_pmax').set(den);
  f.get(num).get(den).simd('f32x4_div').set(t);
  // 0/0 (both zero) → 0; ∞/∞ (both infinite) → 1
  f.f32x4(0).get(t).get(den).f32x4(0).simd('f32x4_eq', 'v128_bitselect').set(t);
  f.f32x4(1).get(t).get(num).f32x4(Infinity).simd('f32x4_eq', 'v128_bitselect').set(t);
  // t > tan(π/8): atan(t) = π/4 + atan((t - 1) / (t + 1))
  f.get(t).f32x4(TAN_PI_8).simd('f32x4_gt').set(big);
  f.get(t).f32x4(1).simd('f32x4_sub').get(t).f32x4(1).simd('f32x4_add', 'f32x4_div');
  f.get(t).get(big).simd('v128_bitselect').set(t);
  f.get(t).get(t).simd('f32x4_mul').set(z);
  // r = t + t*z*P(z) (+ π/4)
  horner(f, z, [8.05374449538e-2, -1.38776856032e-1, 1.99777106478e-1, -3.33329491539e-1]);
  f.get(z).simd('f32x4_mul').get(t).simd('f32x4_mul').get(t).simd('f32x4_add');
  f.f32x4(PI / 4).get(big).simd('v128_and', 'f32x4_add').set(r);
  // |y| > |x|: π/2 - r
  f.f32x4(PI / 2).get(r).simd('f32x4_sub').get(r).get(ay).get(ax).simd('f32x4_gt', 'v128_bitselect').set(r);
  // x negative or -0 (its sign bit): π - r
  f.f32x4(PI).get(r).simd('f32x4_sub').get(r).get(x).i32(31).simd('i32x4_shr_s', 'v128_bitselect').set(r);
  // the sign of y, then NaN if either input is NaN
  f.get(r).get(y).f32x4(-0).simd('v128_and', 'v128_or').set(r);
  f.f32x4(NaN).get(r).get(x).get(x).simd('f32x4_ne').get(y).get(y).simd('f32x4_ne', 'v128_or', 'v128_bitselect');
}
