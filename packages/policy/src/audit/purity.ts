import { Tensor, allOps, defaultGenerator } from '@kiln/tensor';

/**
 * Observable global state, as the purity check watches it: globalThis's own properties (values compared by
 * identity, accessors by their getter and setter, so no getter is ever called), the default random
 * generator's state, and the op registry's size.
 */
interface GlobalSnapshot {
  readonly globals: Map<PropertyKey, unknown>;
  readonly rng: string;
  readonly rngState: readonly number[];
  readonly ops: number;
}

function snapshot(): GlobalSnapshot {
  const globals = new Map<PropertyKey, unknown>();
  for (const key of Reflect.ownKeys(globalThis)) {
    const d = Object.getOwnPropertyDescriptor(globalThis, key)!;
    globals.set(key, 'value' in d ? d.value : [d.get, d.set]);
  }
  const rngState = defaultGenerator.state();
  return { globals, rng: rngState.join(','), rngState, ops: allOps().length };
}

function sameSlot(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a[0] === b[0] && a[1] === b[1];
  return Object.is(a, b);
}

/**
 * Puts the default generator back in the state `state()` reported. The audit runs random ops on purpose; it
 * must leave the process's random stream as it found it (tests seed-free code after it). Generator keeps its
 * words in TypeScript-private fields, so this writes them by name and verifies the result.
 */
export function restoreGenerator(state: readonly number[]): boolean {
  const g = defaultGenerator as unknown as Record<string, unknown>;
  const [s0, s1, s2, s3, spare] = state;
  Object.assign(g, { s0, s1, s2, s3, spareNormal: Number.isNaN(spare) ? null : spare });
  return defaultGenerator.state().join(',') === state.join(',');
}

export interface Observation {
  /** Global state the call changed, one line per change (`globalThis.x added`, `random generator state`). */
  readonly globalChanges: readonly string[];
  readonly rngChanged: boolean;
  /** Indices of tensor arguments whose contents changed. */
  readonly mutatedInputs: readonly number[];
  readonly error?: string;
}

/** A tensor argument's data as a string (a list of tensors, such as cat's, counts as one argument). */
function contents(x: unknown): string | null {
  if (x instanceof Tensor) return Array.from(x.toTypedArray() as ArrayLike<number>).join(',');
  if (Array.isArray(x) && x.length > 0 && x.every((t) => t instanceof Tensor)) return x.map(contents).join(';');
  return null;
}

/** Calls `run(args)` and reports every change to global state and to the tensor arguments. */
export function observe(args: readonly unknown[], run: (args: readonly unknown[]) => unknown): Observation {
  const inputsBefore = args.map(contents);
  const before = snapshot();
  let error: string | undefined;
  try {
    run(args);
  } catch (e) {
    error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
  const after = snapshot();
  const globalChanges: string[] = [];
  for (const [key, value] of after.globals) {
    const name = `globalThis.${String(key)}`;
    if (!before.globals.has(key)) globalChanges.push(`${name} added`);
    else if (!sameSlot(before.globals.get(key), value)) globalChanges.push(`${name} reassigned`);
  }
  for (const key of before.globals.keys()) if (!after.globals.has(key)) globalChanges.push(`globalThis.${String(key)} deleted`);
  const rngChanged = before.rng !== after.rng;
  if (rngChanged) restoreGenerator(before.rngState);
  if (rngChanged) globalChanges.push('the default random generator state advanced');
  if (before.ops !== after.ops) globalChanges.push(`the op registry grew from ${before.ops} to ${after.ops} ops`);
  const mutatedInputs = args.flatMap((a, i) => (inputsBefore[i] !== null && contents(a) !== inputsBefore[i] ? [i] : []));
  return { globalChanges, rngChanged, mutatedInputs, ...(error !== undefined && { error }) };
}
