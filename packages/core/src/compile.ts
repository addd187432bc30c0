// compile(fn): the user entry point. Each call looks up the code location's cache (guards first); a miss
// traces the frame into a graph (or records why it must run eagerly) and adds an entry, up to the limit.
// The per-function state and what a miss reads from the cache are in frame-state.ts; what plugins and
// observers are told, in frame-events.ts.
import { KilnTypeError } from '@kiln/tensor';
import { eagerBackend } from './backends/registry.js';
import { CheckFailedError } from '@kiln/shapes';
import { cacheGeneration, readMutable, resetCaches, sharedCacheObservers } from './cache.js';
import type { CacheEntry, CompileObserver, EagerEntry, GraphEntry } from './cache.js';
import { compileGuards } from './guards/codegen.js';
import type { GuardEntry } from './guards/builder.js';
import { checkLogSettings, compileTag, log, logSink } from './logs/index.js';
import { logEntry } from './logs/entry.js';
import { plural } from './logs/plural.js';
import { NO_OPS_REASON, hasTensorOps, noOpsEntry } from './no-ops.js';
import { FrameSkipped, FullGraphError, GraphBreak, formatLocation } from './trace/errors.js';
import { boundParts } from './trace/closures.js';
import { debuggerHeld, releaseIfIdle } from './trace/inspector.js';
import { getDefaultCompiler } from './compiler.js';
import type { Compiler } from './compiler.js';
import { PluginError } from './hooks.js';
import { describeValue, validateCompileOptions } from './compile-options.js';
import type { CompileOptions } from './compile-options.js';
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
import { frameRecord, storeFrame, withSplit } from './persist/frame-cache.js';
import type { FrameRecord, NotKept } from './persist/frame-cache.js';
import { restoreTrace, restoredSplit, storeSplit } from './persist/frame-restore.js';
import type { RestoredTrace } from './persist/frame-restore.js';
import { notePersist } from './persist/notes.js';
import type { FrameEvent, PersistentCacheKey } from './hooks.js';
import { captureNamesOf, entryConstants, markChanged, missReason, persistentKey, setupFrameState } from './frame-state.js';
import type { FrameState } from './frame-state.js';
import { announceEntry, breakRecord, frameEvent, tellBreak, warnIfPlugin, warnPluginOnce } from './frame-events.js';
import { markedDimsOf } from './mark-dynamic.js';

export type { CompileOptions } from './compile-options.js';
export { validateCompileOptions } from './compile-options.js';
export type { BreakRecord, CompileObserver } from './cache.js';
export { markDynamic } from './mark-dynamic.js';

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
    if (state === undefined || state.generation !== cacheGeneration) state = setupFrameState(fn, options, observer !== undefined && !sharedCacheObservers.has(observer));
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
    markedDynamic: markedDimsOf,
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

