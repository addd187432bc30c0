import { Storage, Tensor } from '@kiln/tensor';
import type { DType, TypedArray } from '@kiln/tensor';

function convert(dtype: DType, src: ArrayLike<number>): TypedArray {
  switch (dtype) {
    case 'bool': return Uint8Array.from(src, (v) => (v !== 0 ? 1 : 0));
    case 'int32': return Int32Array.from(src);
    case 'float32': return Float32Array.from(src);
    case 'float64': return Float64Array.from(src);
    default: return dtype satisfies never;
  }
}

/**
 * `t` with its whole buffer converted to `dtype`, keeping shape, strides and offset: a non-contiguous int32 or
 * bool tensor built from `makeTensor`'s float64 layouts (`to()` would make it contiguous).
 */
export function withDType(t: Tensor, dtype: DType): Tensor {
  return new Tensor(new Storage(convert(dtype, t.storage.data), dtype), t.shape, t.strides, t.offset, dtype);
}
