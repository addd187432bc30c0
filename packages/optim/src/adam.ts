// Adam and AdamW (torch.optim.Adam / AdamW): bias-corrected first and second moment estimates; AdamW
// decays the weights directly instead of adding the decay to the gradient.
import type { Tensor } from '@kiln/tensor';
import { zerosLike } from '@kiln/tensor';
import { canFuse, fusedAdam } from './fused.js';
import { Optimizer, checkRange, setTracedForm } from './optimizer.js';
import type { ParamState, Params } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  maximize: boolean;
  /** One loop over the elements per parameter instead of a dozen ops (dense float tensors; default true). */
  fused: boolean;
}

class AdamBase extends Optimizer<AdamOptions> {
  constructor(name: string, params: Params<AdamOptions>, defaults: AdamOptions, readonly decoupled: boolean) {
    super(name, params, defaults);
  }

  /** Compiled code traces `tracedAdamStep` instead (the update becomes part of the compiled program). */
  override step(): void {
    this.eagerStep();
  }

  protected validate(g: AdamOptions): void {
    checkRange(this.name, 'learning rate', g.lr, (v) => v >= 0, '>= 0');
    checkRange(this.name, 'epsilon value', g.eps, (v) => v >= 0, '>= 0');
    checkRange(this.name, 'beta parameter at index 0', g.betas?.[0], (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkRange(this.name, 'beta parameter at index 1', g.betas?.[1], (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkRange(this.name, 'weightDecay value', g.weightDecay, (v) => v >= 0, '>= 0');
  }

  protected update(p: Tensor, grad: Tensor, g: AdamOptions, state: ParamState): void {
    let d = g.maximize ? grad.neg() : grad;
    if (state.step === undefined) {
      state.step = 0;
      state.expAvg = zerosLike(p);
      state.expAvgSq = zerosLike(p);
      if (g.amsgrad) state.maxExpAvgSq = zerosLike(p);
    }
    const step = (state.step as number) + 1;
    state.step = step;
    const [expAvg0, expAvgSq0, max0] = [state.expAvg as Tensor, state.expAvgSq as Tensor, (state.maxExpAvgSq as Tensor | undefined) ?? null];
    if (g.fused && canFuse(p, grad, expAvg0, expAvgSq0, ...(max0 ? [max0] : []))) {
      fusedAdam(p, grad, expAvg0, expAvgSq0, max0, {
        lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, decoupled: this.decoupled,
        maximize: g.maximize, biasCorrection1: 1 - g.betas[0] ** step, biasCorrection2Sqrt: Math.sqrt(1 - g.betas[1] ** step),
      });
      return;
    }
    if (g.weightDecay !== 0) {
      if (this.decoupled) p.mul_(1 - g.lr * g.weightDecay);
      else d = d.add(p, { alpha: g.weightDecay });
    }
    const [beta1, beta2] = g.betas;
    const expAvg = (state.expAvg as Tensor).mul_(beta1).add_(d, { alpha: 1 - beta1 });
    let expAvgSq = (state.expAvgSq as Tensor).mul_(beta2).add_(d.mul(d), { alpha: 1 - beta2 });
    if (g.amsgrad) expAvgSq = (state.maxExpAvgSq as Tensor).copy_((state.maxExpAvgSq as Tensor).maximum(expAvgSq));
    const stepSize = g.lr / (1 - beta1 ** step);
    const denom = expAvgSq.sqrt().div(Math.sqrt(1 - beta2 ** step)).add(g.eps);
    p.sub_(expAvg.div(denom), { alpha: stepSize });
  }
}

/** Adam: L2 weight decay is added to the gradient. */
export class Adam extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, fused: true, ...options }, false);
  }
}

/** AdamW: decoupled weight decay (p ← p·(1 − lr·weightDecay) before the Adam step), default 0.01. */
export class AdamW extends AdamBase {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, fused: true, ...options }, true);
  }
}

/**
 * Adam's step as compile() traces it: the op-by-op update of `update()` on every parameter, in place on the
 * parameter and its moment estimates (the compiled program writes them back, like any in-place op on an
 * input), and the step counter stored back to the state. The counter is read as a number: after it has
 * changed once it becomes a runtime number, so the bias corrections are scalar inputs of one compiled step
 * that serves every later step. Subclasses with their own update, whose arithmetic this function does not
 * know, run eagerly.
 */
function tracedAdamStep(this: AdamBase): void {
  const kind: Function = this.constructor;
  if (kind !== Adam && kind !== AdamW) return this.eagerStep();
  const groups = this.paramGroups;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const [beta1, beta2] = group.betas;
    for (let i = 0; i < group.params.length; i++) {
      const p = group.params[i]!;
      const grad = p.grad;
      if (grad === null) continue;
      let state = this.stateSlots[g]![i];
      if (state === undefined) {
        state = { step: 0, expAvg: zerosLike(p), expAvgSq: zerosLike(p) };
        if (group.amsgrad) state.maxExpAvgSq = zerosLike(p);
        this.stateSlots[g]![i] = state;
      }
      const step = (state.step as number) + 1;
      state.step = step;
      let d = group.maximize ? grad.neg() : grad;
      if (group.weightDecay !== 0) {
        if (this.decoupled) p.mul_(1 - group.lr * group.weightDecay);
        else d = d.add(p, { alpha: group.weightDecay });
      }
      const expAvg = (state.expAvg as Tensor).mul_(beta1).add_(d, { alpha: 1 - beta1 });
      let second = (state.expAvgSq as Tensor).mul_(beta2).add_(d.mul(d), { alpha: 1 - beta2 });
      if (group.amsgrad) second = (state.maxExpAvgSq as Tensor).copy_((state.maxExpAvgSq as Tensor).maximum(second));
      const stepSize = group.lr / (1 - beta1 ** step);
      // x ** 0.5 rather than Math.sqrt: a runtime number supports arithmetic operators only.
      const denom = second.sqrt().div((1 - beta2 ** step) ** 0.5).add(group.eps);
      p.sub_(expAvg.div(denom), { alpha: stepSize });
    }
  }
}

setTracedForm(AdamBase.prototype.step, tracedAdamStep);
setTracedForm(tracedAdamStep);
