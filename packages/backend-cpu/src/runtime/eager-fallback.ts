// A call the wasm kernels cannot serve (the arena cannot hold its buffers, or a size is past their int32
// range) runs with the eager kernels in JS memory: slower, never wrong. Eager code has no arena limit and
// counts in float64, so it computes what the kernels cannot, as long as JS can allocate its tensors.
import type { ArenaOutOfMemoryError } from './arena.js';
import type { KernelSizeLimitError } from './size-limits.js';

/** Runs a whole program's graph with the eager kernels (the backend passes the interpreter). */
export type EagerRun = (inputs: readonly unknown[]) => unknown[];

/**
 * Says that compiled code runs eagerly: a `KilnWarning` with code `KILN_CPU_EAGER_FALLBACK` through Node's
 * process.emitWarning where there is one (a browser has console.warn).
 */
export function warnEagerFallback(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: { type: string; code: string }) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { type: 'KilnWarning', code: 'KILN_CPU_EAGER_FALLBACK' });
  else console.warn(`KilnWarning: ${message}`);
}

/** An error of a failed JS allocation (a typed array too large for the heap or for V8's length limit). */
const isAllocationFailure = (err: unknown): boolean =>
  err instanceof RangeError || (err instanceof Error && err.cause instanceof RangeError && /allocat|length/i.test(err.cause.message));

/**
 * Runs the call eagerly because of `reason`, warning (as a `KilnWarning`, code `KILN_CPU_EAGER_FALLBACK`)
 * when `warn` is set. If eager code cannot allocate either, the arena's typed error is raised, with the
 * JS error as its `cause`; eager's own errors (an index out of range, say) propagate as they are.
 */
export function runEagerInstead(eager: EagerRun, inputs: readonly unknown[], reason: ArenaOutOfMemoryError | KernelSizeLimitError, warn: boolean): unknown[] {
  if (warn) warnEagerFallback(`${reason.message.split('\n')[0]}; this call (and later ones like it) runs with the eager kernels instead`);
  try {
    return eager(inputs);
  } catch (err) {
    if (!isAllocationFailure(err)) throw err;
    throw Object.assign(reason, { cause: err });
  }
}
