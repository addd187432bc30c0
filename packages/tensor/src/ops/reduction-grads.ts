// Derivatives of the reductions (reductions.ts is long enough without them). Each spreads the output's
// gradient back over the reduced dims.
import type { GradContext, InputGrads } from '../registry/derivative.js';
import type { TensorMetaLike } from '../registry/registry.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { where } from './pointwise.js';
import { reductionDims } from './reduction-dims.js';
import { scatterAdd } from './scatter.js';

type DimArg = number | readonly number[] | null;
type ReductionContext = GradContext<readonly [Tensor, DimArg, boolean, ...unknown[]]>;

/** `g` (the gradient of a reduction of `x`) broadcast back over the reduced dims, to `x`'s shape. */
function spread(op: string, g: Tensor, x: TensorMetaLike, dim: DimArg): Tensor {
  const dims = reductionDims(op, x, dim);
  const kept = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  return g.reshape(kept).expand([...x.shape]);
}

export const sumDerivative = ({ grad, args: [x, dim] }: ReductionContext): InputGrads => [spread('sum', grad, x, dim)];

/** d prod / d x_i is the product of the others: prod / x_i without zeros; with one zero only it gets one. */
export function prodDerivative({ grad, input, args: [, dim] }: ReductionContext): InputGrads {
  const x = input(0);
  const dims = reductionDims('prod', x, dim);
  const isZero = x.eq(0);
  const nonZeroProduct = where(isZero, 1, x).prod(dims, true);
  const zeroCount = isZero.sum(dims, true);
  const others = where(zeroCount.eq(0), nonZeroProduct.div(where(isZero, 1, x)), where(isZero.logicalAnd(zeroCount.eq(1)), nonZeroProduct, 0));
  return [spread('prod', grad, x, dim).mul(others)];
}

/** amax/amin (and max/min without a dim): the gradient is split evenly among the elements equal to the result. */
export function extremumDerivative(op: string) {
  return ({ grad, input, output, args: [, dim] }: ReductionContext): InputGrads => {
    const x = input(0);
    // The mask as floats: a float count lowers into the same fused kernels (a bool sum would be an int32 one).
    const chosen = x.eq(spread(op, output(), x, dim)).to(grad.dtype);
    const count = chosen.sum(reductionDims(op, x, dim), true);
    return [spread(op, grad, x, dim).mul(chosen).div(count)];
  };
}

/** max/min with a dim: the gradient goes to the element the indices output picked. */
export function indexedExtremumDerivative(op: string) {
  const noDim = extremumDerivative(op);
  return (ctx: GradContext<readonly [Tensor, number | null, boolean]>): InputGrads => {
    const { grad, args: [x, dim, keepdim] } = ctx;
    if (dim === null) return noDim(ctx);
    if (x.ndim === 0) return [grad];
    const indices = ctx.output(1);
    const g = keepdim ? grad : grad.unsqueeze(dim);
    const at = keepdim ? indices : indices.unsqueeze(dim);
    return [scatterAdd(zeros([...x.shape], { dtype: grad.dtype }), dim, at, g)];
  };
}

/** The gradient of a running sum is the running sum from the other end: total - cumsum + g. */
export function cumsumDerivative({ grad, args: [x, dim] }: GradContext<readonly [Tensor, number, ...unknown[]]>): InputGrads {
  if (x.ndim === 0) return [grad];
  return [grad.sum(dim, true).sub(grad.cumsum(dim)).add(grad)];
}
