// The "recompute eagerly" flag. A kernel whose fast path cannot give eager's answer for some input (sin/cos
// of |x| > 1e5, a float32 sum that overflows where eager's float64 one would not) sets memory word 0 — no
// buffer starts below 64 — and the program runner then recomputes the whole call with the eager kernels:
// slower for such inputs, never wrong. Lanes with nothing to flag write word 1 instead, so the flag is only
// ever set, never cleared by a racing store from another thread.
import type { FunctionBuilder } from './wasm/function.js';

export const IMPRECISE_FLAG_ADDRESS = 0;

/** Emits: flag the call if the i32 that `condition` pushes (0 or 1) is 1. Leaves the stack as it was. */
export function emitFlagIf(f: FunctionBuilder, condition: () => void): void {
  f.setsImpreciseFlag = true;
  f.i32(IMPRECISE_FLAG_ADDRESS + 4);
  condition();
  f.i32(2).op('i32_shl', 'i32_sub').i32(1).mem('i32_store');
}

/** Emits: flag the call if any lane of the float32 vector in `acc` is ±infinity (an overflowed sum). */
export function emitFlagIfInfinite(f: FunctionBuilder, acc: Parameters<FunctionBuilder['get']>[0]): void {
  emitFlagIf(f, () => f.get(acc).simd('f32x4_abs').f32x4(Infinity).simd('f32x4_eq', 'v128_any_true'));
}
