import { KilnTypeError, ValueError, fmtShape } from '../errors.js';
import { castValues } from '../kernels/cast.js';
import type { InputGrads } from '../registry/derivative.js';
import { defineOp, runEager } from '../registry/registry.js';
import type { MetaTensor } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import { numelOf, sizeEq } from '../size.js';
import { Tensor, assertSingleElement } from '../tensor.js';
import { clone } from './views.js';

/**
 * `x.to(dtype)`: a converted copy, or `x` itself when the dtype already matches (as in PyTorch; pass
 * `{ copy: true }` for a new tensor). Floats truncate toward zero into int32; nonzero and NaN become true.
 */
export const to = defineOp({
  name: 'to',
  category: 'conversion',
  method: true,
  positional: [arg('self', 'Tensor'), arg('dtype', 'dtype?')],
  keywordOnly: [opt('copy', 'bool', false)],
  meta: ([x, dtype, copy]): MetaTensor => {
    if (dtype === null) {
      throw new KilnTypeError(`to: argument 'dtype' must be a dtype, got null (tensor ${x.dtype}${fmtShape(x.shape)})`, "e.g. x.to('float64')");
    }
    if (dtype === x.dtype && !copy) return { shape: [...x.shape], strides: [...x.strides], offset: x.offset, dtype, same: true };
    return { shape: [...x.shape], dtype };
  },
  kernel: ([x, , copy], out: MetaTensor): Tensor => {
    if (out.dtype === x.dtype) return copy ? (runEager(clone.op, [x]) as Tensor) : x;
    return Tensor.fromData(castValues(x.toTypedArray(), out.dtype), x.shape, out.dtype);
  },
  derivative: ({ grad }): InputGrads => [grad], // cast back to the input's dtype by autograd
});

/** Coordinates of the nonzero elements (NaN counts as nonzero), one row each: int32 `[n, ndim]`. */
export const nonzero = defineOp({
  name: 'nonzero',
  category: 'data-dependent',
  method: true,
  dataDependent: true,
  positional: [arg('self', 'Tensor')],
  meta: ([x], ctx): MetaTensor => ({
    // In eager mode the row count is unknown (-1) until the kernel counts; tracing gets a fresh size symbol.
    shape: [ctx.dataDependentSize('nonzero', 'number of nonzero elements') ?? -1, x.ndim],
    dtype: 'int32',
  }),
  kernel: ([x]): Tensor => {
    const values = x.toTypedArray();
    let count = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== 0) count++;
    const ndim = x.ndim;
    const out = new Int32Array(count * ndim);
    const coords = new Array<number>(ndim).fill(0);
    for (let i = 0, row = 0; i < values.length; i++) {
      if (values[i] !== 0) {
        for (let d = 0; d < ndim; d++) out[row * ndim + d] = coords[d]!;
        row++;
      }
      for (let d = ndim - 1; d >= 0; d--) {
        if (++coords[d]! < x.shape[d]!) break;
        coords[d] = 0;
      }
    }
    return Tensor.fromData(out, [count, ndim], 'int32');
  },
  derivative: 'nonDifferentiable',
});

/** The single element as a JS number (a boolean for bool tensors). Method only: `x.item()`. */
export const item = defineOp({
  name: 'item',
  category: 'conversion',
  method: true,
  publicFunction: false,
  dataDependent: true,
  positional: [arg('self', 'Tensor')],
  meta: ([x]) => {
    // The same check as the kernel's, on sizes that may be symbolic (fake tensors have no numel).
    if (!sizeEq(numelOf(x.shape), 1)) {
      throw new ValueError(
        `item: needs a tensor with exactly one element, got shape ${fmtShape(x.shape)} (${String(numelOf(x.shape))} elements)`,
        'reduce it first (e.g. .sum()) or select one element',
      );
    }
    return { scalar: x.dtype };
  },
  kernel: ([x]): number | boolean => {
    assertSingleElement(x, 'item');
    const v = x.storage.data[x.offset]!;
    return x.dtype === 'bool' ? v !== 0 : v;
  },
  derivative: 'nonDifferentiable',
});
