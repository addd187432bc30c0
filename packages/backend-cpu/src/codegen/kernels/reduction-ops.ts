// How each folding reduction combines four lanes, and its identity.
import type { ReductionType } from '@kiln/core';
import type { SimdOp } from '../wasm/opcodes.js';

export type FoldType = Exclude<ReductionType, 'argmax' | 'argmin'>;

export const COMBINE: Record<'float32' | 'int32', Record<FoldType, [SimdOp, number]>> = {
  float32: { sum: ['f32x4_add', 0], prod: ['f32x4_mul', 1], max: ['f32x4_max', -Infinity], min: ['f32x4_min', Infinity] },
  int32: { sum: ['i32x4_add', 0], prod: ['i32x4_mul', 1], max: ['i32x4_max_s', -0x80000000], min: ['i32x4_min_s', 0x7fffffff] },
};
