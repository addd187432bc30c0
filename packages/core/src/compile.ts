// compile(fn): the user entry point. Each call looks up the code location's cache (guards first); a miss
// traces the frame into a graph (or records why it must run eagerly) and adds an entry, up to the limit.
import { IndexError, KilnError, KilnTypeError, Tensor } from '@kiln/tensor';
import { BackendUnavailableError, UnknownBackendError, eagerBackend } from './backends/registry.js';
import { CheckFailedError } from '@kiln/shapes';
import { cacheFor, cacheGeneration, CodeCache, locationObservers, newPrivateCache, readMutable, resetCaches, sharedCacheObservers } from './cache.js';
import type { BreakRecord, CacheEntry, CompileObserver, EagerEntry, GraphEntry } from './cache.js';
import { compileGuards, guardHolds } from './guards/codegen.js';
import { describeFailedGuard } from './guards/failure.js';
import type { GuardEntry } from './guards/builder.js';
import { checkLogSettings, compileTag, log, logSink } from './logs/index.js';
import { logEntry } from './logs/entry.js';
import { plural } from './logs/plural.js';
import { NO_OPS_REASON, hasTensorOps, noOpsEntry } from './no-ops.js';
import { FrameSkipped, FullGraphError, GraphBreak, formatLocation } from './trace/errors.js';
import { isNativeFunction, parseFunction } from './trace/functions.js';
import { boundParts, functionInfo } from './trace/closures.js';
import { debuggerHeld, releaseIfIdle } from './trace/inspector.js';
import { getDefaultCompiler } from './compiler.js';
import type { Compiler } from './compiler.js';
import { PluginError } from './hooks.js';
import { describeValue, validateCompileOptions } from './compile-options.js';
import type { CompileOptions } from './compile-options.js';
import type { FrameCompileInfo, FrameEvent } from './hooks.js';
import { runSplit } from './trace/resume/run.js';
import { skippedFrameRun } from './trace/resume/callees.js';
import type { CalleeContext } from './trace/resume/callees.js';
import { backendBeforeBreak, compileTrace } from './entry.js';
import { carriedLocalsOf, logBreakOnce, splitFrame } from './trace/resume/split.js';
import type { SplitContext } from './trace/resume/split.js';
import { buildReplay } from './trace/side-effects/replay.js';
import { recordedEffects } from './trace/side-effects/record.js';
import { fillTemplate, newFrameTracer, partialTrace, traceFrame } from './trace/trace-frame.js';
import type { FrameTracer } from './trace/frame.js';
import { frameKey, frameRecord, storeFrame, withSplit } from './persist/frame-cache.js';
import type { FrameRecord, NotKept } from './persist/frame-cache.js';
import { restoreTrace, restoredSplit, storeSplit } from './persist/frame-restore.js';
import type { RestoredTrace } from './persist/frame-restore.js';
import { notePersist } from './persist/notes.js';
import type { PersistentCacheKey } from './hooks.js';

export type { CompileOptions } from './compile-options.js';
export { validateCompileOptions } from './compile-options.js';
export type { BreakRecord, CompileObserver } from './cache.js';

const markedDims = new WeakMap<Tensor, Set<number>>();
/** Marks change what a trace makes of its inputs, and no persistent cache key can spell them: none is used after one. */
let anyMarked = false;

/** Marks dimension(s) of `t` dynamic for the next compile that sees it as an input. */
export function markDynamic(t: Tensor, dim: number | readonly number[]): void {
  if (!(t instanceof Tensor)) {
    throw new KilnTypeError(`markDynamic: argument 't' must be a Tensor, got ${describeValue(t)}`, 'pass the input tensor whose dimension should be dynamic');
  }
  const dims: readonly unknown[] = typeof dim === 'number' ? [dim] : Array.isArray(dim) ? dim : [];
  if (!(typeof dim === 'number' || Array.isArray(dim))) {
    throw new KilnTypeError(`markDynamic: argument 'dim' must be an integer or an array of integers, got ${describeValue(dim)}`, 'e.g. markDynamic(x, 0) or markDynamic(x, [0, 1])');
  }
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new KilnTypeError(`markDynamic: dim must be an integer, got ${describeValue(d)}`, 'e.g. markDynamic(x, 0) or markDynamic(x, [0, 1])');
    }
    if (d < -t.ndim || d >= t.ndim) {
      throw new IndexError(
        `markDynamic: dim=${d} is out of range for a tensor of rank ${t.ndim} (shape [${t.shape.join(', ')}])`,
        t.ndim === 0 ? 'a 0-d tensor has no dimensions to mark' : `use a dim in [${-t.ndim}, ${t.ndim - 1}]`,
      );
    }
  }
  anyMarked = true;
  const set = markedDims.get(t) ?? new Set<number>();
  for (const d of dims as number[]) set.add(d < 0 ? d + t.ndim : d);
  markedDims.set(t, set);
}

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

interface FrameState {
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

function setup(fn: Function, given: CompileOptions, privateCache: boolean): FrameState {
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

/**
 * Forgets everything compiled so far, as `torch.compiler.reset()` does: every compiled function traces
 * again on its next call (new frame ids, no recompile count carried over). For tests and benchmarks that
 * reuse a function with different models, and after changing the policy or configuration.
 */
export function reset(): void {
  resetCaches();
}


export function compile<F extends (...args: any[]) => any>(fn: F, options: CompileOptions = {}): F {
  return compileWith(fn, options, undefined);
}

export function compileWith<F extends (...args: any[]) => any>(fn: F, options: CompileOptions, observer: CompileObserver | undefined): F {
  if (typeof fn !== 'function') throw new KilnTypeError(`compile() expects a function, got ${describeValue(fn)}`, 'pass the function itself, not its result');
  options = validateCompileOptions(options, observer ? 'explain' : 'compile');
  checkLogSettings();
  // The first compile() of a process loads the config file (see config/), so its errors surface here.
  if (options.compiler === undefined) getDefaultCompiler();
  const bound = boundParts(fn);
  if (bound) {
    // `model.forward.bind(model)`: compile the target; the bound `this` is guarded like any `this`.
    const target = compileWith(bound.target as F, options, observer);
    return function (this: unknown, ...args: unknown[]) {
      return target.apply(bound.thisArg, [...bound.args, ...args]);
    } as unknown as F;
  }
  let state: FrameState | undefined;
  const compiled = function (this: unknown, ...args: unknown[]): unknown {
    if (debuggerHeld) releaseIfIdle(); // wasm runs slower while the closure reader holds the debugger
    if (state === undefined || state.generation !== cacheGeneration) state = setup(fn, options, observer !== undefined && !sharedCacheObservers.has(observer));
    const { cache, captures } = state;
    if (cache.skipped) return (cache.skippedRun ?? fn).apply(this, args);
    for (const entry of cache.entries) {
      const mutable = readMutable(entry.mutableReads, fn);
      if (entry.guard(args, this, captures, mutable) < 0) {
        if (state.compiler.hooks.cacheHit.isUsed()) state.compiler.hooks.cacheHit.call(frameEvent(cache, entry.compileId));
        return runEntry(entry, fn, this, args, captures, mutable);
      }
    }
    return onMiss(state, fn, this, args, observer ?? state.observer);
  };
  Object.defineProperty(compiled, 'name', { value: `compiled_${fn.name || 'anonymous'}` });
  return compiled as unknown as F;
}

function runEntry(entry: CacheEntry, fn: Function, thisArg: unknown, args: unknown[], C: readonly unknown[], M: readonly unknown[]): unknown {
  if (entry.kind === 'eager') return fn.apply(thisArg, args);
  if (entry.checkAsserts) {
    const failed = entry.checkAsserts(args, thisArg, C, M);
    if (failed >= 0) throw new CheckFailedError(entry.assertTexts![failed]!, undefined, 'for these inputs (a runtime assert of the compiled code)');
  }
  if (entry.kind === 'split') return runSplit(entry, thisArg, args, C, M);
  const outputs = entry.run(entry.gatherInputs(args, thisArg, C, M));
  // The common return, one graph output and no side effect to replay: no sources to read, no view memo
  // and no template walk (each a per-call allocation, and the walk a closure made per call).
  const { output } = entry;
  if (output.kind === 'graph' && entry.effects === undefined) return outputs[output.index];
  const sources = entry.gatherOutputs(args, thisArg, C, M);
  // Side effects on outside values replay after the graph ran, before the caller sees the result.
  // One view memo for both: a view stored outside and returned is one object, as in eager code.
  const views = new Map();
  entry.effects?.apply(outputs, sources, args, thisArg, C, M, views);
  return fillTemplate(entry.output, outputs, sources, views);
}

/** The recompile reason: the first failing guard of the newest entry. */
function missReason(cache: CodeCache, args: unknown[], thisArg: unknown, C: readonly unknown[], fn: Function): string | undefined {
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
function markChanged(cache: CodeCache, args: unknown[], thisArg: unknown, C: readonly unknown[], fn: Function): void {
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

const entryConstants = new WeakMap<CacheEntry, readonly unknown[]>();
const constantsOf = (e: CacheEntry): readonly unknown[] => entryConstants.get(e) ?? [];

/** The location is read when a tap asks for it: finding it costs a fresh process the Debugger domain. */
const frameEvent = (cache: CodeCache, compileId: number): FrameEvent => ({
  name: cache.name,
  get location() {
    return cache.location;
  },
  tag: compileTag(cache.frameId, compileId),
});

function onMiss(state: FrameState, fn: Function, thisArg: unknown, args: unknown[], observer: CompileObserver | undefined): unknown {
  const { cache, captures: C, options, compiler } = state;
  const limit = options.recompileLimit;
  const reason = missReason(cache, args, thisArg, C, fn);
  if (reason) cache.lastReason = reason;
  compiler.hooks.cacheMiss.call(frameEvent(cache, cache.compiles), reason);
  if (cache.entries.length >= limit) {
    if (!cache.limitWarned) {
      cache.limitWarned = true;
      logSink.write(`[kiln] warning: '${cache.name}' (${cache.location}) hit the recompile limit (${limit}); it now runs eagerly for new inputs. Last reason: ${cache.lastReason ?? 'unknown'}`);
    }
    return fn.apply(thisArg, args);
  }
  if (options.dynamic === undefined) markChanged(cache, args, thisArg, C, fn);
  const compileId = cache.compiles++;
  const tag = compileTag(cache.frameId, compileId);
  if (reason) {
    log('recompiles', tag, `recompiling '${cache.name}' (${cache.location}): ${reason}`);
    compiler.hooks.recompile.call(frameEvent(cache, compileId), reason);
  }
  const entry = buildEntry(state, fn, thisArg, args, compileId, tag, observer);
  if (!entry) return (cache.skippedRun ?? fn).apply(thisArg, args);
  cache.entries.push(entry);
  observer?.onEntry(entry, tag, reason);
  announceEntry(compiler, cache, entry, compileId, reason);
  if (entry.kind === 'eager') return fn.apply(thisArg, args);
  return runEntry(entry, fn, thisArg, args, C, readMutable(entry.mutableReads, fn));
}

function buildEntry(state: FrameState, fn: Function, thisArg: unknown, args: unknown[], compileId: number, tag: string, observer: CompileObserver | undefined): CacheEntry | undefined {
  const { cache, options, compiler } = state;
  const { hooks } = compiler;
  const event = frameEvent(cache, compileId);
  const start = performance.now();
  // Made when the frame is traced (a persistent cache hit skips it: it parses the function).
  let madeTracer: FrameTracer | undefined;
  const tracer = (): FrameTracer => (madeTracer ??= newFrameTracer(fn, {
    dynamic: options.dynamic,
    autoDynamic: cache.autoDynamic,
    markedDynamic: (t) => markedDims.get(t),
    calls: compiler.calls,
    carriedLocals: carriedLocalsOf(fn),
  }));
  log('dynamo', tag, () => `tracing '${cache.name}' (${cache.location})`);
  let key: PersistentCacheKey | undefined;
  let restored: RestoredTrace | undefined;
  const split = splitContext(state, fn, thisArg, args, { compileId, tag, event, start, observer });
  try {
    hooks.frameStart.call(event);
    // Only a frame's first compile in a process is kept and reused: a later one depends on what came before
    // (automatic dynamic sizes), which another process's first compile would not make.
    key = cache.entries.length === 0 && cache.autoDynamic.size === 0 ? persistentKey(state, fn) : undefined;
    restored = key ? restoreTrace(state.compiler, key, fn, captureNamesOf(fn), { L: args, T: thisArg, C: state.captures, readMutable: (reads) => readMutable(reads, fn) }, tag) : undefined;
    if (restored?.split) {
      const entry = restoredSplit(split.context, restored.split, key!, tag);
      if (entry) {
        entryConstants.set(entry, entry.constants);
        return entry;
      }
      restored = { kept: restored.kept };
    }
    const trace = restored?.trace ?? traceFrame(tracer(), fn, thisArg, args);
    // A restored trace held ops (one without is never kept), and reading its graph would decode it.
    if (!restored?.trace && !hasTensorOps(trace.graph)) {
      const entry = noOpsEntry(trace, compileId, start);
      entryConstants.set(entry, trace.constants);
      log('dynamo', tag, () => `skipping '${cache.name}' (${cache.location}): ${NO_OPS_REASON} (${plural(entry.guards.length, 'guard')})`);
      return entry;
    }
    const traceMs = performance.now() - start;
    // Made before compileTrace: its passes edit the captured graph in place.
    const record = key && !restored?.trace ? frameRecord(fn, captureNamesOf(fn), trace) : undefined;
    const compiled = compileTrace(compiler, trace, options.backend, event, restored?.passed);
    const entry: GraphEntry = {
      kind: 'graph',
      compileId,
      ...compiled,
      get graph() {
        return compiled.graphOf();
      },
      compilePhasesMs: { [restored?.trace ? 'cacheLoad' : 'trace']: traceMs, ...compiled.compilePhasesMs },
      compileMs: performance.now() - start,
      effects: trace.extra.length ? buildReplay(recordedEffects(tracer()), trace.extra, trace.constants) : undefined,
    };
    entryConstants.set(entry, trace.constants);
    if (key) {
      storeFrame(compiler, key, record, entry, restored?.kept ?? []);
      if (restored?.trace) notePersist(entry, tag, `${key.label} loaded from the persistent cache (guards re-checked)`, false);
      else notePersist(entry, tag, record && 'notKept' in record ? `${key.label} not kept in the persistent cache: ${record.notKept}` : `${key.label} offered to the persistent cache`);
    }
    // Built only when asked for: the location costs a fresh process the Debugger domain.
    logEntry(tag, cache.name, () => `graph for '${cache.name}' (${cache.location})`, entry, entry.compileMs);
    return entry;
  } catch (err) {
    let record = breakRecord(err);
    if (!record) throw err;
    if (err instanceof PluginError) {
      if (options.fullgraph) throw err;
      warnPluginOnce(cache, err);
    }
    if (options.fullgraph) throw new FullGraphError(record.reason, record.location, record.hint);
    if (err instanceof GraphBreak) {
      // Resume after the break where the frame can be split there (trace/resume); else the whole frame runs eagerly.
      // The graph before the break is recorded for a persistent cache before its passes run (they edit it).
      const made = splitFrame({ ...split.context, tracer: tracer(), record, compileTrace: split.recording(key) });
      if ('entry' in made) {
        entryConstants.set(made.entry, made.entry.constants);
        if (key) storeSplit(compiler, key, withSplit(split.recorded(), { at: made.entry.splitAt, record: made.entry.break }), made.entry, restored?.kept ?? [], tag);
        return made.entry;
      }
      if (made.why) record = { ...record, reason: `${record.reason} (the frame cannot resume after it: ${made.why})` };
    }
    logBreakOnce(cache, tag, record, `'${cache.name}' falls back to eager: ${record.reason} at ${formatLocation(record.location)}`);
    observer?.onBreak(record, tag);
    tellBreak(state, record, event);
    if (err instanceof FrameSkipped) {
      cache.skipped = record;
      cache.skippedRun = skippedFrameRun(fn, calleeContext(compiler, options, observer, tag));
      return undefined;
    }
    if (!(err instanceof GraphBreak)) return undefined;
    const partial = partialTrace(tracer());
    if (!partial.guards) return undefined;
    const { fn: guard, source } = compileGuards(partial.guards, partial.constants);
    const entry: EagerEntry = {
      kind: 'eager',
      compileId,
      guards: partial.guards as GuardEntry[],
      guard,
      guardSource: source,
      mutableReads: partial.mutableReads,
      decisions: partial.decisions,
      compileMs: performance.now() - start,
      break: record,
    };
    entryConstants.set(entry, partial.constants);
    return entry;
  }
}

const announceWarned = new WeakSet<CodeCache>();

/**
 * Tells plugins about a new entry (hooks.frameCompiled). The entry is already in place, so a plugin failing
 * here changes nothing that runs: one warning per code location, and the call goes on.
 */
function announceEntry(compiler: Compiler, cache: CodeCache, entry: CacheEntry, compileId: number, reason: string | undefined): void {
  if (!compiler.hooks.frameCompiled.isUsed()) return;
  try {
    compiler.hooks.frameCompiled.call(compileInfo(entry, frameEvent(cache, compileId), reason));
  } catch (err) {
    if (announceWarned.has(cache)) return;
    announceWarned.add(cache);
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    logSink.write(`[kiln] warning: a plugin failed in hook 'frameCompiled' after '${cache.name}' (${cache.location}) compiled: ${message}; the compiled code runs as usual`);
  }
}

/** The public account of a new cache entry (hooks.frameCompiled): no runners or guard functions. */
function compileInfo(entry: CacheEntry, frame: FrameEvent, recompileReason: string | undefined): FrameCompileInfo {
  const guards = entry.guards.map((g) => ({ text: g.text, location: g.location }));
  const common = { frame, kind: entry.kind, recompileReason, guards, compileMs: entry.compileMs };
  if (entry.kind === 'eager') return entry.noOps ? { ...common, noOps: true } : { ...common, graphBreak: entry.break };
  return {
    ...common,
    apiGraphText: entry.apiGraphText,
    graph: entry.graph,
    backend: entry.backend,
    backendReport: entry.backendReport,
    phasesMs: entry.compilePhasesMs,
    graphBreak: entry.kind === 'split' ? entry.break : undefined,
  };
}

/** The frame's captured bindings in `C` order (frameCaptureNames without parsing the function). */
const captureNamesOf = (fn: Function): string[] => [...(functionInfo(fn)?.captures.keys() ?? [])];

/** The frame's persistent cache key (computed once per frame state), or undefined when none applies. */
function persistentKey(state: FrameState, fn: Function): PersistentCacheKey | undefined {
  if (state.persistKey !== undefined) return state.persistKey ?? undefined;
  const info = isNativeFunction(fn) ? null : functionInfo(fn);
  const { options, compiler } = state;
  const key = info && !anyMarked ? frameKey(compiler, { fn, info, options: { dynamic: options.dynamic ?? null, fullgraph: options.fullgraph ?? false, backend: options.backend } }) : undefined;
  state.persistKey = key ?? null;
  return key;
}

/**
 * What the graph-break split (trace/resume) needs from this compiler: resume code never imports the compiler,
 * compiling is injected from here. `recording(key)` compiles the graph before the break and, with a key,
 * keeps its record for the persistent cache first (`recorded()` gives it).
 */
function splitContext(state: FrameState, fn: Function, thisArg: unknown, args: unknown[], at: { compileId: number; tag: string; event: FrameEvent; start: number; observer: CompileObserver | undefined }) {
  const { compiler, options, cache } = state;
  const backend = () => backendBeforeBreak(compiler, options.backend, args);
  const context: SplitContext = {
    fn, thisArg, args, calls: compiler.calls, observer: at.observer, frameName: cache.name, cache, compileId: at.compileId, tag: at.tag, event: at.event, start: at.start,
    // A plugin failing while a graph of the split is compiled: that frame runs eagerly, the warning names it.
    // A graph before the break that holds no op only passes values on: the interpreter does, no kernels built.
    compileTrace: (trace, passed) => warnIfPlugin(cache, () => compileTrace(compiler, trace, hasTensorOps(trace.graph) ? backend() : eagerBackend.name, at.event, passed)),
    compileFunction: (resume, resumeObserver) => compileWith(resume as (...a: unknown[]) => unknown, { ...options, compiler }, resumeObserver),
    onBreak: (breakRecord) => tellBreak(state, breakRecord, at.event),
  };
  let record: FrameRecord | NotKept | undefined;
  const recording = (key: PersistentCacheKey | undefined): SplitContext['compileTrace'] => (trace, passed) => {
    if (key) record = frameRecord(fn, captureNamesOf(fn), trace);
    return context.compileTrace(trace, passed);
  };
  return { context, recording, recorded: () => record };
}

/** How eager code run by a frame reaches compiled callees: compile() with this frame's compiler and options. */
function calleeContext(compiler: Compiler, options: CompileOptions, observer: CompileObserver | undefined, tag: string): CalleeContext {
  return { compile: (callee) => compileWith(callee as (...a: unknown[]) => unknown, { ...options, compiler }, observer), calls: compiler.calls, observer, tag };
}

/**
 * Plugin failures already warned about (`location\0plugin\0hook\0what`): per code location, not per cache, so
 * explain() (a private cache) and compile() with other options of the same function do not warn again.
 */
const pluginWarned = new Set<string>();

/** A plugin that fails in a hook: one warning per plugin, hook and code location (by default the frame runs eagerly). */
function warnPluginOnce(cache: CodeCache, err: PluginError, what = 'runs eagerly'): void {
  const key = `${cache.location}\u0000${err.plugin}\u0000${err.hook}\u0000${what}`;
  if (pluginWarned.has(key)) return;
  pluginWarned.add(key);
  logSink.write(`[kiln] warning: '${cache.name}' (${cache.location}) ${what}: ${err.message.split('\n')[0]}`);
}

/** Runs `body`; a plugin's error is warned about (once) and rethrown, so the caller falls back as for any failure. */
function warnIfPlugin<T>(cache: CodeCache, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof PluginError) warnPluginOnce(cache, err);
    throw err;
  }
}

/**
 * Tells plugins about a graph break (hooks.graphBreak). The break is handled already, so a plugin failing
 * here changes nothing that runs: one warning per plugin and code location (fullgraph never gets here).
 */
function tellBreak(state: FrameState, record: BreakRecord, event: FrameEvent): void {
  try {
    state.compiler.hooks.graphBreak.call(record, event);
  } catch (err) {
    if (!(err instanceof PluginError)) throw err;
    warnPluginOnce(state.cache, err, 'breaks as usual, but a plugin failed on its graph break');
  }
}

function breakRecord(err: unknown): BreakRecord | undefined {
  if (err instanceof PluginError) return { reason: err.message.split('\n')[0]!, location: err.thrownAt, hint: err.hint };
  if (err instanceof GraphBreak) return { reason: err.reason, location: err.location, hint: err.hint };
  if (err instanceof FrameSkipped) return { reason: err.reason, location: err.location, hint: undefined };
  // A backend the caller named that cannot run here is their configuration to fix, not a silent fallback.
  if (err instanceof BackendUnavailableError || err instanceof UnknownBackendError) return undefined;
  if (process.env.KILN_TRACER_STRICT) return undefined;
  // A tracer bug must never surface as a wrong result: the frame runs eagerly and the reason says why.
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return { reason: `internal tracer error: ${message}`, location: undefined, hint: 'please report this with the function' };
}
