// The views that keep part of one dim (slice, narrow, select): their bounds follow Python's and PyTorch's
// rules on static and symbolic sizes, and their gradients pad back to the input's shape out of place.
import { IndexError } from '../errors.js';
import type { InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { normalizeDim, sizeAdd, sizeFloorDiv, sizeLt, sizeMin, sizeMul, sizeSub } from '../size.js';
import type { Tensor } from '../tensor.js';
import { arange, zeros } from './creation.js';
import { cat } from './join.js';
import { scatterAdd } from './scatter.js';
import { asView, viewOf } from './view-layout.js';

/**
 * The gradient of a view that keeps `length` elements along `dim` from `start`, every `step`: zeros elsewhere.
 * Written out of place (cat of zero blocks, or scatterAdd for steps), so a compiled backward needs no
 * in-place write into a view.
 */
function padAlong(x: TensorMetaLike, grad: Tensor, dim: number, start: number, step: number): Tensor {
  const shape = [...x.shape] as number[];
  const d = normalizeDim(dim, shape.length, 'slice');
  const zerosOf = (n: number) => zeros(shape.map((s, i) => (i === d ? n : s)), { dtype: grad.dtype });
  const length = grad.shape[d] as number;
  if (step === 1) {
    const after = shape[d]! - start - length;
    return cat([...(start > 0 ? [zerosOf(start)] : []), grad, ...(after > 0 ? [zerosOf(after)] : [])], d);
  }
  const along = shape.map((_, i) => (i === d ? -1 : 1));
  const index = arange(start, start + length * step, step).reshape(along).expand([...grad.shape] as number[]);
  return scatterAdd(zerosOf(shape[d]!), d, index, grad);
}

/**
 * Clamps a slice bound the way Python and PyTorch do (negative counts from the end). The comparisons go
 * through sizeLt, never `typeof v === 'number'`: with a symbolic size, `size + v` for v = -3 is a SymInt
 * that may still be negative (size 2), and a symbolic bound may itself be negative; each test is guarded.
 */
function clampBound(v: Size, size: Size): Size {
  if (!sizeLt(v, 0)) return sizeMin(v, size);
  const fromEnd = sizeAdd(size, v);
  return sizeLt(fromEnd, 0) ? 0 : fromEnd;
}

export const slice = defineOp({
  name: 'slice',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), opt('dim', 'int', 0), opt('start', 'int?', null), opt('end', 'int?', null), opt('step', 'int', 1)],
  meta: ([x, d, start, end, step]) => {
    if (x.ndim === 0) throw new IndexError('slice: cannot slice a 0-dim tensor', 'unsqueeze it first');
    const dim = normalizeDim(d as number, x.ndim, 'slice');
    if (typeof step !== 'number' || step < 1) throw new IndexError(`slice: step must be a positive integer, got ${String(step)}`);
    const size = x.shape[dim]!;
    const lo = clampBound(start ?? 0, size);
    const hi = clampBound(end ?? size, size);
    const len = sizeLt(hi, lo) ? 0 : sizeFloorDiv(sizeAdd(sizeSub(hi, lo), step - 1), step);
    const shape = [...x.shape];
    const strides = [...x.strides];
    shape[dim] = len;
    strides[dim] = sizeMul(x.strides[dim]!, step);
    return viewOf(x, shape, strides, sizeAdd(x.offset, sizeMul(lo, x.strides[dim]!)));
  },
  kernel: asView,
  derivative: ({ grad, args: [x, d, start, , step] }): InputGrads => {
    const dim = normalizeDim(d as number, x.ndim, 'slice');
    return [padAlong(x, grad, dim, clampBound(start ?? 0, x.shape[dim]!) as number, step as number)];
  },
});

export const narrow = defineOp({
  name: 'narrow',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int'), arg('start', 'int'), arg('length', 'int')],
  meta: ([x, d, start, length]) => {
    if (x.ndim === 0) throw new IndexError('narrow: cannot narrow a 0-dim tensor', 'unsqueeze it first');
    const dim = normalizeDim(d as number, x.ndim, 'narrow');
    const size = x.shape[dim]!;
    // sizeLt, not `start < 0`: a symbolic start may be negative too (wraps from the end, as in eager).
    const lo = sizeLt(start, 0) ? sizeAdd(size, start) : start;
    if (sizeLt(lo, 0) || sizeLt(length, 0) || sizeLt(size, sizeAdd(lo, length))) {
      throw new IndexError(`narrow: start=${String(start)}, length=${String(length)} is out of range for dim ${dim} of size ${String(size)}`);
    }
    const shape = [...x.shape];
    shape[dim] = length;
    return viewOf(x, shape, [...x.strides], sizeAdd(x.offset, sizeMul(lo, x.strides[dim]!)));
  },
  kernel: asView,
  derivative: ({ grad, args: [x, d, start] }): InputGrads => {
    const dim = normalizeDim(d as number, x.ndim, 'narrow');
    const size = x.shape[dim] as number;
    return [padAlong(x, grad, dim, (start as number) < 0 ? (start as number) + size : (start as number), 1)];
  },
});

export const select = defineOp({
  name: 'select',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int'), arg('index', 'int')],
  meta: ([x, d, index]) => {
    if (x.ndim === 0) throw new IndexError('select: cannot select from a 0-dim tensor');
    const dim = normalizeDim(d as number, x.ndim, 'select');
    const size = x.shape[dim]!;
    const i = sizeLt(index, 0) ? sizeAdd(size, index) : index;
    if (sizeLt(i, 0) || !sizeLt(i, size)) {
      throw new IndexError(`select: index ${String(index)} is out of range for dim ${dim} of size ${String(size)}`);
    }
    return viewOf(
      x,
      x.shape.filter((_, k) => k !== dim),
      x.strides.filter((_, k) => k !== dim),
      sizeAdd(x.offset, sizeMul(i, x.strides[dim]!)),
    );
  },
  kernel: asView,
  derivative: ({ grad, args: [x, d, index] }): InputGrads => {
    const dim = normalizeDim(d as number, x.ndim, 'select');
    const size = x.shape[dim] as number;
    return [padAlong(x, grad.unsqueeze(dim), dim, (index as number) < 0 ? (index as number) + size : (index as number), 1)];
  },
});
