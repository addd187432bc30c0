// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum (torch.optim.SGD).
import type { Tensor } from '@kiln/tensor';
import { ValueError } from '@kiln/tensor';
import { Optimizer, checkRange } from './optimizer.js';
import type { Params } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected validate(g: SGDOptions): void {
    checkRange('SGD', 'learning rate', g.lr, (v) => v >= 0, '>= 0');
    checkRange('SGD', 'momentum value', g.momentum, (v) => v >= 0, '>= 0');
    checkRange('SGD', 'weightDecay value', g.weightDecay, (v) => v >= 0, '>= 0');
    checkRange('SGD', 'dampening value', g.dampening, Number.isFinite, 'a number');
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new ValueError('SGD: Nesterov momentum requires a momentum and zero dampening', 'pass { momentum: 0.9, nesterov: true }');
    }
  }

  protected update(p: Tensor, grad: Tensor, g: SGDOptions, state: Record<string, Tensor | number>): void {
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p, { alpha: g.weightDecay });
    if (g.momentum !== 0) {
      let buf = state.momentumBuffer as Tensor | undefined;
      if (buf === undefined) state.momentumBuffer = buf = d.contiguous().clone();
      else buf.mul_(g.momentum).add_(d, { alpha: 1 - g.dampening });
      d = g.nesterov ? d.add(buf, { alpha: g.momentum }) : buf;
    }
    p.add_(d, { alpha: -g.lr });
  }
}
