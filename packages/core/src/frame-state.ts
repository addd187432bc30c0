// The state compile() keeps for a compiled function: its options resolved against the config, its code
// location's cache and captures, its persistent cache key; and what a cache miss reads from the location's
// newest entry (the recompile reason, the sizes and numbers that become dynamic).
import { UnknownBackendError } from './backends/registry.js';
import { cacheFor, cacheGeneration, locationObservers, newPrivateCache, readMutable } from './cache.js';
import type { CacheEntry, CodeCache, CompileObserver } from './cache.js';
import { guardHolds } from './guards/codegen.js';
import { describeFailedGuard } from './guards/failure.js';
import { formatLocation } from './trace/errors.js';
import { isNativeFunction, parseFunction } from './trace/functions.js';
import { functionInfo } from './trace/closures.js';
import { getDefaultCompiler } from './compiler.js';
import type { Compiler } from './compiler.js';
import type { CompileOptions } from './compile-options.js';
import type { PersistentCacheKey } from './hooks.js';
import { frameKey } from './persist/frame-cache.js';
import { anyDimsMarked } from './mark-dynamic.js';

/** Whether `name` is `auto` or a backend the compiler's hooks list (availability is checked at compile). */
function checkBackendKnown(compiler: Compiler, name: string, source: string): void {
  const names = compiler.backends().map((b) => b.name);
  if (name === 'auto' || names.includes(name)) return;
  throw new UnknownBackendError(
    `${source}: unknown backend '${name}' (registered: auto, ${names.join(', ')})`,
    "list the backend's package in the config's plugins (or import it, which registers it), or fix the name",
  );
}

const compilerIds = new WeakMap<Compiler, number>();
let nextCompilerId = 0;
/** Caches are per compiler too: entries hold runners its backend hooks produced. */
function compilerId(c: Compiler): number {
  let id = compilerIds.get(c);
  if (id === undefined) compilerIds.set(c, (id = nextCompilerId++));
  return id;
}

export interface FrameState {
  readonly generation: number;
  readonly cache: CodeCache;
  readonly captures: readonly unknown[];
  readonly compiler: Compiler;
  readonly options: CompileOptions & { readonly backend: string; readonly recompileLimit: number };
  /** The persistent cache key once computed (null: none applies). */
  persistKey?: PersistentCacheKey | null;
  /** Who observes this location's compiles when compile() was given no observer (see locationObservers). */
  readonly observer: CompileObserver | undefined;
}

/** The state of `fn` compiled with `given`: options resolved against the config, and its code location's cache. */
export function setupFrameState(fn: Function, given: CompileOptions, privateCache: boolean): FrameState {
  const compiler = given.compiler ?? getDefaultCompiler();
  const { config } = compiler;
  const options = {
    ...given,
    backend: given.backend ?? config.backend,
    dynamic: given.dynamic ?? config.dynamic,
    recompileLimit: given.recompileLimit ?? config.recompileLimit,
  };
  checkBackendKnown(compiler, options.backend, given.backend !== undefined ? 'compile() options: backend' : 'config: backend');
  // The function's location and captures only: its AST and URL wait until a trace needs them (a persistent
  // cache hit never does).
  const info = isNativeFunction(fn) ? null : functionInfo(fn);
  const name = fn.name || 'anonymous';
  const location = () => {
    const parsed = parseFunction(fn);
    return parsed ? formatLocation(parsed.locator(parsed.node.start)) : '<native>';
  };
  const text = Function.prototype.toString.call(fn);
  const key = `${info?.scriptId}:${info?.line}:${info?.column}:${text}|${options.dynamic}|${options.fullgraph}|${options.recompileLimit}|${options.backend}|${compilerId(compiler)}`;
  const cache = privateCache ? newPrivateCache(name, location) : cacheFor(key, name, location);
  const captures = info ? [...info.captures.values()].map((c) => c.value) : [];
  const observer = privateCache ? undefined : locationObservers.get(compiler)?.(cache);
  return { generation: cacheGeneration, cache, captures, compiler, options, observer };
}

/** The recompile reason: the first failing guard of the newest entry. */
export function missReason(cache: CodeCache, args: unknown[], thisArg: unknown, C: readonly unknown[], fn: Function): string | undefined {
  const last = cache.entries[cache.entries.length - 1];
  if (!last) return undefined;
  const M = readMutable(last.mutableReads, fn);
  const failed = last.guard(args, thisArg, C, M);
  const g = last.guards[failed];
  return g ? `${describeFailedGuard(g, [args, thisArg, C, M, constantsOf(last)])}${g.location ? ` (guard from ${g.location})` : ''}` : undefined;
}

/**
 * Automatic dynamic: a static size that changed becomes a dynamic dimension at this recompile, and a number
 * whose value guard failed (and that is still a number) is read as a runtime number (trace/runtime-number.ts).
 */
export function markChanged(cache: CodeCache, args: unknown[], thisArg: unknown, C: readonly unknown[], fn: Function): void {
  const last = cache.entries[cache.entries.length - 1];
  if (!last) return;
  const M = readMutable(last.mutableReads, fn);
  const K = constantsOf(last);
  const holds = (code: string): boolean => guardHolds(code, args, thisArg, C, M, K);
  for (const g of last.guards) {
    if (holds(g.code)) continue;
    if (g.staticDim) cache.autoDynamic.add(`${g.staticDim.source}#${g.staticDim.dim}`);
    else if (g.valueSource && holds(`typeof ${g.valueSource} === "number"`)) cache.autoDynamic.add(`${g.valueSource}#value`);
    // The guards after a failed one may read what it protected (a getter's property): never evaluate them.
    else if (!g.valueSource) break;
  }
}

/** Each entry's guard constants (`K`): what the guards of the newest entry read again at a miss. */
export const entryConstants = new WeakMap<CacheEntry, readonly unknown[]>();
const constantsOf = (e: CacheEntry): readonly unknown[] => entryConstants.get(e) ?? [];

/** The frame's captured bindings in `C` order (frameCaptureNames without parsing the function). */
export const captureNamesOf = (fn: Function): string[] => [...(functionInfo(fn)?.captures.keys() ?? [])];

/** The frame's persistent cache key (computed once per frame state), or undefined when none applies. */
export function persistentKey(state: FrameState, fn: Function): PersistentCacheKey | undefined {
  if (state.persistKey !== undefined) return state.persistKey ?? undefined;
  const info = isNativeFunction(fn) ? null : functionInfo(fn);
  const { options, compiler } = state;
  const key = info && !anyDimsMarked() ? frameKey(compiler, { fn, info, options: { dynamic: options.dynamic ?? null, fullgraph: options.fullgraph ?? false, backend: options.backend } }) : undefined;
  state.persistKey = key ?? null;
  return key;
}
