// Adam and AdamW (torch.optim.Adam / AdamW): bias-corrected first and second moment estimates; AdamW
// decays the weights directly instead of adding the decay to the gradient.
import type { Tensor } from '@kiln/tensor';
import { zerosLike } from '@kiln/tensor';
import { canFuse, fusedAdam } from './fused.js';
import { Optimizer, checkRange } from './optimizer.js';
import type { Params } from './optimizer.js';

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
  constructor(name: string, params: Params<AdamOptions>, defaults: AdamOptions, private readonly decoupled: boolean) {
    super(name, params, defaults);
  }

  protected validate(g: AdamOptions): void {
    checkRange(this.name, 'learning rate', g.lr, (v) => v >= 0, '>= 0');
    checkRange(this.name, 'epsilon value', g.eps, (v) => v >= 0, '>= 0');
    checkRange(this.name, 'beta parameter at index 0', g.betas?.[0], (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkRange(this.name, 'beta parameter at index 1', g.betas?.[1], (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkRange(this.name, 'weightDecay value', g.weightDecay, (v) => v >= 0, '>= 0');
  }

  protected update(p: Tensor, grad: Tensor, g: AdamOptions, state: Record<string, Tensor | number>): void {
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
