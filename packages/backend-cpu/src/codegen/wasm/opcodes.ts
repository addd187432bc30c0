// Opcodes used by Kiln's kernels, named after their text-format mnemonics (`.` → `_`). Only what we emit is
// listed; adding one is one line. SIMD opcodes (prefix 0xfd) are given by their LEB-encoded sub-opcode.

export const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof VALTYPE;

/** Plain (one-byte) instructions without immediates. */
export const PLAIN = {
  unreachable: 0x00, nop: 0x01, return: 0x0f, drop: 0x1a, select: 0x1b,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  f32_eq: 0x5b, f32_ne: 0x5c, f32_lt: 0x5d, f32_gt: 0x5e, f32_le: 0x5f, f32_ge: 0x60,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f,
  i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76,
  f32_abs: 0x8b, f32_neg: 0x8c, f32_ceil: 0x8d, f32_floor: 0x8e, f32_trunc: 0x8f, f32_nearest: 0x90,
  f32_sqrt: 0x91, f32_add: 0x92, f32_sub: 0x93, f32_mul: 0x94, f32_div: 0x95, f32_min: 0x96, f32_max: 0x97,
  f32_convert_i32_s: 0xb2, i32_reinterpret_f32: 0xbc, f32_reinterpret_i32: 0xbe,
} as const;
export type PlainOp = keyof typeof PLAIN;

/** Memory instructions: opcode, then a memarg (log2 alignment, offset). */
export const MEMORY = {
  i32_load: 0x28, f32_load: 0x2a, i32_load8_u: 0x2d, i32_store: 0x36, f32_store: 0x38, i32_store8: 0x3a,
} as const;
export type MemoryOp = keyof typeof MEMORY;

/** SIMD instructions without immediates. */
export const SIMD = {
  i8x16_swizzle: 0x0e, i32x4_splat: 0x11, f32x4_splat: 0x13,
  i32x4_eq: 0x37, i32x4_ne: 0x38, i32x4_lt_s: 0x39, i32x4_gt_s: 0x3b, i32x4_le_s: 0x3d, i32x4_ge_s: 0x3f,
  f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46,
  v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f, v128_or: 0x50, v128_xor: 0x51, v128_bitselect: 0x52,
  v128_any_true: 0x53,
  i8x16_narrow_i16x8_u: 0x66, f32x4_ceil: 0x67, f32x4_floor: 0x68, f32x4_trunc: 0x69, f32x4_nearest: 0x6a,
  i16x8_narrow_i32x4_u: 0x86, i16x8_extend_low_i8x16_u: 0x89,
  i32x4_abs: 0xa0, i32x4_neg: 0xa1, i32x4_extend_low_i16x8_u: 0xa9,
  i32x4_shl: 0xab, i32x4_shr_s: 0xac, i32x4_shr_u: 0xad, i32x4_add: 0xae, i32x4_sub: 0xb1, i32x4_mul: 0xb5,
  i32x4_min_s: 0xb6, i32x4_max_s: 0xb8,
  f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_sqrt: 0xe3, f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6,
  f32x4_div: 0xe7, f32x4_min: 0xe8, f32x4_max: 0xe9, f32x4_pmin: 0xea, f32x4_pmax: 0xeb,
  i32x4_trunc_sat_f32x4_s: 0xf8, f32x4_convert_i32x4_s: 0xfa,
} as const;
export type SimdOp = keyof typeof SIMD;

/** SIMD memory instructions: sub-opcode, then a memarg. */
export const SIMD_MEMORY = {
  v128_load: 0x00, v128_load32_splat: 0x09, v128_store: 0x0b, v128_load32_zero: 0x5c,
} as const;
export type SimdMemoryOp = keyof typeof SIMD_MEMORY;

/** SIMD lane instructions: sub-opcode, then a lane index byte. */
export const SIMD_LANE = {
  i32x4_extract_lane: 0x1b, i32x4_replace_lane: 0x1c, f32x4_extract_lane: 0x1f, f32x4_replace_lane: 0x20,
} as const;
export type SimdLaneOp = keyof typeof SIMD_LANE;

/** SIMD lane memory instructions: sub-opcode, memarg, lane index. */
export const SIMD_MEMORY_LANE = { v128_load32_lane: 0x56, v128_store32_lane: 0x5a } as const;
export type SimdMemoryLaneOp = keyof typeof SIMD_MEMORY_LANE;

export const SIMD_PREFIX = 0xfd;
