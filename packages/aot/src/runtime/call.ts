// The part of a call every backend shares: the arguments walked along the exported structure, read and
// checked against their specs, and the program's size parameters bound from their shapes.
import { paramValue } from '@kiln/lower';
import type { AotPlanCommon } from './plan.js';
import { bindSymbols, flattenArguments, readArgument, type AotArgument } from './inputs.js';
import { AotInputError, AotLoadError } from './errors.js';
import { checkWrittenAlone } from './mutations.js';
import type { BlobTensor } from './weights.js';

export interface PreparedCall {
  /** The tensor arguments as passed (for outputs that return one as itself). */
  readonly leaves: readonly unknown[];
  readonly read: readonly AotArgument[];
  /** Per program input: the argument, or a weight's shape. */
  readonly inputs: readonly (AotArgument | { readonly shape: readonly number[] })[];
  readonly params: Record<string, number>;
}

export function prepareCall(plan: AotPlanCommon, args: readonly unknown[]): PreparedCall {
  const leaves = flattenArguments(plan.argsTree, args, plan.name);
  if (plan.mutations.length > 0) checkWrittenAlone(plan, leaves, (message) => { throw new AotInputError(message, 'pass separate arrays or tensors (a copy)'); });
  const read = plan.inputs.map((spec, i) => readArgument(leaves[i], spec, plan.symbols, plan.name));
  bindSymbols(read, plan.inputs, plan.symbols, plan.preconditions, plan.name);
  const inputs = plan.programInputs.map((p) => ('user' in p ? read[p.user]! : { shape: p.shape }));
  const params: Record<string, number> = {};
  for (const p of plan.params) params[p.param] = paramValue(p, inputs);
  return { leaves, read, inputs, params };
}

/** The weights blob's tensor of each buffer that holds a weight (a lifted input or a captured constant), checked. */
export function bufferWeights(plan: AotPlanCommon, weights: ReadonlyMap<string, BlobTensor>): Map<string, BlobTensor> {
  const found = new Map<string, BlobTensor>();
  for (const b of plan.buffers) {
    const input = b.input === undefined ? undefined : plan.programInputs[b.input];
    const source = b.weight ?? (input && 'weight' in input ? input.weight : undefined);
    if (source === undefined) continue;
    const t = weights.get(source);
    const want = input && 'weight' in input ? input.shape : undefined;
    if (!t || t.dtype !== b.dtype || (want && t.shape.join() !== want.join())) {
      throw new AotLoadError(`${plan.name}: the weights blob has no ${b.dtype} tensor ${JSON.stringify(source)}${want ? ` of shape [${want.join(', ')}]` : ''}`, 'load the weights file written together with this module');
    }
    found.set(b.name, t);
  }
  return found;
}
