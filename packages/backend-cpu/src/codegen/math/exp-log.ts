// exp and log for f32x4, after Cephes' expf/logf: Cody–Waite range reduction by ln 2 and a minimax
// polynomial (exp's refitted one degree lower); about 1 ulp over the normal range (exp: 0.96 ulp max on 1M
// random inputs against Math.exp). Special values are handled by selects at the end, not branches, so all
// four lanes go through the same code.
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { horner } from './library.js';

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const MAGIC = 12582912; // 1.5 · 2^23
const MAGIC_BITS = 0x4b400000; // its float32 bit pattern
/** exp's P (see emitExp), highest degree first. */
const EXP_P = [1.381461275741458e-3, 8.368710055947304e-3, 4.166838899254799e-2, 1.666652113199234e-1, 4.999999403953552e-1];

export function emitExp(f: FunctionBuilder, x0: Local<'v128'>): void {
  const x = f.local('v128');
  const n = f.local('v128');
  const z = f.local('v128');
  const ni = f.local('v128');
  // Clamp keeps 2^n representable in two factors. pmin/pmax (one instruction each, where V8 lowers the
  // NaN-propagating f32x4.min/max to about eight) return their first operand when a comparison with NaN
  // fails, so NaN still survives to the end.
  f.get(x0).f32x4(89).simd('f32x4_pmin').f32x4(-110).simd('f32x4_pmax').set(x);
  // n = nearest(x·log2e) by the magic-bias trick: adding 1.5·2^23 rounds to an integer (ties to even, as
  // f32x4.nearest does) that also sits in the low mantissa bits, so an i32 subtract of the bias's bits gives
  // n as an integer. V8 lowers i32x4.trunc_sat_f32x4_s to about eight x64 instructions; this costs one.
  const biased = f.local('v128');
  f.get(x).f32x4(LOG2E).simd('f32x4_mul').f32x4(MAGIC).simd('f32x4_add').set(biased);
  f.get(biased).f32x4(MAGIC).simd('f32x4_sub').set(n);
  f.get(biased).i32x4(MAGIC_BITS).simd('i32x4_sub').set(ni);
  f.get(x).get(n).f32x4(LN2_HI).simd('f32x4_mul', 'f32x4_sub').get(n).f32x4(LN2_LO).simd('f32x4_mul', 'f32x4_sub').set(x);
  f.get(x).get(x).simd('f32x4_mul').set(z);
  // p = 1 + x + z * P(x), P of degree 4 fitted here for relative error on [-ln2/2, ln2/2] (Lawson-weighted
  // least squares): 0.78 ulp in float32 evaluation, the same as Cephes' degree-5 P, one mul-add fewer.
  horner(f, x, EXP_P);
  f.get(z).simd('f32x4_mul').get(x).simd('f32x4_add').f32x4(1).simd('f32x4_add');
  // scale by 2^n as 2^(n>>1) * 2^(n - n>>1), each factor a normal float, so results down to the
  // subnormal range and up to overflow come out right.
  const half = f.local('v128');
  f.get(ni).i32(1).simd('i32x4_shr_s').set(half);
  f.get(half).i32x4(127).simd('i32x4_add').i32(23).simd('i32x4_shl', 'f32x4_mul');
  f.get(ni).get(half).simd('i32x4_sub').i32x4(127).simd('i32x4_add').i32(23).simd('i32x4_shl', 'f32x4_mul');
}

/**
 * exp of an argument known to be ≤ 0 or NaN (softmax's x - max(x)): the same reduction and polynomial, so the
 * same bits as emitExp there, but no overflow to handle. Scaling by 2^n then needs one factor 2^(n+25),
 * normal for every n ≥ -150 (x clamped at -104, where exp rounds to 0), read straight from the magic-biased
 * sum's bits, and one exact multiply by 2^-25 that rounds subnormal results once: 7 instructions fewer.
 */
export function emitExpNonPositive(f: FunctionBuilder, x0: Local<'v128'>): void {
  const x = f.local('v128');
  const biased = f.local('v128');
  const n = f.local('v128');
  const z = f.local('v128');
  f.get(x0).f32x4(-104).simd('f32x4_pmax').set(x); // pmax keeps NaN (the comparison with it fails)
  // the bias carries n's exponent offset too: the low mantissa bits hold n + 25 + 127
  f.get(x).f32x4(LOG2E).simd('f32x4_mul').f32x4(MAGIC + 152).simd('f32x4_add').set(biased);
  f.get(biased).f32x4(MAGIC + 152).simd('f32x4_sub').set(n);
  f.get(x).get(n).f32x4(LN2_HI).simd('f32x4_mul', 'f32x4_sub').get(n).f32x4(LN2_LO).simd('f32x4_mul', 'f32x4_sub').set(x);
  f.get(x).get(x).simd('f32x4_mul').set(z);
  horner(f, x, EXP_P);
  f.get(z).simd('f32x4_mul').get(x).simd('f32x4_add').f32x4(1).simd('f32x4_add');
  f.get(biased).i32(23).simd('i32x4_shl', 'f32x4_mul').f32x4(2 ** -25).simd('f32x4_mul');
}

const SQRT_HALF = 0.707106781186547524;

export function emitLog(f: FunctionBuilder, x0: Local<'v128'>): void {
  const x = f.local('v128');
  const e = f.local('v128');
  const m = f.local('v128');
  const z = f.local('v128');
  const tiny = f.local('v128');
  // Subnormals: scale by 2^23 first and remember to subtract 23 from the exponent.
  f.get(x0).f32x4(1.17549435e-38).simd('f32x4_lt').set(tiny);
  f.get(x0).f32x4(8388608).simd('f32x4_mul').get(x0).get(tiny).simd('v128_bitselect').set(x);
  // frexp: x = m * 2^e with m in [0.5, 1)
  f.get(x).i32(23).simd('i32x4_shr_u').i32x4(126).simd('i32x4_sub');
  f.get(tiny).i32x4(23).simd('v128_and', 'i32x4_sub', 'f32x4_convert_i32x4_s').set(e);
  f.get(x).i32x4(0x807fffff | 0).simd('v128_and').i32x4(0x3f000000).simd('v128_or').set(m);
  // if m < sqrt(1/2): e -= 1, m = 2m - 1; else m = m - 1
  const lt = f.local('v128');
  f.get(m).f32x4(SQRT_HALF).simd('f32x4_lt').set(lt);
  f.get(e).get(lt).f32x4(1).simd('v128_and', 'f32x4_sub').set(e);
  f.get(m).get(m).get(lt).simd('v128_and', 'f32x4_add').f32x4(1).simd('f32x4_sub').set(m);
  f.get(m).get(m).simd('f32x4_mul').set(z);
  const y = f.local('v128');
  horner(f, m, [
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
  ]);
  f.get(m).simd('f32x4_mul').get(z).simd('f32x4_mul');
  f.get(e).f32x4(LN2_LO).simd('f32x4_mul', 'f32x4_add');
  f.get(z).f32x4(-0.5).simd('f32x4_mul', 'f32x4_add').set(y);
  f.get(m).get(y).simd('f32x4_add').get(e).f32x4(LN2_HI).simd('f32x4_mul', 'f32x4_add').set(y);
  // x == +inf → +inf; x == 0 → -inf; x < 0 or NaN → NaN
  f.f32x4(Infinity).get(y).get(x0).f32x4(Infinity).simd('f32x4_eq', 'v128_bitselect').set(y);
  f.f32x4(-Infinity).get(y).get(x0).f32x4(0).simd('f32x4_eq', 'v128_bitselect').set(y);
  f.get(y).f32x4(NaN).get(x0).f32x4(0).simd('f32x4_ge', 'v128_bitselect');
}
