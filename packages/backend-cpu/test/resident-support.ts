// Helpers shared by the resident-tensor tests: what the arena allocates during a call, and running with
// other resident settings.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as k from '@kiln/tensor';
import { ResidentBlock, configureResident, cpuArena, residentPool, type Arena } from '@kiln/backend-cpu';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Collects dead resident tensors of earlier tests until the pool holds less than 1 MiB: blocks waiting for
 * a GC count against the pool's limit (twice its measured live set, at least 16 MiB), so a suite that
 * expects its outputs to stay resident starts from a drained pool instead of from the GC's timing.
 */
export async function drainPool(): Promise<void> {
  for (let i = 0; i < 50 && residentPool(cpuArena()).bytes > 2 ** 20; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Collects every dead tensor and lets finalizers run (two GCs, each followed by a turn of the event loop). */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const isResident = (t: k.Tensor): boolean => t.storage.external instanceof ResidentBlock;

/** A JS-array copy of a tensor: the eager reference never touches the arena. */
export const js = (t: k.Tensor): k.Tensor => k.Tensor.fromData(t.toTypedArray(), t.shape, t.dtype);

/** The byte sizes the arena allocates while `f` runs. */
export function allocations(arena: Arena, f: () => void): number[] {
  const sizes: number[] = [];
  const original = arena.alloc;
  arena.alloc = (bytes: number) => (sizes.push(bytes), original.call(arena, bytes));
  try {
    f();
  } finally {
    delete (arena as { alloc?: unknown }).alloc; // back to the prototype's method
  }
  return sizes;
}

/** Runs `f` with other resident settings, restoring the previous ones after. */
export function withSettings<T>(changes: Parameters<typeof configureResident>[0], f: () => T): T {
  const saved = configureResident();
  configureResident(changes);
  try {
    return f();
  } finally {
    configureResident(saved);
  }
}
