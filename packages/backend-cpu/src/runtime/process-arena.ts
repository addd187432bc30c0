// The process's arena, which every compiled program of the CPU backend runs on, and how many threads its
// large kernels use: by default one per core (up to MAX_DEFAULT_THREADS), `KILN_THREADS=n` in the
// environment or `configureThreads({ threads: n })` in code otherwise; 1 runs every kernel on the calling
// thread, on an unshared memory, exactly as before threads existed.
import { availableParallelism } from 'node:os';
import { KilnError } from '@kiln/tensor';
import { Arena } from './arena.js';
import { checkThreadCount } from './threads.js';

/** Past a few threads a wasm kernel is bound by memory bandwidth, and each worker costs a V8 isolate. */
export const MAX_DEFAULT_THREADS = 8;

/**
 * One arena for every program of the process: buffers of one call are freed before the next; resident
 * outputs stay until their tensors are garbage-collected, and any program reads them without a copy.
 */
let processArena: Arena | undefined;
/** Set by configureThreads; undefined: KILN_THREADS, else the core count. */
let configured: number | undefined;

export interface ThreadOptions {
  /** Threads a large kernel call is split between, the calling thread included; 1 turns threads off. */
  readonly threads: number;
}

function threadsFromEnv(): number | undefined {
  const raw = process.env.KILN_THREADS;
  if (raw === undefined || raw.trim() === '') return undefined;
  return checkThreadCount(/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw, `KILN_THREADS=${JSON.stringify(raw)}`);
}

/** The thread count now in force: configureThreads's, else KILN_THREADS, else one per core (at most 8). */
export function threadCount(): number {
  return configured ?? threadsFromEnv() ?? Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
}

/** The process's arena, made at the first compile: shared between threads unless the count is 1 then. */
export function cpuArena(): Arena {
  return (processArena ??= new Arena(undefined, { threads: threadCount() }));
}

/**
 * Sets how many threads large CPU kernels use (`{ threads: 1 }` turns threads off; `{}` goes back to the
 * default) and returns the setting in force. It applies to calls after it. A process whose arena was made
 * for one thread (the count was 1 at its first compile) cannot take more later: that is a KilnError.
 */
export function configureThreads(changes: Partial<ThreadOptions> = {}): ThreadOptions {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new KilnError(`configureThreads: expects an object of settings, got ${changes === null ? 'null' : Array.isArray(changes) ? 'an array' : typeof changes}`, 'e.g. configureThreads({ threads: 1 })');
  }
  for (const key of Object.keys(changes)) {
    if (key !== 'threads') throw new KilnError(`configureThreads: unknown setting '${key}'`, 'the one setting is threads, e.g. configureThreads({ threads: 2 })');
  }
  const next = changes.threads === undefined ? undefined : checkThreadCount(changes.threads, 'configureThreads: threads');
  const count = next ?? threadsFromEnv() ?? Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
  if (processArena && !processArena.threads && count > 1) {
    throw new KilnError(
      `configureThreads: the CPU backend's memory was made for one thread at the first compile (threads were 1 then), so it cannot run ${count}`,
      'set the thread count before the first compiled call, or start the process with KILN_THREADS unset (or > 1)',
    );
  }
  configured = next;
  if (processArena?.threads) processArena.threads.threads = count;
  return { threads: count };
}
