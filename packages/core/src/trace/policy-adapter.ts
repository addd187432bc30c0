// The tracer asks @kiln/policy about every call site (`decide(frame)`), then applies what the eager
// backend and this tracer can soundly do: in-place ops without an out-of-place form are graph breaks,
// whatever the table says. Data-dependent ops (nonzero, item) are recorded: their results are unbacked
// symbols, and only a branch on one breaks the graph (sym-ops.ts). A `skip` with a polyfill is
// traced as the polyfill. The decision and its reason are recorded for `explain`.
import { getOp } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
import type { Policy } from '@kiln/policy';
import { parseFunction, isNativeFunction } from './functions.js';
import { outOfPlace } from './side-effects/inplace.js';

export type PolicyKind = 'inline' | 'skip' | 'allowInGraph';

export interface PolicyDecision {
  readonly kind: PolicyKind;
  readonly rule: string;
  readonly reason: string;
  /** For allowInGraph: the op it records (absent for a user function: see `opaque`). */
  readonly op?: OpDef;
  /**
   * For allowInGraph of a user function: it becomes one opaque node (trace/opaque-ops.ts), with the meta
   * function the user gave, if any.
   */
  readonly opaque?: { readonly meta: ((...args: any[]) => unknown) | undefined };
  /** For skip: a traceable replacement. */
  readonly polyfill?: Function;
  /** For skip: what to do about it, when there is more to say than "move the call out". */
  readonly hint?: string;
  /** For skip: `skip(fn, { recursive: true })`, so the functions it calls are not compiled either. */
  readonly recursive?: true;
}

/**
 * How the tracer asks about calls: given by whoever compiles the frame (a compiler: its hooks, then its own
 * policy), so two compilers in one process never answer for each other.
 */
export interface CallPolicy {
  /** The decision for a call site met while tracing. */
  decide(fn: Function, name: string): PolicyDecision;
  /** The policy behind `decide` (top-level frames and eager callees are asked about through it). */
  readonly policy: Policy;
}

/** A CallPolicy answered by `policy` alone (no hooks): what tests and tools that trace without a compiler use. */
export const plainCallPolicy = (policy: Policy): CallPolicy => ({ policy, decide: (fn, name) => defaultDecision(policy, fn, name) });

const topLevel = (policy: Policy, fn: Function, url: string | undefined, line: number | undefined) =>
  policy.decide({ fn, name: fn.name, origin: 'top-level', ...(url ? { url } : {}), ...(line ? { line } : {}) });

/**
 * Whether the policy skips `fn` as a top-level frame (compile(fn), a callee compiled from eager code): the
 * reason when it does. Only a user override or third-party / Node code skips here — Kiln's own packages are
 * skipped as internals when called, but their tests, benches and examples compile functions defined in them.
 */
export function topLevelSkipReason(policy: Policy, fn: Function, url: string | undefined, line: number | undefined): string | undefined {
  const d = topLevel(policy, fn, url, line);
  if (d.kind !== 'skip') return undefined;
  return d.rule.step === 'override' || /\/node_modules\/|^node:/.test(url ?? '') ? d.reason : undefined;
}

/** The user's own skip rule for `fn` as a top-level frame, if any (a skipped frame's callees may compile). */
export function topLevelSkipDecision(policy: Policy, fn: Function, url: string | undefined, line: number | undefined): PolicyDecision | undefined {
  const d = topLevel(policy, fn, url, line);
  if (d.kind !== 'skip' || d.rule.step !== 'override') return undefined;
  return { kind: 'skip', rule: d.rule.id, reason: d.reason, ...(d.polyfill ? { polyfill: d.polyfill } : {}), ...(d.recursive ? { recursive: true } : {}) };
}

/** What @kiln/policy decides, narrowed to what this tracer can soundly do. */
export function defaultDecision(policy: Policy, fn: Function, name = fn.name): PolicyDecision {
  // Parsed only when the policy reads the module (a user function, a module rule) or the call is inlined:
  // reading a function's location and closure costs inspector round trips (and, in a fresh process, the
  // Debugger domain and a parse of its whole script), wasted on the allowlisted tensor functions.
  let parsed: ReturnType<typeof parseFunction> | undefined;
  const parse = () => (parsed === undefined ? (parsed = isNativeFunction(fn) ? null : parseFunction(fn)) : parsed);
  const d = policy.decide({
    fn,
    name,
    origin: 'call',
    get url() {
      return parse()?.info.url;
    },
    get line() {
      const p = parse();
      return p ? p.info.line + 1 : undefined;
    },
  });
  const rule = d.rule.id;
  if (d.kind === 'allowInGraph') {
    const op = d.op ? getOp(d.op) : undefined;
    // Not a registry op (a user function marked allowInGraph): one opaque node, run eagerly in the program.
    if (!op) return { kind: 'allowInGraph', rule, reason: d.reason, opaque: { meta: d.meta } };
    if (op.mutatesSelf) {
      // Traced as its out-of-place op; a write to a graph input is replayed (trace/side-effects/inplace.ts).
      if (outOfPlace(op)) return { kind: 'allowInGraph', rule: 'tracer:functionalized', reason: `'${op.name}' is traced as '${op.name.slice(0, -1)}' and its write replayed`, op };
      return { kind: 'skip', rule: 'tracer:inplace', reason: `'${op.name}' mutates its input in place (no out-of-place form to trace)` };
    }
    return { kind: 'allowInGraph', rule, reason: d.reason, op };
  }
  const customOp = (fn as { op?: OpDef }).op;
  if (d.kind === 'skip' && customOp !== undefined && getOp(customOp.name) === customOp) {
    // An op defined outside Kiln's allowlist (a plugin's or the user's defineOp): compiling it is opt-in.
    return { kind: 'skip', rule, reason: `'${customOp.name}' is an op defined with defineOp that is not allowed in the graph`, hint: `call allowInGraph(${name}) (from kiln) to make it one graph node traced through its meta function` };
  }
  if (d.kind === 'inline' && !parse()) return { kind: 'skip', rule, reason: `${d.reason}; but its source cannot be read` };
  return { kind: d.kind, rule, reason: d.reason, ...(d.polyfill ? { polyfill: d.polyfill } : {}), ...(d.recursive ? { recursive: true } : {}) };
}
