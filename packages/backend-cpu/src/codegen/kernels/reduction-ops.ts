// How each folding reduction combines four lanes, and its identity.
import type { ReductionType } from '@kiln/lower';
import type { FunctionBuilder, Local } from '../wasm/function.js';
import type { SimdOp } from '../wasm/opcodes.js';

export type FoldType = Exclude<ReductionType, 'argmax' | 'argmin'>;

export const COMBINE: Record<'float32' | 'int32', Record<FoldType, [SimdOp, number]>> = {
  float32: { sum: ['f32x4_add', 0], prod: ['f32x4_mul', 1], max: ['f32x4_max', -Infinity], min: ['f32x4_min', Infinity] },
  int32: { sum: ['i32x4_add', 0], prod: ['i32x4_mul', 1], max: ['i32x4_max_s', -0x80000000], min: ['i32x4_min_s', 0x7fffffff] },
};

/**
 * acc = op(acc, value). For float max/min, `nan` is given: pmax/pmin are single instructions where V8
 * lowers the NaN-propagating f32x4.max/min to about eight, so NaN is tracked on the side (nan |= value !=
 * value) and restored at the end by the caller.
 */
export function emitFoldStep(
  f: FunctionBuilder, op: SimdOp, acc: Local<'v128'>, value: Local<'v128'>, nan: Local<'v128'> | null,
): void {
  if (!nan) return void f.get(acc).get(value).simd(op).set(acc);
  f.get(nan).get(value).get(value).simd('f32x4_ne', 'v128_or').set(nan);
  f.get(acc).get(value).simd(op === 'f32x4_max' ? 'f32x4_pmax' : 'f32x4_pmin').set(acc);
}
