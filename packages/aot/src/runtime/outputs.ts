// The call's result in the structure the exported function returned: each tensor output as a plain
// `{ data, shape, dtype }` (or a Kiln tensor when the call was given Kiln tensors), sizes as numbers.
import type { LoopDType } from '@kiln/lower';
import type { TensorClassLike } from './inputs.js';
import type { AotOutputTemplate } from './plan.js';

/** A tensor result of an AOT module: contiguous row-major data in a fresh typed array. */
export interface AotTensor {
  readonly data: Float32Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
  readonly dtype: LoopDType;
}

export type OutputLeaf = { readonly tensor: AotTensor } | { readonly value: unknown };

/** `args`: the tensor arguments as passed (an `{ arg: i }` leaf returns one as itself). */
export function assembleOutputs(template: AotOutputTemplate, leaves: readonly OutputLeaf[], args: readonly unknown[], tensorClass: TensorClassLike | undefined): unknown {
  const build = (t: AotOutputTemplate): unknown => {
    if (Array.isArray(t)) return t.map(build);
    const node = t as Exclude<AotOutputTemplate, readonly AotOutputTemplate[]>;
    if ('value' in node) return node.value;
    if ('arg' in node) return args[node.arg];
    if ('object' in node) return Object.fromEntries(node.object.map(([key, value]) => [key, build(value)]));
    const leaf = leaves[node.leaf]!;
    if ('value' in leaf) return leaf.value;
    return tensorClass ? tensorClass.fromData(leaf.tensor.data, leaf.tensor.shape, leaf.tensor.dtype) : leaf.tensor;
  };
  return build(template);
}
