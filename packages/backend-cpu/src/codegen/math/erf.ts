// erf for f32x4. Coefficients were fitted for Kiln (least squares in float64, checked in float32 against
// scipy): |x| < 1: x * P(x²) (relative error ≤ 2e-7); 1 ≤ |x| < 4: 1 - exp(-x²) * Q(1/|x|) with the sign
// of x (≤ 1e-7); erf rounds to ±1 beyond 4.
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { horner } from './library.js';

const SMALL = [
  -0.0005667360198764958, 0.004927248941764939, -0.02672072675922782, 0.1128057178818504, -0.376123894627689,
  1.1283791465466064,
];
const LARGE = [
  -0.017701250558171382, 0.12012153634303907, -0.35330532053130814, 0.5749288990157855, -0.5054013182114756,
  0.05081558566448681, 0.5577788044770497, 0.0003466666789002787,
];

export function emitErf(f: FunctionBuilder, x: Local<'v128'>, exp: () => void): void {
  const z = f.local('v128');
  const ax = f.local('v128');
  const t = f.local('v128');
  const small = f.local('v128');
  f.get(x).get(x).simd('f32x4_mul').set(z);
  horner(f, z, SMALL);
  f.get(x).simd('f32x4_mul').set(small);
  // clamp to 4 so exp(-x²) never underflows into garbage; pmin keeps a NaN first operand
  f.get(x).simd('f32x4_abs').f32x4(4).simd('f32x4_pmin').set(ax);
  f.f32x4(1).get(ax).simd('f32x4_div').set(t);
  f.f32x4(1);
  horner(f, t, LARGE);
  f.get(ax).get(ax).simd('f32x4_mul', 'f32x4_neg');
  exp();
  f.simd('f32x4_mul', 'f32x4_sub');
  f.get(x).f32x4(-0).simd('v128_and', 'v128_or'); // sign of x
  const large = f.local('v128');
  f.set(large);
  f.get(small).get(large).get(ax).f32x4(1).simd('f32x4_lt', 'v128_bitselect');
}
