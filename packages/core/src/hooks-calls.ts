// Call functions for Kiln's tapable hooks without code generation. tapable builds a hook's `call` with
// `new Function` on its first call (and again after each new tap); in a fresh process, the hooks one compile
// calls cost ≈ 1.2 ms of generating and parsing that code, on the persistent cache's path and the traced one
// alike. Kiln's hooks are synchronous and intercept only registration (hooks.ts: attributeTaps), and for
// such a hook the generated code is a plain loop over the taps' functions, which is what this builds. A hook
// with a call-time interceptor or a `context` tap keeps tapable's generated code. Warm, a call costs ≈ 20 ns
// more than the generated one (rest arguments and a spread): nothing next to a compile, and the one hook
// called per compiled call (cacheHit) is only called when something taps it.
import { SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';

/** How a hook combines its taps: all run (SyncHook), the first defined result wins, or each result feeds the next. */
type CallKind = 'series' | 'bail' | 'waterfall';

interface TapOptions {
  readonly fn: Function;
  readonly type: string;
  readonly context?: boolean;
}

interface CompileOptions {
  readonly taps: readonly TapOptions[];
  readonly interceptors: readonly Readonly<Record<string, unknown>>[];
  readonly args: readonly string[];
  readonly type: 'sync' | 'async' | 'promise';
}

type Compilable = { compile(options: CompileOptions): Function; constructor: unknown };

/** Interceptor members that tapable's generated code calls at call time (`register` runs at tap time). */
const CALL_TIME_INTERCEPTS = ['call', 'tap', 'loop', 'error', 'result', 'done'] as const;

function kindOf(hook: Compilable): CallKind | undefined {
  // tapable's hook classes are factories whose instances name them as `constructor` (their prototype is null).
  if (hook.constructor === SyncHook) return 'series';
  if (hook.constructor === SyncBailHook) return 'bail';
  if (hook.constructor === SyncWaterfallHook) return 'waterfall';
  return undefined;
}

/**
 * The hook's `call`: each tap's function called with exactly the hook's declared arguments (more are
 * dropped, missing ones undefined) and no `this`, in tap order, as tapable's generated code does.
 */
function plainCall(kind: CallKind, fns: readonly Function[], arity: number): (...args: unknown[]) => unknown {
  return (...given: unknown[]) => {
    const args = given.length === arity ? given : Array.from({ length: arity }, (_, i) => given[i]);
    switch (kind) {
      case 'series':
        for (const fn of fns) fn(...args);
        return undefined;
      case 'bail':
        for (const fn of fns) {
          const result = fn(...args);
          if (result !== undefined) return result;
        }
        return undefined;
      case 'waterfall':
        for (const fn of fns) {
          const result = fn(...args);
          if (result !== undefined) args[0] = result;
        }
        return args[0];
      default:
        return kind satisfies never;
    }
  };
}

/** Makes `hook` build its sync `call` as a plain loop where that is what tapable would generate. */
export function callWithoutCodegen<H>(hook: H): H {
  const h = hook as unknown as Compilable;
  const kind = kindOf(h);
  if (!kind) return hook;
  const generated = h.compile;
  h.compile = function (this: unknown, options: CompileOptions): Function {
    const plain =
      options.type === 'sync' &&
      options.taps.every((t) => t.type === 'sync' && !t.context) &&
      options.interceptors.every((i) => CALL_TIME_INTERCEPTS.every((m) => i[m] === undefined));
    return plain ? plainCall(kind, options.taps.map((t) => t.fn), options.args.length) : generated.call(this, options);
  };
  return hook;
}
