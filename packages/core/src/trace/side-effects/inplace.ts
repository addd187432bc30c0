// In-place tensor ops (`x.add_(1)`, `this.w.mul_(0.9)`), functionalized: the tracer records the op's
// out-of-place form, and from then on the mutated tensor stands for the result. When the tensor is a graph
// input (an argument, a captured tensor, a model field), the write is a side effect replayed after the graph
// runs (`input.copy_(result)`). Views and aliased inputs, which would have to see the write, are breaks.
import { getOp, withDispatchMode } from '@kiln/tensor';
import type { OpDef, Tensor } from '@kiln/tensor';
import type { Ctx } from '../context.js';
import { ExternalRef, isTensorValue } from '../values.js';
import type { Value } from '../values.js';
import type { FakeTensor } from '@kiln/tensor';

/** The out-of-place op an in-place op is functionalized to (`add_` → `add`), if there is one. */
export function outOfPlace(op: OpDef): OpDef | undefined {
  if (!op.mutatesSelf || !op.name.endsWith('_')) return undefined;
  const base = getOp(op.name.slice(0, -1));
  return base && !base.mutatesSelf ? base : undefined;
}

const sameSizes = (a: readonly unknown[], b: readonly unknown[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs `self.<op>_(...)` as `<op>(self, ...)` and rebinds `self` to the result. */
export function functionalize(ctx: Ctx, op: OpDef, base: OpDef, realArgs: unknown[]): Value {
  const t = ctx.tracer;
  const self = realArgs[0];
  if (!isTensorValue(self)) throw t.break(`'${op.name}' on a value that is not a traced tensor`);
  if (t.recorder.hasAliases(self)) throw t.break(`'${op.name}' on a tensor that shares its storage with a view`, 'clone() before the in-place op, or use the out-of-place op');
  const input = t.inputFakes.get(self);
  if (input) {
    const aliased = [...t.inputFakes.values()].find((o) => o !== input && o.real.storage === input.real.storage);
    if (aliased) throw t.break(`'${op.name}' on ${input.source}, which shares its storage with ${aliased.source}`);
  }
  const result = withDispatchMode(t.recorder, () => base.fn(...realArgs)) as FakeTensor;
  if (!isTensorValue(result) || result.dtype !== self.dtype || !sameSizes(result.shape, self.shape)) {
    throw t.break(`'${op.name}' changes the dtype or shape of its result (${result.dtype} vs ${self.dtype})`, 'use the out-of-place op');
  }
  t.recorder.rebind(self, result);
  if (input && !t.effects.copiedSource(self)) {
    t.effects.write({ kind: 'copy', target: new ExternalRef(input.real, input.source, 'identity'), value: self, location: t.location, noGrad: t.noGradDepth > 0 });
  }
  return self;
}

export type InputFake = { readonly source: string; readonly real: Tensor };
