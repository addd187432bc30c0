// Gradients come out of formulas in the shape of the op's (broadcast) output; these bring them back to the
// input's shape and dtype, once, for every op.
import { ShapeError, fmtShape } from '../errors.js';
import { to } from '../ops/conversion.js';
import { sum } from '../ops/reductions.js';
import { reshape } from '../ops/views.js';
import type { TensorMetaLike } from '../registry/registry.js';
import type { Shape } from '../size.js';
import { sizeEq } from '../size.js';
import type { Tensor } from '../tensor.js';

/** Sums `grad` over the dims that broadcasting added or expanded, giving `shape` (the reverse of broadcasting). */
export function sumToShape(grad: Tensor, shape: Shape): Tensor {
  if (grad.ndim === shape.length && grad.shape.every((s, i) => sizeEq(s, shape[i]!))) return grad;
  const lead = grad.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`autograd: a gradient of shape ${fmtShape(grad.shape)} cannot be summed to shape ${fmtShape(shape)}`);
  const dims: number[] = [];
  for (let d = 0; d < grad.ndim; d++) {
    if (d < lead || (sizeEq(shape[d - lead]!, 1) && !sizeEq(grad.shape[d]!, 1))) dims.push(d);
  }
  const summed = dims.length > 0 ? sum(grad, dims, true) : grad;
  return reshape(summed, [...shape]);
}

/** `grad` in the shape and dtype of the input it belongs to. */
export function matchInput(grad: Tensor, input: TensorMetaLike): Tensor {
  const shaped = sumToShape(grad, input.shape);
  return shaped.dtype === input.dtype ? shaped : to(shaped, input.dtype);
}
