import type { DType } from '@kiln/tensor';

const SHORT: Record<DType, string> = { bool: 'b8', int32: 'i32', float32: 'f32', float64: 'f64' };
export const shortNameOf = (dtype: string) => SHORT[dtype as DType] ?? dtype;
