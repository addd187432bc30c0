// sin and cos for f32x4: reduce by π/2 in three Cody–Waite parts (good to |x| ≈ 1e5), evaluate the sine
// and cosine polynomials (Cephes sinf/cosf) on [-π/4, π/4], pick by quadrant. cos(x) is sin in quadrant
// q + 1. Infinite or NaN input gives NaN through the reduction itself.
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { horner } from './library.js';
import { emitFlagIf } from '../imprecise.js';

const TWO_OVER_PI = 0.6366197723675814;
/** Below this |x| the three-part reduction keeps the quadrant and float32 accuracy. */
export const SIN_COS_LIMIT = 1e5;

const PIO2 = [1.5703125, 4.837512969970703125e-4, 7.54978995489188216e-8];

export function emitSinCos(f: FunctionBuilder, x: Local<'v128'>, which: 'sin' | 'cos'): void {
  const q = f.local('v128');
  const r = f.local('v128');
  const z = f.local('v128');
  const qi = f.local('v128');
  f.get(x).f32x4(TWO_OVER_PI).simd('f32x4_mul', 'f32x4_nearest').set(q);
  f.get(x);
  for (const part of PIO2) f.get(q).f32x4(part).simd('f32x4_mul', 'f32x4_sub');
  f.set(r);
  f.get(r).get(r).simd('f32x4_mul').set(z);
  f.get(q).simd('i32x4_trunc_sat_f32x4_s');
  if (which === 'cos') f.i32x4(1).simd('i32x4_add');
  f.set(qi);
  const sinPoly = f.local('v128');
  horner(f, z, [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]);
  f.get(z).simd('f32x4_mul').get(r).simd('f32x4_mul').get(r).simd('f32x4_add').set(sinPoly);
  // cos poly: 1 - z/2 + z^2 * C(z)
  horner(f, z, [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]);
  f.get(z).simd('f32x4_mul').get(z).simd('f32x4_mul').get(z).f32x4(0.5).simd('f32x4_mul', 'f32x4_sub');
  f.f32x4(1).simd('f32x4_add');
  // odd quadrant → cos poly; quadrant bit 1 → negate
  f.get(sinPoly);
  f.get(qi).i32x4(1).simd('v128_and').i32x4(1).simd('i32x4_eq', 'v128_bitselect');
  f.get(qi).i32x4(2).simd('v128_and').i32(30).simd('i32x4_shl', 'v128_xor');
  // a finite |x| beyond the limit (±inf and NaN already give NaN) sends the call to the eager kernels
  emitFlagIf(f, () => {
    f.get(x).simd('f32x4_abs').f32x4(SIN_COS_LIMIT).simd('f32x4_gt');
    f.get(x).simd('f32x4_abs').f32x4(Infinity).simd('f32x4_lt', 'v128_and', 'v128_any_true');
  });
}
