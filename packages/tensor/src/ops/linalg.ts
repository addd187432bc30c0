import type { DType } from '../dtype.js';
import { KilnTypeError, ShapeError, fmtShape } from '../errors.js';
import { copyToContiguous } from '../kernels/copy.js';
import { gemmFloat, gemmInt32 } from '../kernels/matmul.js';
import type { GradContext, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { broadcastShapes, sizeEq } from '../size.js';
import { Tensor, elementOffsets } from '../tensor.js';
import { add } from './pointwise.js';
import { transpose } from './views.js';

interface MatmulLayout {
  /** Broadcast batch dims, then the n×k by k×m product; 1-D operands count as a row (a) or a column (b). */
  batch: Size[];
  n: Size;
  k: Size;
  m: Size;
  shape: Size[];
  dtype: DType;
}

const both = (a: TensorMetaLike, b: TensorMetaLike) => `${fmtShape(a.shape)} and ${fmtShape(b.shape)}`;

/** As in PyTorch, both operands must have one dtype (no promotion) and it must be numeric. */
function matmulDtype(op: string, a: TensorMetaLike, b: TensorMetaLike): DType {
  if (a.dtype === b.dtype && a.dtype !== 'bool') return a.dtype;
  throw new KilnTypeError(
    `${op}: ${a.dtype === b.dtype ? 'bool tensors are not supported' : 'dtypes must match'}, got ${a.dtype}${fmtShape(a.shape)} and ${b.dtype}${fmtShape(b.shape)}`,
    'convert both operands to the same float or int32 dtype first',
  );
}

/** PyTorch's matmul rules: 1-D·1-D is a dot product, 1-D operands gain then lose a dim, batch dims broadcast. */
function matmulLayout(op: string, a: TensorMetaLike, b: TensorMetaLike): MatmulLayout {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`${op}: both arguments need at least one dim, got shapes ${both(a, b)}`, 'use mul() to multiply by a scalar');
  }
  const dtype = matmulDtype(op, a, b);
  const [n, k] = a.ndim === 1 ? [1, a.shape[0]!] : a.shape.slice(-2);
  const [kb, m] = b.ndim === 1 ? [b.shape[0]!, 1] : b.shape.slice(-2);
  if (!sizeEq(k!, kb!)) {
    throw new ShapeError(
      `${op}: shapes ${both(a, b)} cannot be multiplied (${String(k)} != ${String(kb)})`,
      'the last dim of the first operand must equal the second-to-last dim (or the only dim) of the second',
    );
  }
  const aBatch = a.shape.slice(0, Math.max(0, a.ndim - 2));
  const bBatch = b.shape.slice(0, Math.max(0, b.ndim - 2));
  let batch: Size[];
  try {
    batch = broadcastShapes(op, aBatch, bBatch);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new ShapeError(
      `${op}: the batch dims ${fmtShape(aBatch)} and ${fmtShape(bBatch)} of shapes ${both(a, b)} cannot be broadcast together`,
      'batch dims (all but the last two) must match or be 1',
    );
  }
  const shape = [...batch, ...(a.ndim > 1 ? [n!] : []), ...(b.ndim > 1 ? [m!] : [])];
  return { batch, n: n!, k: k!, m: m!, shape, dtype };
}

/** Storage offset of each batch matrix of `t`, broadcast over `batch` (stride 0 where `t` has size 1 or no dim). */
function batchOffsets(t: Tensor, batch: readonly number[]): Int32Array {
  const own = Math.max(0, t.ndim - 2);
  const lead = batch.length - own;
  const strides = batch.map((size, i) => (i < lead || (t.shape[i - lead] === 1 && size !== 1) ? 0 : t.strides[i - lead]!));
  return elementOffsets(batch, strides, t.offset);
}

export const matmul = defineOp({
  name: 'matmul',
  category: 'linalg',
  method: true,
  positional: [arg('self', 'Tensor'), arg('other', 'Tensor')],
  meta: ([a, b]): MetaTensor => {
    const { shape, dtype } = matmulLayout('matmul', a, b);
    return { shape, dtype };
  },
  kernel: ([a, b], out: MetaTensor): Tensor => {
    const { batch, n, k, m } = matmulLayout('matmul', a, b) as MatmulLayout & { batch: number[]; n: number; k: number; m: number };
    const result = Tensor.empty(out.shape as number[], out.dtype);
    if (result.numel === 0) return result;
    // Contiguous operands are read in place; anything else (a transposed weight, a slice) is copied once.
    const lhs = a.isContiguous() ? a : copyToContiguous(a);
    const rhs = b.isContiguous() ? b : copyToContiguous(b);
    const aOffsets = batchOffsets(lhs, batch);
    const bOffsets = batchOffsets(rhs, batch);
    const [x, y, z] = [lhs.storage.data, rhs.storage.data, result.storage.data];
    const accFloat = new Float64Array(out.dtype === 'int32' ? 0 : 4 * m);
    const accInt = new Int32Array(out.dtype === 'int32' ? m : 0);
    for (let t = 0; t < aOffsets.length; t++) {
      const base = t * n * m;
      if (out.dtype === 'int32') gemmInt32(x, aOffsets[t]!, y, bOffsets[t]!, z, base, n, k, m, accInt);
      else gemmFloat(x, aOffsets[t]!, y, bOffsets[t]!, z, base, n, k, m, accFloat);
    }
    return result;
  },
  derivative: matmulDerivative,
});

/** Checks `linear`'s operands, naming linear (not the matmul it decomposes into) in every error. */
function linearMeta(x: TensorMetaLike, weight: TensorMetaLike, bias: TensorMetaLike | null): MetaTensor {
  if (weight.ndim !== 1 && weight.ndim !== 2) {
    throw new ShapeError(`linear: weight must be 1-D or 2-D (outFeatures × inFeatures), got shape ${fmtShape(weight.shape)}`);
  }
  const inFeatures = weight.shape[weight.ndim - 1]!;
  if (x.ndim === 0 || !sizeEq(x.shape[x.ndim - 1]!, inFeatures)) {
    throw new ShapeError(
      `linear: input shape ${fmtShape(x.shape)} and weight shape ${fmtShape(weight.shape)} do not fit: the input's last dim must be inFeatures = ${String(inFeatures)}`,
      'weight is laid out as [outFeatures, inFeatures], as in PyTorch',
    );
  }
  const shape = [...x.shape.slice(0, -1), ...(weight.ndim === 2 ? [weight.shape[0]!] : [])];
  const dtype = matmulDtype('linear', x, weight);
  if (bias) {
    if (bias.dtype !== dtype) {
      throw new KilnTypeError(`linear: bias has dtype ${bias.dtype} but input and weight have ${dtype}`, `convert bias to ${dtype}`);
    }
    const fits = bias.ndim <= shape.length && bias.shape.every((s, i) => sizeEq(s, 1) || sizeEq(s, shape[shape.length - bias.ndim + i]!));
    if (!fits) {
      throw new ShapeError(
        `linear: bias shape ${fmtShape(bias.shape)} does not broadcast to the output shape ${fmtShape(shape)} (input ${fmtShape(x.shape)}, weight ${fmtShape(weight.shape)})`,
        'bias should have shape [outFeatures]',
      );
    }
  }
  return { shape, dtype };
}

export const linear = defineOp({
  name: 'linear',
  category: 'linalg',
  method: false,
  positional: [arg('input', 'Tensor'), arg('weight', 'Tensor'), opt('bias', 'Tensor?', null)],
  meta: ([x, weight, bias]) => linearMeta(x, weight, bias),
  decompose: ([x, weight, bias]): Tensor => {
    linearMeta(x, weight, bias);
    const y = matmul(x, weight.ndim === 2 ? transpose(weight, 0, 1) : weight);
    return bias ? add(y, bias) : y;
  },
});

/**
 * dA = dY·Bᵀ and dB = Aᵀ·dY, with vectors treated as one-row (lhs) or one-column (rhs) matrices; batch dims
 * that broadcast are summed back by autograd.
 */
function matmulDerivative({ grad, input, needsGrad, args: [a0, b0] }: GradContext<readonly [Tensor, Tensor]>): InputGrads {
  const a = a0.ndim === 1 ? input(0).unsqueeze(0) : input(0);
  const b = b0.ndim === 1 ? input(1).unsqueeze(-1) : input(1);
  let g = grad;
  if (a0.ndim === 1) g = g.unsqueeze(b0.ndim === 1 ? 0 : -2);
  if (b0.ndim === 1) g = g.unsqueeze(-1);
  const ga = needsGrad(0) ? g.matmul(b.transpose(-1, -2)) : null;
  const gb = needsGrad(1) ? a.transpose(-1, -2).matmul(g) : null;
  return [ga && a0.ndim === 1 ? ga.squeeze(-2) : ga, gb && b0.ndim === 1 ? gb.squeeze(-1) : gb];
}
