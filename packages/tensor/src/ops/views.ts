import { IndexError, ShapeError, ViewError, fmtShape } from '../errors.js';
import { copyToContiguous } from '../kernels/copy.js';
import type { Derivative, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { contiguousStrides, hasContiguousStrides, isStaticShape, normalizeDim, numelOf, sizeAdd, sizeEq, sizeFloorDiv, sizeLt, sizeMin, sizeMul, sizeSub } from '../size.js';
import { Tensor, contiguousStridesOf } from '../tensor.js';
import { arange, zeros } from './creation.js';
import { cat } from './join.js';
import { scatterAdd } from './scatter.js';

/** A view's gradient reshaped back to the input's shape (reshape, view, flatten, squeeze, unsqueeze). */
const reshapeBack: Derivative<readonly [Tensor, ...unknown[]]> = ({ grad, args: [x] }): InputGrads => [grad.reshape([...x.shape])];

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

/** A view's kernel: the same storage seen through the meta function's shape, strides and offset. */
const asView = ([x]: readonly [Tensor, ...unknown[]], out: MetaTensor): Tensor =>
  new Tensor(x.storage, out.shape as number[], out.strides as number[], out.offset as number, x.dtype);

const withShape = (c: Tensor, shape: number[]) => new Tensor(c.storage, shape, contiguousStridesOf(shape), 0, c.dtype);

const viewOf = (x: TensorMetaLike, shape: Size[], strides: Size[], offset: Size = x.offset): MetaTensor => ({
  shape,
  strides,
  offset,
  dtype: x.dtype,
  aliases: true,
});

/** Resolves one `-1` in a requested shape and checks the element count, naming the op and both shapes. */
function inferShape(op: string, x: TensorMetaLike, requested: readonly Size[]): Size[] {
  const numel = numelOf(x.shape);
  const unknown = requested.findIndex((s) => typeof s === 'number' && s === -1);
  if (requested.filter((s) => typeof s === 'number' && s === -1).length > 1) {
    throw new ShapeError(`${op}: only one dimension can be -1, got ${fmtShape(requested)}`);
  }
  const bad = requested.find((s) => typeof s === 'number' && s < -1);
  if (bad !== undefined) throw new ShapeError(`${op}: invalid size ${String(bad)} in ${fmtShape(requested)}`);
  const known = numelOf(requested.filter((_, i) => i !== unknown));
  const shape = [...requested];
  if (unknown >= 0) {
    if (sizeEq(known, 0)) throw new ShapeError(`${op}: cannot infer -1 in ${fmtShape(requested)} with 0 elements elsewhere`);
    shape[unknown] = sizeFloorDiv(numel, known);
  }
  if (!sizeEq(numelOf(shape), numel)) {
    throw new ShapeError(
      `${op}: shape ${fmtShape(requested)} is invalid for a tensor of shape ${fmtShape(x.shape)} (${String(numel)} elements)`,
    );
  }
  return shape;
}

/**
 * Strides that express `newShape` over the existing strides without a copy, or null when impossible
 * (PyTorch's rule: each group of new dims must map onto a run of old dims that is itself contiguous).
 */
export function viewStrides(oldShape: readonly number[], oldStrides: readonly number[], newShape: readonly number[]): number[] | null {
  const numel = oldShape.reduce((a, b) => a * b, 1);
  if (numel === 0 || oldShape.length === 0) return contiguousStrides(newShape) as number[];
  const newStrides = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? newStrides : null;
}

function reshapeMeta(op: 'reshape' | 'view', x: TensorMetaLike, requested: readonly Size[]): MetaTensor {
  const shape = inferShape(op, x, requested);
  if (isStaticShape(shape) && isStaticShape(x.shape) && isStaticShape(x.strides)) {
    const strides = viewStrides(x.shape, x.strides, shape);
    if (strides) return viewOf(x, shape, strides);
    if (op === 'view') {
      throw new ViewError(
        `view: shape ${fmtShape(requested)} cannot be expressed as a view of a tensor with shape ${fmtShape(x.shape)} and strides ${fmtShape(x.strides)}`,
        'call .reshape() (copies when needed) or .contiguous() first',
      );
    }
    return { shape, dtype: x.dtype };
  }
  // Symbolic sizes: a contiguous input always reshapes to a view (eager returns one, sharing the storage);
  // otherwise whether eager copies depends on sizes the trace does not fix, so the result is described as
  // a contiguous copy, which has the right values either way.
  // (Strides that are not the real ones must never be given: a returned view is rebuilt from them.)
  if (hasContiguousStrides(x.shape, x.strides)) return viewOf(x, shape, contiguousStrides(shape));
  return { shape, dtype: x.dtype };
}


export const reshape = defineOp({
  name: 'reshape',
  category: 'view',
  method: true,
  positional: [arg('self', 'Tensor'), arg('shape', 'ints')],
  meta: ([x, shape]) => reshapeMeta('reshape', x, shape),
  kernel: ([x], out: MetaTensor): Tensor =>
    out.strides ? asView([x], out) : withShape(copyToContiguous(x), out.shape as number[]),
  derivative: reshapeBack,
});

export const view = defineOp({
  name: 'view',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('shape', 'ints')],
  meta: ([x, shape]) => reshapeMeta('view', x, shape),
  kernel: asView,
  derivative: reshapeBack,
});

export const permute = defineOp({
  name: 'permute',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('dims', 'ints')],
  meta: ([x, dims]) => {
    const order = dims.map((d) => normalizeDim(d as number, x.ndim, 'permute', 'dims'));
    if (order.length !== x.ndim || new Set(order).size !== x.ndim) {
      throw new ShapeError(`permute: dims ${fmtShape(dims)} must be a permutation of 0..${x.ndim - 1} for shape ${fmtShape(x.shape)}`);
    }
    return viewOf(x, order.map((d) => x.shape[d]!), order.map((d) => x.strides[d]!));
  },
  kernel: asView,
  derivative: ({ grad, args: [, dims] }): InputGrads => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[normalizeDim(d as number, dims.length, 'permute')] = i));
    return [grad.permute(inverse)];
  },
});

export const transpose = defineOp({
  name: 'transpose',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('dim0', 'int'), arg('dim1', 'int')],
  meta: ([x, d0, d1]) => {
    const a = normalizeDim(d0 as number, x.ndim, 'transpose', 'dim0');
    const b = normalizeDim(d1 as number, x.ndim, 'transpose', 'dim1');
    if (x.ndim === 0) return viewOf(x, [], []); // dims 0 and -1 both name the 0-dim tensor itself
    const shape = [...x.shape];
    const strides = [...x.strides];
    [shape[a], shape[b]] = [shape[b]!, shape[a]!];
    [strides[a], strides[b]] = [strides[b]!, strides[a]!];
    return viewOf(x, shape, strides);
  },
  kernel: asView,
  derivative: ({ grad, args: [, d0, d1] }): InputGrads => [grad.transpose(d0, d1)],
});

export const expand = defineOp({
  name: 'expand',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('size', 'ints')],
  meta: ([x, size]) => {
    if (size.length < x.ndim) {
      throw new ShapeError(`expand: the target ${fmtShape(size)} has fewer dims than the tensor's shape ${fmtShape(x.shape)}`);
    }
    const lead = size.length - x.ndim;
    const shape: Size[] = [];
    const strides: Size[] = [];
    size.forEach((s, i) => {
      const own = i >= lead ? x.shape[i - lead]! : 1;
      const target = typeof s === 'number' && s === -1 ? own : s;
      if (i < lead && typeof s === 'number' && s === -1) throw new ShapeError(`expand: -1 is not allowed in a new leading dim (${fmtShape(size)})`);
      if (typeof s === 'number' && s < -1) throw new ShapeError(`expand: invalid size ${s} in ${fmtShape(size)}`, 'sizes are non-negative, or -1 to keep a dim');
      if (sizeEq(own, target)) {
        shape.push(own);
        strides.push(i >= lead ? x.strides[i - lead]! : 0);
      } else if (sizeEq(own, 1)) {
        shape.push(target);
        strides.push(0);
      } else {
        throw new ShapeError(
          `expand: cannot expand shape ${fmtShape(x.shape)} to ${fmtShape(size)} (dim ${i}: ${String(own)} vs ${String(target)})`,
          'only dims of size 1 can be expanded',
        );
      }
    });
    return viewOf(x, shape, strides);
  },
  kernel: asView,
  derivative: ({ grad }): InputGrads => [grad], // summed back to the input's shape by autograd
});

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

export const squeeze = defineOp({
  name: 'squeeze',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), opt('dim', 'dims?', null)],
  meta: ([x, dim]) => {
    const dims = dim === null ? null : new Set((typeof dim === 'number' ? [dim] : dim).map((d) => normalizeDim(d, x.ndim, 'squeeze')));
    const keep = x.shape.map((s, i) => !(sizeEq(s, 1) && (dims === null || dims.has(i))));
    return viewOf(x, x.shape.filter((_, i) => keep[i]), x.strides.filter((_, i) => keep[i]));
  },
  kernel: asView,
  derivative: reshapeBack,
});

export const unsqueeze = defineOp({
  name: 'unsqueeze',
  category: 'view',
  method: true,
  view: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int')],
  meta: ([x, d]) => {
    const dim = normalizeDim(d as number, x.ndim + 1, 'unsqueeze');
    const shape = [...x.shape];
    const strides = [...x.strides];
    const stride = dim < x.ndim ? sizeMul(x.shape[dim]!, x.strides[dim]!) : 1;
    shape.splice(dim, 0, 1);
    strides.splice(dim, 0, stride);
    return viewOf(x, shape, strides);
  },
  kernel: asView,
  derivative: reshapeBack,
});

export const flatten = defineOp({
  name: 'flatten',
  category: 'view',
  method: true,
  positional: [arg('self', 'Tensor'), opt('startDim', 'int', 0), opt('endDim', 'int', -1)],
  meta: ([x, s, e]) => {
    if (x.ndim === 0) return reshapeMeta('reshape', x, [1]);
    const start = normalizeDim(s as number, x.ndim, 'flatten', 'startDim');
    const end = normalizeDim(e as number, x.ndim, 'flatten', 'endDim');
    if (start > end) throw new IndexError(`flatten: startDim ${start} must not come after endDim ${end}`);
    const shape = [...x.shape.slice(0, start), numelOf(x.shape.slice(start, end + 1)), ...x.shape.slice(end + 1)];
    return reshapeMeta('reshape', x, shape);
  },
  kernel: ([x], out: MetaTensor): Tensor =>
    out.strides ? asView([x], out) : withShape(copyToContiguous(x), out.shape as number[]),
  derivative: reshapeBack,
});

export const contiguous = defineOp({
  name: 'contiguous',
  category: 'view',
  method: true,
  positional: [arg('self', 'Tensor')],
  // Contiguous data is returned as itself, as the kernel does (decided by printed form: no guard).
  meta: ([x]) => ({ shape: [...x.shape], dtype: x.dtype, strides: contiguousStrides(x.shape), offset: 0, ...(hasContiguousStrides(x.shape, x.strides) ? { same: true } : {}) }),
  kernel: ([x]) => (x.isContiguous() ? x : copyToContiguous(x)),
  derivative: ({ grad }): InputGrads => [grad],
});

export const clone = defineOp({
  name: 'clone',
  category: 'view',
  method: true,
  positional: [arg('self', 'Tensor')],
  meta: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
  // Copy-on-write: a contiguous clone shares the buffer until either side is written.
  kernel: ([x]) =>
    x.isContiguous() ? new Tensor(x.storage.cowClone(), x.shape, x.strides, x.offset, x.dtype) : copyToContiguous(x),
  derivative: ({ grad }): InputGrads => [grad],
});
