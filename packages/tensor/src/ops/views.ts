// The views that reshape, reorder or broadcast dims (reshape, view, permute, transpose, expand, squeeze,
// unsqueeze, flatten) and the copies beside them (contiguous, clone). Views that keep part of a dim are in
// slicing.ts; how a view's layout is computed is in view-layout.ts.
import { IndexError, ShapeError, fmtShape } from '../errors.js';
import { copyToContiguous } from '../kernels/copy.js';
import type { Derivative, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { contiguousStrides, hasContiguousStrides, normalizeDim, numelOf, sizeEq, sizeMul } from '../size.js';
import { Tensor } from '../tensor.js';
import { asView, reshapeMeta, viewOf, withShape } from './view-layout.js';

/** A view's gradient reshaped back to the input's shape (reshape, view, flatten, squeeze, unsqueeze). */
const reshapeBack: Derivative<readonly [Tensor, ...unknown[]]> = ({ grad, args: [x] }): InputGrads => [grad.reshape([...x.shape])];

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
