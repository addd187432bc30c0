// Floor division and Python-style modulo on f32x4 and i32x4 (wasm SIMD has neither): the operands are
// on the stack, the result is left there.
import type { FunctionBuilder } from '../wasm/function.js';

/** floor(a / b), or a - floor(a / b) * b (PyTorch's remainder: the sign of b). */
export function emitFloatFloorDivMod(f: FunctionBuilder, op: 'floordiv' | 'mod'): void {
  const a = f.local('v128'), b = f.local('v128');
  f.set(b).set(a);
  if (op === 'floordiv') return void f.get(a).get(b).simd('f32x4_div', 'f32x4_floor');
  f.get(a).get(a).get(b).simd('f32x4_div', 'f32x4_floor').get(b).simd('f32x4_mul', 'f32x4_sub');
  // A finite a over b = ±Inf: the formula gives NaN (0·Inf); eager's fmod keeps a, and Python's sign rule
  // then moves a nonzero a of the other sign to b.
  const res = f.local('v128');
  f.set(res).get(b).get(a);
  f.get(a).f32x4(0).simd('f32x4_lt').get(b).f32x4(0).simd('f32x4_lt', 'v128_xor').get(a).f32x4(0).simd('f32x4_ne', 'v128_and', 'v128_bitselect');
  f.get(res).get(b).simd('f32x4_abs').f32x4(Infinity).simd('f32x4_eq').get(a).get(a).simd('f32x4_sub').f32x4(0);
  f.simd('f32x4_eq', 'v128_and', 'v128_bitselect');
}

/**
 * int32 floor division / modulo lane by lane (wasm SIMD has no integer division). Division by zero gives
 * 0 instead of trapping, and INT_MIN / -1 wraps, so a kernel never aborts half-way through its output.
 */
export function emitIntFloorDivMod(f: FunctionBuilder, op: 'floordiv' | 'mod'): void {
  const va = f.local('v128'), vb = f.local('v128'), out = f.local('v128');
  const a = f.local('i32'), b = f.local('i32'), q = f.local('i32');
  f.set(vb).set(va).i32x4(0).set(out);
  for (let lane = 0; lane < 4; lane++) {
    f.get(va).lane('i32x4_extract_lane', lane).set(a);
    f.get(vb).lane('i32x4_extract_lane', lane).set(b);
    f.i32(0).set(q);
    f.get(b).if(() => {
      // b == -1 is negation (avoids the INT_MIN / -1 trap); otherwise truncating division, then floor
      f.get(b).i32(-1).op('i32_eq');
      f.if(
        () => f.i32(0).get(a).op('i32_sub').set(q),
        () => {
          f.get(a).get(b).op('i32_div_s').set(q);
          f.get(a).get(b).op('i32_rem_s').i32(0).op('i32_ne');
          f.get(a).get(b).op('i32_xor').i32(0).op('i32_lt_s', 'i32_and');
          f.if(() => f.get(q).i32(1).op('i32_sub').set(q));
        },
      );
    });
    f.get(out);
    if (op === 'floordiv') f.get(q);
    else f.get(a).get(q).get(b).op('i32_mul', 'i32_sub').i32(0).get(b).op('select'); // b == 0 → 0
    f.lane('i32x4_replace_lane', lane).set(out);
  }
  f.get(out);
}
