// Running a split cache entry: the graph of the statements before the break, the replay of their side
// effects, the breaking statement as plain JavaScript, then the compiled resume function.
import type { SplitEntry } from '../../cache.js';
import { fillTemplate } from '../output-template.js';
import type { ArgSource } from './plan.js';
import type { EffectReplay } from '../side-effects/replay.js';

export interface SplitRuntime {
  /** `function (done, ...params)` made from the statement's source text. */
  readonly eager: Function;
  readonly eagerArgs: readonly ArgSource[];
  /** Per eager parameter: a user function passed there is swapped for its compiled version. */
  readonly calleeParams: readonly boolean[];
  readonly wrapCallee: (value: unknown) => unknown;
  /** `__kiln_method` of the generated statement: method calls run compiled where the policy inlines them. */
  readonly method: Function;
  /** `if`-test splits: the eager part returns the test, and it picks resumes[0] (then) or resumes[1] (else). */
  readonly test: boolean;
  /** The compiled resume functions (undefined where nothing follows). */
  readonly resumes: readonly ({ readonly fn: Function; readonly args: readonly ArgSource[]; readonly usesThis: boolean } | undefined)[];
  readonly eagerUsesThis: boolean;
  readonly effects: EffectReplay | undefined;
  /** `file:line` of the statement, added to the stack of an error it raises. */
  readonly statementLocation: () => string;
}

/** Cache entries of resume functions → the resume function's name (explain labels and counts their graphs). */
export const resumeEntries = new WeakMap<object, string>();

/** Unique per process: only generated code can return it, so a user `return` is never mistaken for it. */
export const DONE = Object.freeze({ kilnStatementDone: true });

function argument(src: ArgSource, live: readonly unknown[], C: readonly unknown[], eager: readonly unknown[] | undefined): unknown {
  switch (src.from) {
    case 'live':
      return live[src.index];
    case 'capture':
      return C[src.index];
    case 'eager':
      return eager![src.index];
    default:
      return src satisfies never;
  }
}

/**
 * The statement ran from generated code, so the error's stack names `kiln_eager_statement`: add the user's
 * line as a frame. The error itself (class, message, identity) is what eager code raises.
 */
function withUserFrame(err: unknown, location: () => string): unknown {
  if (!(err instanceof Error) || typeof err.stack !== 'string' || err.stack.includes('kiln: run eagerly')) return err;
  const lines = err.stack.split('\n');
  const at = lines.findIndex((l) => l.includes('kiln_eager_statement'));
  if (at < 0) return err;
  lines.splice(at + 1, 0, `    at ${location()} (kiln: run eagerly after a graph break)`);
  try {
    err.stack = lines.join('\n');
  } catch {
    /* a frozen error keeps its stack */
  }
  return err;
}

export function runSplit(entry: SplitEntry, thisArg: unknown, args: unknown[], C: readonly unknown[], M: readonly unknown[]): unknown {
  const outputs = entry.run(entry.gatherInputs(args, thisArg, C, M));
  const sources = entry.gatherOutputs(args, thisArg, C, M);
  const views = new Map();
  const live = fillTemplate(entry.output, outputs, sources, views) as unknown[];
  const s = entry.split;
  s.effects?.apply(outputs, sources, args, thisArg, C, M, views);
  const eagerArgs: unknown[] = [DONE, s.method];
  for (let i = 0; i < s.eagerArgs.length; i++) {
    const v = argument(s.eagerArgs[i]!, live, C, undefined);
    eagerArgs.push(s.calleeParams[i] ? s.wrapCallee(v) : v);
  }
  let result: unknown;
  try {
    result = s.eager.apply(s.eagerUsesThis ? thisArg : undefined, eagerArgs);
  } catch (err) {
    throw withUserFrame(err, s.statementLocation);
  }
  if (!Array.isArray(result) || result[0] !== DONE) return result;
  const resume = s.resumes[s.test && !result[1] ? 1 : 0];
  if (!resume) return undefined;
  const resumeArgs = resume.args.map((a) => argument(a, live, C, result));
  return resume.fn.apply(resume.usesThis ? thisArg : undefined, resumeArgs);
}
