// The exported function's in-place writes, applied after a call (the module's side of @kiln/export's
// mutations): an argument's new value is written into the caller's own typed array, `{ data }` or Kiln
// tensor, as the eager function would have changed it; a state tensor's new value replaces the loaded
// module's copy of that weight (each backend writes its own memory, through `writeWeight`).
import type { AotPlanCommon } from './plan.js';
import type { AotTensor, OutputLeaf } from './outputs.js';

type Target = { set?: (data: ArrayLike<number>) => void; data?: { set(data: ArrayLike<number>): void }; copy_?: (src: unknown) => void; constructor?: { fromData?: (...a: unknown[]) => unknown } };

export function applyMutations(plan: AotPlanCommon, outputs: readonly OutputLeaf[], leaves: readonly unknown[], writeWeight: (buffer: string, value: AotTensor) => void): void {
  for (const m of plan.mutations) {
    const leaf = outputs[m.output]!;
    if (!('tensor' in leaf)) continue;
    const value = leaf.tensor;
    if ('buffer' in m) {
      writeWeight(m.buffer, value);
      continue;
    }
    const target = leaves[m.arg] as Target;
    if (ArrayBuffer.isView(target)) target.set!(value.data);
    else if (typeof target.copy_ === 'function') target.copy_(target.constructor!.fromData!(value.data, value.shape, value.dtype));
    else target.data!.set(value.data);
  }
}

/** The memory an argument lives in: a Kiln tensor's storage, or a typed array's bytes. */
function memoryOf(x: unknown): { owner: unknown; start: number; end: number } | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const storage = (x as { storage?: unknown }).storage;
  if (storage !== undefined) return { owner: storage, start: 0, end: Infinity };
  const data = ArrayBuffer.isView(x) ? x : (x as { data?: unknown }).data;
  if (!ArrayBuffer.isView(data)) return undefined;
  return { owner: data.buffer, start: data.byteOffset, end: data.byteOffset + data.byteLength };
}

/**
 * Before a call: an argument the program writes must not share memory with another argument — the eager
 * function would see its own write through the other one, which the module's program (it reads every
 * input first) cannot.
 */
export function checkWrittenAlone(plan: AotPlanCommon, leaves: readonly unknown[], fail: (message: string) => never): void {
  for (const m of plan.mutations) {
    if (!('arg' in m)) continue;
    const mine = memoryOf(leaves[m.arg]);
    if (!mine) continue;
    leaves.forEach((other, j) => {
      const theirs = j === m.arg ? undefined : memoryOf(other);
      if (theirs && theirs.owner === mine.owner && theirs.start < mine.end && mine.start < theirs.end) {
        fail(`${plan.name}: input '${plan.inputs[m.arg]!.name}' is written in place and shares its memory with input '${plan.inputs[j]!.name}'`);
      }
    });
  }
}
