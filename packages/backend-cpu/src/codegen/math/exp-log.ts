// exp and log for f32x4, after Cephes' expf/logf: Cody–Waite range reduction by ln 2 and a minimax
// polynomial (exp's refitted one degree lower). exp is within 0.92 ulp of the exact result over its whole
// input domain, subnormal results included (0.906 ulp worst over every float32 in [-104, -0.25] and
// [0.25, 88.8]; test/exp-accuracy); log is about 1 ulp over the normal range. Special values are handled by selects at the end, not branches, so
// all four lanes go through the same code.
import type { FunctionBuilder, Local } from '../wasm/function.js';
import { horner } from './library.js';

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const MAGIC = 12582912; // 1.5 · 2^23
const MAGIC_BITS = 0x4b400000; // its float32 bit pattern
/** exp's P (see reducedExp), highest degree first. */
const [P0, P1, P2, P3, P4] = [1.381461275741458e-3, 8.368710055947304e-3, 4.166838899254799e-2, 1.666652113199234e-1, 4.999999403953552e-1];

/**
 * exp(x) = 2^n · p(r) for x already clamped: pushes u = p(r) - 1 (see scaleOnePlus) and leaves the magic-biased t = x·log2e + bias in
 * `biased` (its low mantissa bits hold n + bias - 1.5·2^23, for the caller's scale factor).
 *
 * The code is laid out for a short dependency chain, since a row of exps is bound by latency more than by
 * arithmetic (V8 emits the instructions in this order and keeps no more than 16 v128 values in registers):
 * - n = nearest(x·log2e) is one rounding instruction; the magic-biased sum that gives 2^n's bits is computed
 *   beside it instead of before it (rounding ties to even, so both agree);
 * - r = x - n·ln2 keeps its two Cody–Waite parts: r_hi = x - n·LN2_HI is exact, and the linear term adds
 *   r_hi last, so the reduction is rounded once instead of twice (0.99 → 0.90 ulp worst case);
 * - P(r) = P0 r^4 + … + P4, fitted for relative error on [-ln2/2, ln2/2] (Lawson-weighted least squares), is
 *   evaluated as ((P0·z + (P1·r + P2))·z + (P3·r + P4)) with z = r², three products deep instead of Horner's
 *   four; u = p - 1 = (z·P - r_lo) + r_hi.
 * Softmax 1024² ran 4–10% faster than the sequential form (interleaved A/B in one process, CPU time).
 */
function reducedExp(f: FunctionBuilder, x: Local<'v128'>, bias: number): Local<'v128'> {
  const t = f.local('v128');
  const n = f.local('v128');
  const biased = f.local('v128');
  const rHi = f.local('v128');
  const rLo = f.local('v128');
  const r = f.local('v128');
  const z = f.local('v128');
  const odd = f.local('v128');
  f.get(x).f32x4(LOG2E).simd('f32x4_mul').set(t);
  f.get(t).simd('f32x4_nearest').set(n);
  // adding 1.5·2^23 (+ bias) rounds t to an integer that sits in the low mantissa bits: 2^n by a shift
  f.get(t).f32x4(MAGIC + bias).simd('f32x4_add').set(biased);
  f.get(x).get(n).f32x4(LN2_HI).simd('f32x4_mul', 'f32x4_sub').set(rHi);
  f.get(n).f32x4(LN2_LO).simd('f32x4_mul').set(rLo);
  f.get(rHi).get(rLo).simd('f32x4_sub').set(r);
  f.get(r).get(r).simd('f32x4_mul').set(z);
  f.get(r).f32x4(P1).simd('f32x4_mul').f32x4(P2).simd('f32x4_add').set(odd);
  f.get(z).f32x4(P0).simd('f32x4_mul').get(odd).simd('f32x4_add').get(z).simd('f32x4_mul');
  f.get(r).f32x4(P3).simd('f32x4_mul').f32x4(P4).simd('f32x4_add').simd('f32x4_add');
  f.get(z).simd('f32x4_mul').get(rLo).simd('f32x4_sub').get(rHi).simd('f32x4_add');
  return biased;
}

/**
 * p·s for the u = p - 1 that reducedExp pushed and the power of two that `pushScale` pushes, as u·s + s:
 * s is a normal power of two, so u·s is exact and u·s + s is (u + 1)·s rounded once, the same bits as
 * rounding u + 1 first, with no constant 1 to keep in a register (softmax's exp loop has more live v128
 * constants than x64 has registers).
 */
function scaleOnePlus(f: FunctionBuilder, pushScale: () => void): void {
  const s = f.local('v128');
  pushScale();
  f.tee(s).simd('f32x4_mul').get(s).simd('f32x4_add');
}

export function emitExp(f: FunctionBuilder, x0: Local<'v128'>): void {
  const x = f.local('v128');
  const ni = f.local('v128');
  const half = f.local('v128');
  // Clamp keeps 2^n representable in two factors. pmin/pmax (one instruction each, where V8 lowers the
  // NaN-propagating f32x4.min/max to about eight) return their first operand when a comparison with NaN
  // fails, so NaN still survives to the end.
  f.get(x0).f32x4(89).simd('f32x4_pmin').f32x4(-110).simd('f32x4_pmax').set(x);
  const biased = reducedExp(f, x, 0);
  // n as an integer: an i32 subtract of the bias's bits (V8 lowers i32x4.trunc_sat_f32x4_s to about eight
  // x64 instructions; this costs one)
  f.get(biased).i32x4(MAGIC_BITS).simd('i32x4_sub').set(ni);
  // scale by 2^n as 2^(n>>1) * 2^(n - n>>1), each factor a normal float, so results down to the
  // subnormal range and up to overflow come out right.
  f.get(ni).i32(1).simd('i32x4_shr_s').set(half);
  scaleOnePlus(f, () => f.get(half).i32x4(127).simd('i32x4_add').i32(23).simd('i32x4_shl'));
  f.get(ni).get(half).simd('i32x4_sub').i32x4(127).simd('i32x4_add').i32(23).simd('i32x4_shl', 'f32x4_mul');
}

/**
 * exp of an argument known to be ≤ 0 or NaN (softmax's x - max(x)): the same reduction and polynomial, so the
 * same bits as emitExp there, but no overflow to handle. Scaling by 2^n then needs one factor 2^(n+25),
 * normal for every n ≥ -150 (x clamped at -104, where exp rounds to 0), read straight from the magic-biased
 * sum's bits, and one exact multiply by 2^-25 that rounds subnormal results once (2^n itself would not do:
 * 2^-150 rounds to 0, where p·2^-150 may round up to 2^-149): 7 instructions fewer than emitExp.
 */
export function emitExpNonPositive(f: FunctionBuilder, x0: Local<'v128'>, times2p25 = false): void {
  const x = f.local('v128');
  f.get(x0).f32x4(-104).simd('f32x4_pmax').set(x); // pmax keeps NaN (the comparison with it fails)
  // the bias carries n's exponent offset too: the low mantissa bits hold n + 25 + 127
  const biased = reducedExp(f, x, 152);
  scaleOnePlus(f, () => f.get(biased).i32(23).simd('i32x4_shl'));
  // exp·2^25 (a normal float, never rounded) where the caller scales back itself (kernels/stash.ts)
  if (!times2p25) f.f32x4(2 ** -25).simd('f32x4_mul');
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
