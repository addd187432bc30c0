// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov momentum (torch.optim.SGD).
import type { Tensor } from '@kiln/tensor';
import { ValueError } from '@kiln/tensor';
import { Optimizer, checkRange, setTracedForm } from './optimizer.js';
import type { ParamState, Params } from './optimizer.js';

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

  /** Compiled code traces `tracedSgdStep` instead (the update becomes part of the compiled program). */
  override step(): void {
    this.eagerStep();
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

  protected update(p: Tensor, grad: Tensor, g: SGDOptions, state: ParamState): void {
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

/**
 * SGD's step as compile() traces it: `update()`'s ops on every parameter, in place on the parameter and its
 * momentum buffer (written back by the compiled program). The first step creates the momentum buffers from
 * the gradients (a copy, as eager code makes); subclasses with their own update run eagerly.
 */
function tracedSgdStep(this: SGD): void {
  const kind: Function = this.constructor;
  if (kind !== SGD) return this.eagerStep();
  const groups = this.paramGroups;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    for (let i = 0; i < group.params.length; i++) {
      const p = group.params[i]!;
      const grad = p.grad;
      if (grad === null) continue;
      let d = group.maximize ? grad.neg() : grad;
      if (group.weightDecay !== 0) d = d.add(p, { alpha: group.weightDecay });
      let state = this.stateSlots[g]![i];
      if (state === undefined) this.stateSlots[g]![i] = state = {};
      if (group.momentum !== 0) {
        let buf = state.momentumBuffer as Tensor | undefined;
        if (buf === undefined) state.momentumBuffer = buf = d.contiguous().clone();
        else buf.mul_(group.momentum).add_(d, { alpha: 1 - group.dampening });
        d = group.nesterov ? d.add(buf, { alpha: group.momentum }) : buf;
      }
      p.add_(d, { alpha: -group.lr });
    }
  }
}

setTracedForm(SGD.prototype.step, tracedSgdStep);
setTracedForm(tracedSgdStep);
