import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { scalarValueOf } from '../kernels/cast.js';
import { copyToContiguous } from '../kernels/copy.js';
import { checkedIndices, gatherAlongDim, takeAlongDim } from '../kernels/indexing.js';
import { mapTernary } from '../kernels/pointwise.js';
import type { GradContext, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { broadcastShapes, normalizeDim, numelOf, sizeEq, sizeLt } from '../size.js';
import { Tensor } from '../tensor.js';
import { checkMaskedFill, requireIndexDType } from './checks.js';
import { to } from './conversion.js';
import { full } from './creation.js';
import { where } from './pointwise.js';
import { zeros } from './creation.js';
import { scatterAdd } from './scatter.js';
import { flatten, reshape } from './views.js';

/** The largest typed array length V8 allows everywhere. */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** Shapes with a 0-dim tensor read as [1], as PyTorch's gather and index_select do. */
const atLeast1d = (shape: readonly Size[]): readonly Size[] => (shape.length === 0 ? [1] : shape);

const describeDim = (x: TensorMetaLike, dim: number) => `dim ${dim} of self (shape ${fmtShape(x.shape)})`;

export const indexSelect = defineOp({
  name: 'indexSelect',
  category: 'indexing',
  method: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int'), arg('index', 'Tensor')],
  meta: ([x, d, index]): MetaTensor => {
    const dim = normalizeDim(d, x.ndim, 'indexSelect');
    requireIndexDType('indexSelect', 'index', index);
    if (index.ndim > 1) {
      throw new ShapeError(`indexSelect: argument 'index' must be 0-dim or 1-D, got shape ${fmtShape(index.shape)}`, 'flatten it first, or use gather');
    }
    const n = numelOf(index.shape);
    if (x.ndim === 0) {
      if (!sizeEq(n, 1)) {
        throw new ShapeError(`indexSelect: a 0-dim self takes exactly one index, got ${String(n)} (index shape ${fmtShape(index.shape)})`, 'pass a single index 0, or unsqueeze self');
      }
      return { shape: [], dtype: x.dtype };
    }
    const shape = [...x.shape];
    shape[dim] = n;
    return { shape, dtype: x.dtype };
  },
  kernel: ([x, d, index], out: MetaTensor): Tensor => {
    const dim = normalizeDim(d, x.ndim, 'indexSelect');
    const size = atLeast1d(x.shape)[dim] as number;
    const values = checkedIndices('indexSelect', 'index', index, size, describeDim(x, dim));
    return takeAlongDim(x, dim, values, out.shape as number[]);
  },
  // Rows picked several times get the sum of their gradients: scatterAdd along dim, the index spread over the other dims.
  derivative: ({ grad, args: [x, d, index] }): InputGrads => {
    if (x.ndim === 0) return [grad.reshape([])];
    const dim = normalizeDim(d, x.ndim, 'indexSelect');
    const along = x.shape.map((_, k) => (k === dim ? -1 : 1));
    const spread = index.reshape(along).expand([...grad.shape]);
    return [scatterAdd(zeros([...x.shape], { dtype: grad.dtype }), dim, spread, grad)];
  },
});

export const gather = defineOp({
  name: 'gather',
  category: 'indexing',
  method: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int'), arg('index', 'Tensor')],
  meta: ([x, d, index]): MetaTensor => {
    const dim = normalizeDim(d, x.ndim, 'gather');
    requireIndexDType('gather', 'index', index);
    const xs = atLeast1d(x.shape);
    const is = atLeast1d(index.shape);
    const tooBig = xs.length === is.length ? is.findIndex((s, k) => k !== dim && sizeLt(xs[k]!, s)) : -1;
    if (xs.length !== is.length || tooBig >= 0) {
      throw new ShapeError(
        `gather: index of shape ${fmtShape(index.shape)} does not fit self of shape ${fmtShape(x.shape)} along dim ${dim}` +
          (xs.length !== is.length ? ' (different number of dims)' : ` (dim ${tooBig}: ${String(is[tooBig])} > ${String(xs[tooBig])})`),
        'index needs the same rank as self and sizes no larger than self in every dim except dim',
      );
    }
    return { shape: [...index.shape], dtype: x.dtype };
  },
  kernel: ([x, d, index]): Tensor => {
    const dim = normalizeDim(d, x.ndim, 'gather');
    const size = atLeast1d(x.shape)[dim] as number;
    return gatherAlongDim(x, dim, index, checkedIndices('gather', 'index', index, size, describeDim(x, dim)));
  },
  derivative: ({ grad, args: [x, d, index] }): InputGrads =>
    x.ndim === 0 ? [grad.reshape([])] : [scatterAdd(zeros([...x.shape], { dtype: grad.dtype }), d, index, grad)],
});

/** `torch.nn.functional.embedding(input, weight)`: rows of `weight` picked by the int32 `input`. */
export const embedding = defineOp({
  name: 'embedding',
  category: 'indexing',
  method: false,
  positional: [arg('input', 'Tensor'), arg('weight', 'Tensor')],
  meta: ([input, weight]): MetaTensor => {
    requireIndexDType('embedding', 'input', input);
    if (weight.ndim !== 2) {
      throw new ShapeError(
        `embedding: argument 'weight' must be 2-D [numEmbeddings, embeddingDim], got shape ${fmtShape(weight.shape)}`,
        'the argument order is embedding(input, weight), as in torch.nn.functional.embedding',
      );
    }
    return { shape: [...input.shape, weight.shape[1]!], dtype: weight.dtype };
  },
  kernel: ([input, weight], out: MetaTensor): Tensor => {
    const rows = weight.shape[0]!;
    const values = checkedIndices('embedding', 'input', input, rows, `the rows of weight (shape ${fmtShape(weight.shape)})`);
    return takeAlongDim(weight, 0, values, out.shape as number[]);
  },
  decompose: ([input, weight]): Tensor => reshape(indexSelect(weight, 0, flatten(input)), [...input.shape, weight.shape[1]!]),
});

export const maskedFill = defineOp({
  name: 'maskedFill',
  category: 'indexing',
  method: true,
  positional: [arg('self', 'Tensor'), arg('mask', 'Tensor'), arg('value', 'TensorOrScalar')],
  meta: ([x, mask, value]): MetaTensor => {
    checkMaskedFill('maskedFill', mask, value);
    return { shape: broadcastShapes('maskedFill', x.shape, mask.shape), dtype: x.dtype };
  },
  kernel: ([x, mask, value], out: MetaTensor): Tensor =>
    mapTernary(mask, scalarValueOf(value), x, out.shape as number[], x.dtype, (c, v, y) => (c !== 0 ? v : y)),
  decompose: ([x, mask, value]): Tensor =>
    where(mask, typeof value === 'object' ? to(value, x.dtype) : full([], value, { dtype: x.dtype }), x),
  derivative: maskedFillDerivative,
});

/** The filled elements take the value's gradient (summed, the value being one element); the rest keep self's. */
function maskedFillDerivative({ grad, args: [, mask, value] }: GradContext<readonly [Tensor, Tensor, Tensor | number | boolean]>): InputGrads {
  return [where(mask, 0, grad), null, typeof value === 'object' ? where(mask, grad, 0).sum() : null];
}

function triangle<const N extends string>(name: N, keep: (row: number, col: number, diagonal: number) => boolean) {
  return defineOp({
    name,
    category: 'indexing',
    method: true,
    positional: [arg('self', 'Tensor'), opt('diagonal', 'int', 0)],
    meta: ([x]): MetaTensor => {
      if (x.ndim < 2) {
        throw new ShapeError(`${name}: needs a tensor with at least 2 dims, got shape ${fmtShape(x.shape)}`, 'it works on the last two dims; unsqueeze a vector first');
      }
      return { shape: [...x.shape], dtype: x.dtype };
    },
    kernel: ([x, diagonal]): Tensor => {
      const result = copyToContiguous(x);
      const data = result.storage.writable();
      const rows = x.shape[x.ndim - 2]!;
      const cols = x.shape[x.ndim - 1]!;
      const matrices = rows * cols === 0 ? 0 : x.numel / (rows * cols);
      for (let m = 0; m < matrices; m++) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) if (!keep(r, c, diagonal)) data[(m * rows + r) * cols + c] = 0;
        }
      }
      return result;
    },
    derivative: ({ grad, args: [, diagonal] }): InputGrads => [name === 'tril' ? grad.tril(diagonal) : grad.triu(diagonal)],
  });
}

/** Lower triangle of the last two dims: keeps `col - row <= diagonal`. */
export const tril = triangle('tril', (r, c, k) => c - r <= k);
/** Upper triangle of the last two dims: keeps `col - row >= diagonal`. */
export const triu = triangle('triu', (r, c, k) => c - r >= k);

export const oneHot = defineOp({
  name: 'oneHot',
  category: 'indexing',
  method: false,
  // Data-dependent only with the default numClasses=-1, where the class count is the largest value + 1.
  dataDependent: true,
  positional: [arg('self', 'Tensor'), opt('numClasses', 'int', -1)],
  meta: ([x, numClasses], ctx): MetaTensor => {
    requireIndexDType('oneHot', 'self', x);
    if (typeof numClasses === 'number' && numClasses < -1) {
      throw new ValueError(`oneHot: numClasses=${numClasses} must be -1 (infer) or non-negative`, 'pass the number of classes, or leave it out to use the largest value + 1');
    }
    const classes = numClasses === -1 ? ctx.dataDependentSize('oneHot', 'numClasses') ?? -1 : numClasses;
    // -1 stays only in eager mode, where the kernel counts the classes.
    return { shape: [...x.shape, classes], dtype: 'int32' };
  },
  kernel: ([x, numClasses]): Tensor => {
    const values = x.toTypedArray() as Int32Array;
    let classes = numClasses;
    if (classes === -1) {
      if (values.length === 0) {
        throw new ValueError(`oneHot: cannot infer numClasses from an empty tensor (shape ${fmtShape(x.shape)})`, 'pass numClasses');
      }
      let max = 0;
      for (const v of values) if (v > max) max = v;
      classes = max + 1;
    }
    checkedIndices('oneHot', 'self', x, classes, `numClasses=${classes}: the classes`);
    if (values.length * classes > MAX_ELEMENTS) {
      throw new ValueError(
        `oneHot: the result [${[...x.shape, classes].join(', ')}] would have ${values.length * classes} elements, more than the ${MAX_ELEMENTS} a tensor can hold`,
        'pass a smaller numClasses',
      );
    }
    const out = new Int32Array(values.length * classes);
    for (let i = 0; i < values.length; i++) out[i * classes + values[i]!] = 1;
    return Tensor.fromData(out, [...x.shape, classes], 'int32');
  },
  derivative: 'nonDifferentiable',
});
