import type { Tensor } from '../tensor.js';

/**
 * What an op's derivative receives when the backward pass reaches it (the op's inputs as it saw them, and
 * the gradients of its outputs). Formulas are written with ops, so they are differentiable themselves and a
 * tracer records them like any other code.
 */
export interface GradContext<A extends readonly unknown[] = readonly unknown[]> {
  /** The gradient of the first output (zeros when only another output received one). */
  readonly grad: Tensor;
  /** The gradients of every tensor output, in output order; null where none arrived. */
  readonly grads: readonly (Tensor | null)[];
  /**
   * The normalized arguments. Tensors here may be read for their metadata (shape, dtype); read their values
   * through `input(i)`, which checks that no in-place op overwrote them since the op ran.
   */
  readonly args: A;
  input(index: number): Tensor;
  /** The op's output `index` (default 0), checked like `input`. */
  output(index?: number): Tensor;
  /** Whether argument `index` needs a gradient (lets a formula skip a costly term). */
  needsGrad(index: number): boolean;
}

/**
 * One gradient per positional argument, in schema order (a list for a `Tensor[]` argument); null or missing
 * for arguments that are not tensors or get none. A gradient may have a broadcast shape or another float
 * dtype: autograd sums it back to the argument's shape and casts it to the argument's dtype.
 */
export type InputGrads = readonly (Tensor | readonly (Tensor | null)[] | null | undefined)[];

export type Derivative<A extends readonly unknown[] = readonly unknown[]> = (ctx: GradContext<A>) => InputGrads;

export type DerivativeRule<A extends readonly unknown[] = readonly unknown[]> = Derivative<A> | 'nonDifferentiable';
