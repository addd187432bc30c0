// scatterAdd: the adjoint of gather (and of indexSelect), so gradients of indexing ops are themselves ops.
import { KilnTypeError, ShapeError, fmtShape } from '../errors.js';
import { checkedIndices } from '../kernels/indexing.js';
import type { InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor } from '../registry/registry.js';
import { arg } from '../registry/schema.js';
import { normalizeDim, sizeLt } from '../size.js';
import { Tensor } from '../tensor.js';
import { requireIndexDType } from './checks.js';

/**
 * `self` with `src[p]` added at `p` with its coordinate along `dim` replaced by `index[p]`, for every
 * position `p` of `index` (PyTorch's `scatter_add`). Out of place; indices repeat freely (they add up).
 */
export const scatterAdd = defineOp({
  name: 'scatterAdd',
  category: 'indexing',
  method: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int'), arg('index', 'Tensor'), arg('src', 'Tensor')],
  meta: ([x, d, index, src]): MetaTensor => {
    const dim = normalizeDim(d, Math.max(x.ndim, 1), 'scatterAdd');
    requireIndexDType('scatterAdd', 'index', index);
    if (src.dtype !== x.dtype) {
      throw new KilnTypeError(`scatterAdd: src has dtype ${src.dtype} but self has ${x.dtype}`, `convert src with src.to('${x.dtype}')`);
    }
    const ranks = new Set([x.ndim, index.ndim, src.ndim]);
    const tooBig = index.shape.findIndex((s, k) => sizeLt(src.shape[k]!, s) || (k !== dim && sizeLt(x.shape[k]!, s)));
    if (ranks.size > 1 || tooBig >= 0) {
      throw new ShapeError(
        `scatterAdd: index of shape ${fmtShape(index.shape)} does not fit self ${fmtShape(x.shape)} and src ${fmtShape(src.shape)} along dim ${dim}`,
        'self, index and src need the same rank; index no larger than src in every dim, and than self except along dim',
      );
    }
    return { shape: [...x.shape], dtype: x.dtype };
  },
  kernel: ([x, d, index, src]): Tensor => {
    const dim = normalizeDim(d, Math.max(x.ndim, 1), 'scatterAdd');
    const out = x.contiguous().clone();
    const data = out.storage.writable();
    const shape = x.ndim === 0 ? [1] : (x.shape as number[]);
    const values = checkedIndices('scatterAdd', 'index', index, shape[dim]!, `dim ${dim} of self (shape ${fmtShape(x.shape)})`);
    const srcValues = src.toTypedArray();
    const ishape = index.shape as number[];
    const srcStrides = contiguousOf(src.shape as number[]);
    const outStrides = contiguousOf(shape);
    const coord = new Array<number>(ishape.length).fill(0);
    for (let i = 0; i < values.length; i++) {
      let srcAt = 0;
      let outAt = 0;
      for (let k = 0; k < ishape.length; k++) {
        srcAt += coord[k]! * srcStrides[k]!;
        outAt += (k === dim ? values[i]! : coord[k]!) * outStrides[k]!;
      }
      data[outAt] = data[outAt]! + srcValues[srcAt]!;
      for (let k = ishape.length - 1; k >= 0 && ++coord[k]! >= ishape[k]!; k--) coord[k] = 0;
    }
    return out;
  },
  derivative: ({ grad, args: [, d, index] }): InputGrads => [grad, null, null, grad.gather(d, index)],
});

function contiguousOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  return strides;
}
