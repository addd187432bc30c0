// explain() for a whole program: from `recordExplains(compiler)` on, every code location compiled with that
// compiler gets its own CompileRecorder, so that `kiln explain FILE` prints, per compiled function, what
// `explain(fn)(...args)` prints for one (graphs, guards, breaks, recompiles, kernels, times). Unlike
// explain(), the functions keep their ordinary caches: the program runs as it would without it.
import { locationObservers, sharedCacheObservers } from './cache.js';
import type { CodeCache } from './cache.js';
import { CompileRecorder } from './explain.js';
import type { ExplainOutput } from './explain.js';
import type { Compiler } from './compiler.js';

export interface ExplainedFunction {
  readonly name: string;
  /** `file:line` of the function. */
  readonly location: string;
  readonly explained: ExplainOutput;
}

export interface ExplainSession {
  /** Every function compiled since the session began, in the order of their first compile. */
  functions(): ExplainedFunction[];
  /** Stops recording (functions already set up keep reporting to the session). */
  stop(): void;
}

/** Records explain() output for every function `compiler` compiles from now on. */
export function recordExplains(compiler: Compiler): ExplainSession {
  const recorders = new Map<CodeCache, CompileRecorder>();
  locationObservers.set(compiler, (cache) => {
    let recorder = recorders.get(cache);
    if (!recorder) {
      recorders.set(cache, (recorder = new CompileRecorder()));
      sharedCacheObservers.add(recorder);
    }
    return recorder;
  });
  return {
    functions: () =>
      [...recorders].filter(([, r]) => r.entries.length > 0 || r.breaks.length > 0).map(([cache, r]) => ({
        name: cache.name,
        location: cache.location,
        explained: r.report(undefined, compiler),
      })),
    stop: () => void locationObservers.delete(compiler),
  };
}
