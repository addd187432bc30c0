// Which version of a user function eager code calls when Kiln can redirect the call: at a graph break the
// statement run eagerly, and the copy of a skipped user function (skipped-copy.ts). The policy decides, as it
// would for a traced call: inline → the compiled function; a user's own skip → the skipped function runs
// eagerly, as a copy whose calls are redirected the same way (unless the skip is recursive); anything else
// (natives, node_modules, Kiln's internals, classes, async code) runs as it is.
import { log } from '../../logs/index.js';
import { formatLocation } from '../errors.js';
import { isNativeFunction, parseFunction } from '../functions.js';
import { topLevelSkipDecision } from '../policy-adapter.js';
import type { CallPolicy, PolicyDecision } from '../policy-adapter.js';
import { calleeHelper, methodHelper } from './method-calls.js';
import { skippedCopy } from './skipped-copy.js';

export interface CalleeContext {
  /**
   * compile(fn) with the compiler and options of the frame whose eager code makes the calls: injected by
   * whoever compiles frames (compile.ts), so this code never imports the compiler back.
   */
  readonly compile: (fn: Function) => Function;
  /** The compiling frame's call policy (the same answers the tracer got). */
  readonly calls: CallPolicy;
  readonly observer: { onSkippedCallee?(callee: SkippedCallee): void } | undefined;
  /** `[frame/compile]` of the frame whose eager code makes the calls (log lines carry it). */
  readonly tag: string;
}

/** What happened to a skipped user function that eager code called (explain lists these). */
export interface SkippedCallee {
  readonly name: string;
  readonly location: string;
  /** True when it ran as a copy whose callees are compiled; false when the original ran. */
  readonly copied: boolean;
  readonly reason: string;
}

export type Redirect = (value: unknown) => unknown;

/**
 * `wrap(value)`: the version of `value` to call. Results are cached per function for this context, so
 * repeated calls reuse one compiled wrapper (and its compile cache) or one copy.
 */
export function calleeRedirect(ctx: CalleeContext): Redirect {
  const wrapped = new WeakMap<Function, Function>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'function') return value;
    let w = wrapped.get(value);
    if (!w) wrapped.set(value, (w = redirectOne(value, ctx, wrap)));
    return w;
  };
  return wrap;
}

const isClass = (fn: Function): boolean => fn.prototype?.constructor === fn && /^class\b/.test(Function.prototype.toString.call(fn));

function redirectOne(fn: Function, ctx: CalleeContext, wrap: Redirect): Function {
  if (isNativeFunction(fn) || isClass(fn)) return fn;
  const parsed = parseFunction(fn);
  if (!parsed || parsed.node.async || parsed.node.generator || parsed.info.isLibrary) return fn;
  const decision = ctx.calls.decide(fn, fn.name);
  if (decision.kind === 'inline') return ctx.compile(fn);
  return decision.kind === 'skip' ? skippedRun(fn, decision, ctx, wrap) : fn;
}

/**
 * compile(fn) of a function the user skips: it runs eagerly, as a copy whose callees are compiled (what
 * `cache.skipped` frames call instead of `fn`), or as itself.
 */
export function skippedFrameRun(fn: Function, ctx: CalleeContext): Function {
  const parsed = parseFunction(fn);
  const decision = parsed && !parsed.info.isLibrary ? topLevelSkipDecision(ctx.calls.policy, fn, parsed.info.url, parsed.info.line + 1) : undefined;
  return decision ? skippedRun(fn, decision, ctx, calleeRedirect(ctx)) : fn;
}

/** Only the user's own skip rules get a copy: the built-in skip list covers library and Kiln code. */
function skippedRun(fn: Function, decision: PolicyDecision, ctx: CalleeContext, wrap: Redirect): Function {
  if (!decision.rule.startsWith('override:') || decision.polyfill) return fn;
  if (decision.recursive) {
    report(fn, ctx, false, 'skip(…, { recursive: true }) keeps everything it calls eager');
    return fn;
  }
  const copy = skippedCopy(fn, methodHelper(wrap as (f: Function) => Function), calleeHelper(wrap as (f: Function) => Function));
  if ('why' in copy) {
    report(fn, ctx, false, `its callees cannot be compiled: ${copy.why}`);
    return fn;
  }
  report(fn, ctx, true, 'user functions it calls by name or as methods run compiled where the policy inlines them');
  return copy.run;
}

const logged = new WeakSet<Function>();

function report(fn: Function, ctx: CalleeContext, copied: boolean, reason: string): void {
  const parsed = parseFunction(fn);
  const entry: SkippedCallee = { name: fn.name || 'anonymous', location: formatLocation(parsed?.locator(parsed.node.start)), copied, reason };
  ctx.observer?.onSkippedCallee?.(entry);
  if (logged.has(fn)) return;
  logged.add(fn);
  log('graph_breaks', ctx.tag, `skipped function '${entry.name}' (${entry.location}) runs eagerly${copied ? ' as a copy' : ' as it is'}: ${reason}`);
}
