// What the training tests share: the worst relative difference of two tensors (the tolerance measure for
// compiled vs eager gradients) and a model's parameters.
import * as k from 'kiln';
import type { Tensor } from 'kiln';

/** max |a - b| / (1e-3 + |b|) over the elements: b is the reference (eager). */
export const maxRelDiff = (a: Tensor, b: Tensor): number => {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1e-3 + Math.abs(y[i]!)));
  return worst;
};

/** Every tensor reachable from a model's fields, as the parameters to train. */
export function parametersOf(model: object): Tensor[] {
  const out: Tensor[] = [];
  const walk = (v: unknown) => {
    if (v instanceof k.Tensor) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(model);
  return out;
}
