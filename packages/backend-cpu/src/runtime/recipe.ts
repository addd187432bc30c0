// How a recyclable output is computed again after its block was evicted (ResidentPool.makeRoom): the
// program's runner and the call's inputs. Until the eviction they are the caller's own tensors, checked
// against the versions they had at the call; at the eviction they become copy-on-write snapshots
// (`Storage.cowClone`), so a later write to an input copies the input for the writer and the snapshot keeps
// the bytes the output was computed from. Nothing is copied unless someone writes.
import { Tensor, type Storage, type TypedArray } from '@kiln/tensor';

/** Evictions and recomputations of one runner's outputs (it stops recycling when re-reads are common). */
export interface RecycleCounts {
  evicted: number;
  recomputed: number;
}

export interface Recipe {
  /** The call's inputs (tensors and scalars, in graph order): the caller's until evicted, then snapshots. */
  inputs: readonly unknown[];
  /** Each tensor input's storage version at the call (an input written since is not what the output read). */
  readonly versions: readonly number[];
  /** The output's own storage and its version when handed out (a write to it must not be undone). */
  output?: Storage;
  outputVersion?: number;
  /** Runs the program on `inputs` again and returns the output's elements in a new JS array. */
  readonly run: (inputs: readonly unknown[]) => TypedArray;
  readonly counts: RecycleCounts;
}

/** The recipe of a call's output, or undefined when an input is not a tensor or a number. */
export function recipeFor(inputs: readonly unknown[], run: Recipe['run'], counts: RecycleCounts): Recipe | undefined {
  const versions: number[] = [];
  for (const input of inputs) {
    if (input instanceof Tensor) versions.push(input.storage.version);
    else if (typeof input !== 'number' && typeof input !== 'boolean') return undefined;
  }
  return { inputs: inputs.slice(), versions, run, counts };
}

/**
 * Whether the output can still be recomputed as it is: no input and not the output itself was written or
 * disposed since the call. If so, the inputs are replaced by copy-on-write snapshots and true is returned.
 */
export function snapshotInputs(recipe: Recipe): boolean {
  const { output } = recipe;
  if (!output || output.disposed || output.version !== recipe.outputVersion) return false;
  let v = 0;
  for (const input of recipe.inputs) {
    if (!(input instanceof Tensor)) continue;
    if (input.storage.disposed || input.storage.version !== recipe.versions[v++]) return false;
  }
  recipe.inputs = recipe.inputs.map((t) => (t instanceof Tensor ? new Tensor(t.storage.cowClone(), t.shape, t.strides, t.offset, t.dtype) : t));
  return true;
}
