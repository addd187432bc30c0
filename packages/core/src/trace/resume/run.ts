// Running a split cache entry: the graph of the statements before the break, the replay of their side
// effects, the breaking statement as plain JavaScript, then the compiled resume function.
import type { SplitEntry } from '../../cache.js';
import { fillTemplate } from '../trace-frame.js';
import type { ArgSource } from './plan.js';
import type { EffectReplay } from '../side-effects/replay.js';

export interface SplitRuntime {
  /** `function (done, ...params)` made from the statement's source text. */
  readonly eager: Function;
  readonly eagerArgs: readonly ArgSource[];
  /** Per eager parameter: a user function passed there is swapped for its compiled version. */
  readonly calleeParams: readonly boolean[];
  readonly wrapCallee: (value: unknown) => unknown;
  /** The compiled resume function (undefined when the break is at the last statement). */
  readonly resume: Function | undefined;
  readonly resumeArgs: readonly ArgSource[];
  readonly eagerUsesThis: boolean;
  readonly resumeUsesThis: boolean;
  readonly effects: EffectReplay | undefined;
}

/** Cache entries of resume functions (explain counts their graphs only when they hold an op). */
export const resumeEntries = new WeakSet<object>();

/** Unique per process: only generated code can return it, so a user `return` is never mistaken for it. */
export const DONE = Object.freeze({ kilnStatementDone: true });

function argument(src: ArgSource, live: readonly unknown[], C: readonly unknown[], eager: readonly unknown[] | undefined): unknown {
  switch (src.from) {
    case 'live':
      return live[src.index];
    case 'capture':
      return C[src.index];
    case 'eager':
      return eager![src.index + 1];
    default:
      return src satisfies never;
  }
}

export function runSplit(entry: SplitEntry, thisArg: unknown, args: unknown[], C: readonly unknown[], M: readonly unknown[]): unknown {
  const outputs = entry.run(entry.gatherInputs(args, thisArg, C, M));
  const sources = entry.gatherOutputs(args, thisArg, C, M);
  const live = fillTemplate(entry.output, outputs, sources) as unknown[];
  const s = entry.split;
  s.effects?.apply(outputs, sources, args, thisArg, C, M);
  const eagerArgs: unknown[] = [DONE];
  for (let i = 0; i < s.eagerArgs.length; i++) {
    const v = argument(s.eagerArgs[i]!, live, C, undefined);
    eagerArgs.push(s.calleeParams[i] ? s.wrapCallee(v) : v);
  }
  const result = s.eager.apply(s.eagerUsesThis ? thisArg : undefined, eagerArgs) as unknown;
  if (!Array.isArray(result) || result[0] !== DONE) return result;
  if (!s.resume) return undefined;
  const resumeArgs = s.resumeArgs.map((a) => argument(a, live, C, result));
  return s.resume.apply(s.resumeUsesThis ? thisArg : undefined, resumeArgs);
}
