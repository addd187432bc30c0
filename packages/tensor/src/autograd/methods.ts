// The autograd methods of Tensor, and `autograd.grad` / `autograd.backward` (torch.autograd's two entry points).
import { isFloating } from '../dtype.js';
import { AutogradError, KilnTypeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { runBackward } from './engine.js';
import type { BackwardOptions } from './engine.js';

function requiresGrad_(this: Tensor, requiresGrad = true): Tensor {
  if (typeof requiresGrad !== 'boolean') throw new KilnTypeError(`requiresGrad_: argument 'requiresGrad' must be a boolean, got ${typeof requiresGrad}`);
  if (this.gradFn !== null) {
    if (requiresGrad) return this;
    throw new AutogradError(
      `requiresGrad_: you can only change the requiresGrad flag of leaf tensors; this one was computed by ${this.gradFn.name}`,
      'use detach() to get a tensor with no history',
    );
  }
  if (requiresGrad && !isFloating(this.dtype)) {
    throw new AutogradError(`requiresGrad_: only tensors of floating point dtype can require gradients, got ${this.dtype}`, "convert it first: t.to('float32')");
  }
  this.leafRequiresGrad = requiresGrad;
  return this;
}

function backward(this: Tensor, gradient?: Tensor | null, options: BackwardOptions = {}): void {
  if (gradient !== undefined && gradient !== null && !(gradient instanceof Tensor)) {
    throw new KilnTypeError(`backward: argument 'gradient' must be a Tensor or null, got ${typeof gradient}`, 'options go second: t.backward(null, { retainGraph: true })');
  }
  runBackward([this], [gradient], options);
}

function detach(this: Tensor): Tensor {
  return new Tensor(this.storage, this.shape, this.strides, this.offset, this.dtype);
}

function retainGrad(this: Tensor): Tensor {
  if (this.gradFn === null) {
    if (!this.leafRequiresGrad) throw new AutogradError("retainGrad: can't retain the gradient of a tensor that does not require grad");
    return this; // leaves keep their gradient anyway
  }
  const retained = (this.gradFn.retained ??= new Map());
  retained.set(this.outputNr, this);
  this.retainsGrad = true;
  return this;
}

for (const [name, value] of Object.entries({ requiresGrad_, backward, detach, retainGrad })) {
  Object.defineProperty(Tensor.prototype, name, { value, writable: true, configurable: true });
}

export interface GradOptions extends BackwardOptions {
  /** The gradients of the outputs (needed for outputs with more than one element). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Give null for an input the outputs do not depend on, instead of raising (default false). */
  allowUnused?: boolean;
}

/** torch.autograd's entry points, for code that is not a method call. */
export const autograd = {
  /** The gradients of `outputs` with respect to `inputs`, leaving every `.grad` untouched. */
  grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], options: GradOptions = {}): (Tensor | null)[] {
    const outs = outputs instanceof Tensor ? [outputs] : outputs;
    const ins = inputs instanceof Tensor ? [inputs] : inputs;
    const grads = runBackward(outs, options.gradOutputs ?? [], options, ins);
    const unused = grads.findIndex((g) => g === null);
    if (unused >= 0 && !options.allowUnused) {
      throw new AutogradError(
        `grad: input ${unused} was not used to compute the outputs (or only through ops without gradient)`,
        'pass { allowUnused: true } to get null for it',
      );
    }
    return grads;
  },
  /** `tensors[i].backward(gradients[i])` for all of them in one pass. */
  backward(tensors: readonly Tensor[], gradients: readonly (Tensor | null)[] = [], options: BackwardOptions = {}): void {
    runBackward(tensors, gradients, options);
  },
};
