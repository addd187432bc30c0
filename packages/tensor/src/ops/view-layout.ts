// A view's layout: the shape, strides and offset a view op's meta function gives (with the -1 and element
// count checks of reshape), and the kernels that turn that layout back into a Tensor on the input's storage.
import { ShapeError, ViewError, fmtShape } from '../errors.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import type { Size } from '../size.js';
import { contiguousStrides, hasContiguousStrides, isStaticShape, numelOf, sizeEq, sizeFloorDiv } from '../size.js';
import { Tensor, contiguousStridesOf } from '../tensor.js';

/** A view's kernel: the same storage seen through the meta function's shape, strides and offset. */
export const asView = ([x]: readonly [Tensor, ...unknown[]], out: MetaTensor): Tensor =>
  new Tensor(x.storage, out.shape as number[], out.strides as number[], out.offset as number, x.dtype);

export const withShape = (c: Tensor, shape: number[]) => new Tensor(c.storage, shape, contiguousStridesOf(shape), 0, c.dtype);

export const viewOf = (x: TensorMetaLike, shape: Size[], strides: Size[], offset: Size = x.offset): MetaTensor => ({
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

export function reshapeMeta(op: 'reshape' | 'view', x: TensorMetaLike, requested: readonly Size[]): MetaTensor {
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
