// Splitting a frame at a graph break (TorchDynamo's resume functions): the tracer is restarted and stops
// before the top-level statement that broke; the live locals become the graph's outputs; the statement runs
// eagerly from its own source text; the statements after it become a resume function compiled as a frame
// of its own (own frame id, guards and cache). Whatever cannot be reproduced exactly returns a reason, and
// the caller keeps the whole-frame eager fallback. A persistent cache keeps the graph before the break with
// the split point (SplitPoint); restoreSplit makes the same layout again from the parsed source.
import type { BreakRecord, CompiledTrace, CompileObserver, SplitEntry } from '../../cache.js';
import type { FrameEvent } from '../../hooks.js';
import type { PassedGraph } from '../../entry.js';
import { PluginError } from '../../hooks.js';
import { compileTag, log } from '../../logs/index.js';
import { logEntry } from '../../logs/entry.js';
import { GraphBreak, formatLocation } from '../errors.js';
import { FrameTracer } from '../frame.js';
import { parseFunction } from '../functions.js';
import type { ParsedFunction } from '../functions.js';
import { beginFrame, finishFrame, frameCaptureNames } from '../trace-frame.js';
import type { FrameTrace } from '../trace-frame.js';
import { ExternalRef, TracedFunction, isTensorValue } from '../values.js';
import type { Value } from '../values.js';
import { isRuntimeNumber } from '../runtime-number.js';
import { eagerStatement, isStrictFunction, resumeFunction } from './codegen.js';
import { callsInPlaceMethod } from './names.js';
import { methodHelper } from './method-calls.js';
import { calleeRedirect } from './callees.js';
import { resumeEntries } from './run.js';
import { NotSplittable, describeEagerPart, layoutSplit, parseForSplit } from './plan.js';
import type { SplitLayout, SplitPoint } from './plan.js';
import type { CallPolicy } from '../policy-adapter.js';
import { recordedEffects } from '../side-effects/record.js';
import { buildReplay } from '../side-effects/replay.js';
import { WeakValueMap } from '../../weak-values.js';

/** What splitting a frame needs from whoever compiles frames, whether it traces the split or restores it. */
export interface SplitContext {
  readonly fn: Function;
  readonly thisArg: unknown;
  readonly args: readonly unknown[];
  /** The frame's call policy (what eager code run at the break calls). */
  readonly calls: CallPolicy;
  readonly observer: CompileObserver | undefined;
  // Compiling is injected by whoever compiles frames (compile.ts), so resume code never imports the compiler.
  /**
   * Compiles the graph before the break with the frame's compiler and backend (`passed`: the graph after the
   * passes, kept by a persistent cache).
   */
  readonly compileTrace: (trace: FrameTrace & { readonly extra: readonly unknown[] }, passed?: PassedGraph) => CompiledTrace;
  /** compile(fn) of a resume function or a redirected callee, with the frame's compiler and options. */
  readonly compileFunction: (fn: Function, observer: CompileObserver | undefined) => Function;
  /** Tells the compiler's hooks about the break. */
  readonly onBreak: (record: BreakRecord) => void;
  readonly frameName: string;
  /** The frame's code cache: breaks are logged once per cache and break location. */
  readonly cache: { readonly frameId: number };
  readonly compileId: number;
  readonly tag: string;
  readonly event: FrameEvent;
  readonly start: number;
}

export interface SplitRequest extends SplitContext {
  /** The tracer that broke (its settings and the statement it broke in). */
  readonly tracer: FrameTracer;
  readonly record: BreakRecord;
}

export type SplitResult = { readonly entry: SplitEntry } | { readonly why: string | undefined };

/** Resume functions by generated code; the frame caches that use one hold it (weak-values.ts). */
const generated = new WeakValueMap<string, Function>();

export function splitFrame(req: SplitRequest): SplitResult {
  const k = req.tracer.topStatement;
  const parsed = parseForSplit(req.fn);
  if (k === undefined || !parsed) return { why: undefined };
  try {
    return { entry: buildSplit(req, k) };
  } catch (err) {
    if (err instanceof NotSplittable || err instanceof GraphBreak) return { why: err instanceof GraphBreak ? err.reason : err.message };
    // A plugin's error is the plugin's, not Kiln's (the frame warned about it, naming the plugin).
    if (err instanceof PluginError) return { why: err.message.split('\n')[0] };
    if (process.env.KILN_TRACER_STRICT) throw err;
    return { why: `internal error while splitting: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function buildSplit(req: SplitRequest, k: number): SplitEntry {
  const { fn } = req;
  const parsed = parseForSplit(fn)!;
  const tracer = new FrameTracer(req.tracer.settings, req.tracer.top);
  const root = beginFrame(tracer, fn, req.thisArg, req.args, k);
  if (root.kind !== 'stopped') throw new NotSplittable('the restarted trace did not reach the break');
  const captureNames = frameCaptureNames(fn);
  const inScope = new Set(root.scope.vars.keys());
  const layout = chooseLayout(parsed, captureNames, k, inScope);
  const liveValues = layout.liveNames.map((n) => root.scope.vars.get(n)!.value);
  checkLiveValues(layout.liveNames, liveValues);
  checkLiveViews(tracer, layout, liveValues);
  const effects = recordedEffects(tracer);
  const trace = finishFrame(tracer, liveValues, effects.values, true);
  const at: SplitPoint = { statementIndex: k, mode: layout.mode, inScope: [...inScope], liveNames: layout.liveNames };
  const replay = trace.extra.length ? () => buildReplay(effects, trace.extra, trace.constants) : undefined;
  return assembleSplit(req, { parsed, layout, at, trace, replay, passed: undefined, restored: false }, (resumeNames) => resumedRecord(req, layout, resumeNames));
}

/** What a split persistent cache entry keeps besides the graph before the break: where, and the break. */
export interface KeptSplit {
  readonly at: SplitPoint;
  readonly record: BreakRecord;
}

export interface RestoreRequest extends SplitContext, KeptSplit {
  /** The graph before the break and its guards, from the persistent cache (they passed on this call). */
  readonly trace: FrameTrace & { readonly extra: readonly never[] };
  readonly passed: PassedGraph | undefined;
}

/**
 * A split entry from a persistent cache's trace of the code before the break: the layout is made again from
 * the function's parsed source (the statement run eagerly, the resume functions), as buildSplit made it, so
 * the restarted trace is skipped. `why` when the layout cannot be made again (then the frame is traced).
 */
export function restoreSplit(req: RestoreRequest): SplitResult {
  const parsed = parseForSplit(req.fn);
  if (!parsed) return { why: 'the function does not parse as it did' };
  let layout: SplitLayout;
  try {
    // Which captured bindings may be reassigned is a fact of the file's text, which the cache checked is
    // unchanged, and the kept split was made only where none that the code after the break reads may be.
    layout = layoutSplit(parsed, frameCaptureNames(req.fn), req.at.statementIndex, new Set(req.at.inScope), req.at.mode, () => false);
  } catch (err) {
    if (err instanceof NotSplittable) return { why: err.message };
    throw err;
  }
  const { output } = req.trace;
  // The graph before the break outputs the live locals, one template item each, in the layout's order.
  const live = req.at.liveNames;
  const sameLive = live.length === layout.liveNames.length && live.every((n, i) => n === layout.liveNames[i]);
  if (!sameLive || output.kind !== 'array' || output.items.length !== live.length) return { why: 'the kept graph does not output the live locals of this layout' };
  // Not spread: the kept trace's graph is a getter (decoded only when read).
  const trace = req.trace;
  return { entry: assembleSplit(req, { parsed, layout, at: req.at, trace, replay: undefined, passed: req.passed, restored: true }, () => req.record) };
}

interface SplitParts {
  readonly parsed: ParsedFunction;
  readonly layout: SplitLayout;
  readonly at: SplitPoint;
  readonly trace: FrameTrace & { readonly extra: readonly unknown[] };
  /** Builds the replay of the side effects before the break (after the graph is compiled). */
  readonly replay: (() => SplitEntry['split']['effects']) | undefined;
  readonly passed: PassedGraph | undefined;
  readonly restored: boolean;
}

/** The entry from a traced or restored split: compiles the graph before the break, makes the runtime, reports. */
function assembleSplit(req: SplitContext, parts: SplitParts, breakRecord: (resumeNames: readonly string[]) => BreakRecord): SplitEntry {
  const { parsed, layout, trace } = parts;
  const tracedAt = performance.now();
  const compiled = req.compileTrace(trace, parts.passed);
  const runtime = buildRuntime(req, parsed, layout, parts.replay?.());
  const record = breakRecord(runtime.resumeNames);
  const entry: SplitEntry = {
    kind: 'split',
    compileId: req.compileId,
    ...compiled,
    get graph() {
      return compiled.graphOf();
    },
    // Tracing is both analyses: the one that met the break and the restart that stopped before it.
    // A restored split read the cache instead (`cacheLoad`, as a whole frame's does).
    compilePhasesMs: { [parts.restored ? 'cacheLoad' : 'trace']: tracedAt - req.start, ...compiled.compilePhasesMs },
    compileMs: performance.now() - req.start,
    break: record,
    constants: trace.constants,
    split: runtime.split,
    splitAt: parts.at,
  };
  reportBreak(req, record);
  // The graph before the break comes from re-running the analysis up to it: a restarted analysis, logged
  // as [frame/compile_1]; the break itself belongs to the first analysis ([frame/compile]).
  const restartTag = compileTag(req.cache.frameId, req.compileId, 1);
  logEntry(restartTag, req.frameName, () => `graph before the break in '${req.frameName}'`, entry, entry.compileMs);
  return entry;
}

function checkLiveValues(names: readonly string[], values: readonly Value[]): void {
  const seen = new Set<object>();
  const visit = (v: Value, name: string): void => {
    if (v instanceof TracedFunction) throw new NotSplittable(`local '${name}' holds a function defined in the frame, which cannot cross a graph break`);
    if (v === null || typeof v !== 'object' || v instanceof ExternalRef || isTensorValue(v) || isRuntimeNumber(v)) return;
    if (seen.has(v)) throw new NotSplittable(`an object built in the frame is reachable twice from the live locals ('${name}')`);
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, name);
  };
  names.forEach((n, i) => visit(values[i], n));
}

/**
 * A live tensor that is (or has) a view of another crosses the break as a separate graph output, so an
 * in-place write after the break would not show through it as it does in eager code.
 */
function checkLiveViews(tracer: FrameTracer, layout: SplitLayout, values: readonly Value[]): void {
  const after = [layout.eagerNode, ...layout.continuations.flatMap((c) => c.statements), ...layout.declarations];
  if (!after.some(callsInPlaceMethod)) return;
  const i = values.findIndex((v) => isTensorValue(v) && tracer.recorder.hasAliases(v));
  if (i >= 0) throw new NotSplittable(`live tensor '${layout.liveNames[i]}' may be a view of another tensor, and the code after the break writes tensors in place`);
}

/** Mirrors compile()'s backend choice: a hooks tap first, then the backend registry. */
/**
 * At a top-level `if` (a data-dependent test such as `if (x.sum().item() > 0)`, or a break inside a branch)
 * only the test runs eagerly and the branch taken is compiled in a resume function; any other break runs
 * the whole top-level statement eagerly.
 */
function chooseLayout(parsed: ParsedFunction, captureNames: readonly string[], k: number, inScope: ReadonlySet<string>): SplitLayout {
  const statement = parsed.node.body.body[k];
  if (statement?.type === 'IfStatement') {
    try {
      return layoutSplit(parsed, captureNames, k, inScope, 'test');
    } catch (err) {
      if (!(err instanceof NotSplittable)) throw err;
    }
  }
  return layoutSplit(parsed, captureNames, k, inScope, 'statement');
}

function buildRuntime(req: SplitContext, parsed: ParsedFunction, layout: SplitLayout, effects: SplitEntry['split']['effects']) {
  const source = Function.prototype.toString.call(req.fn);
  const code = { source, declarations: layout.declarations, strict: isStrictFunction(req.fn, parsed.node) };
  const eager = eagerStatement(code, layout.eagerNode, layout.eagerParams, layout.eagerReturns, layout.mode === 'test');
  const base = (/^[A-Za-z_$][\w$]*$/.test(req.frameName) ? req.frameName : 'anonymous').replace(/^compiled_/, '');
  const resumeNames: string[] = [];
  const resumes = layout.continuations.map((c) => {
    if (c.statements.length === 0) return undefined;
    const name = layout.mode === 'test' ? `${base}_resume_${layout.statementIndex}_${c.suffix}` : `${base}_resume_${layout.statementIndex + 1}`;
    resumeNames.push(name);
    // The script id names the script within this process (its URL may cost the Debugger domain).
    const key = `${parsed.info.scriptId}:${parsed.info.line}:${parsed.info.column}:${layout.statementIndex}:${layout.mode}:${c.suffix}:${source}`;
    const fn = generated.get(key) ?? generated.set(key, resumeFunction(code, name, c.statements, c.params, parsed).fn);
    carriedLocals.set(fn, new Set(c.args.flatMap((a, i) => (a.from === 'capture' ? [] : [i]))));
    return { fn: compiledResume(req, fn), args: c.args, usesThis: c.usesThis };
  });
  const wrapCallee = calleeRedirect({ compile: (callee) => req.compileFunction(callee, req.observer), calls: req.calls, observer: req.observer, tag: req.tag });
  const split = {
    eager: eager.fn,
    eagerArgs: layout.eagerArgs,
    calleeParams: layout.calleeParams,
    wrapCallee,
    method: methodHelper(wrapCallee as (fn: Function) => Function),
    test: layout.mode === 'test',
    resumes,
    eagerUsesThis: layout.eagerUsesThis,
    effects,
    // Found when an error needs it: the locator reads the script's URL.
    statementLocation: () => formatLocation(parsed.locator(layout.eagerNode.start)),
  };
  return { split, resumeNames };
}

/**
 * Resume functions → the parameters that carry the frame's locals across the break (the rest are its captured
 * bindings): the tracer takes a float among them as a runtime number from the first compile (trace/frame.ts).
 */
const carriedLocals = new WeakMap<Function, ReadonlySet<number>>();
export const carriedLocalsOf = (fn: Function): ReadonlySet<number> | undefined => carriedLocals.get(fn);

const compiledResumes = new WeakMap<object, Map<Function, Function>>();

/** One compiled resume per frame cache, so every entry of the frame (each shape, say) shares its cache. */
function compiledResume(req: SplitContext, fn: Function): Function {
  let perCache = compiledResumes.get(req.cache);
  if (!perCache) compiledResumes.set(req.cache, (perCache = new Map()));
  let compiled = perCache.get(fn);
  if (!compiled) perCache.set(fn, (compiled = req.compileFunction(fn, req.observer && resumeObserver(req.observer, fn.name))));
  return compiled;
}

function resumeObserver(observer: CompileObserver, name: string): CompileObserver {
  return {
    onEntry(entry, tag, reason) {
      // A nested resume's own observer has named the entry already.
      if (!resumeEntries.has(entry)) resumeEntries.set(entry, name);
      observer.onEntry(entry, tag, reason);
    },
    onBreak: (record, tag) => observer.onBreak(record, tag),
    onSkippedCallee: (callee) => observer.onSkippedCallee?.(callee),
  };
}

function resumedRecord(req: SplitRequest, layout: SplitLayout, resumes: readonly string[]): BreakRecord {
  const parsed = parseFunction(req.fn)!;
  const line = parsed.locator(layout.eagerNode.start).line;
  return { ...req.record, resumed: { eager: describeEagerPart(layout), line, resumes } };
}

const logged = new WeakMap<object, Set<string>>();

/** KILN_LOGS=graph_breaks prints each break once per code location (per frame cache), not once per compile. */
export function logBreakOnce(cache: object, tag: string, record: BreakRecord, message: string | (() => string)): void {
  const key = `${formatLocation(record.location)}|${record.reason}`;
  let seen = logged.get(cache);
  if (!seen) logged.set(cache, (seen = new Set()));
  if (seen.has(key)) return;
  seen.add(key);
  log('graph_breaks', tag, message);
}

function reportBreak(req: SplitContext, record: BreakRecord): void {
  const r = record.resumed!;
  const then = r.resumes.length ? `, resumes in ${r.resumes.map((n) => `'${n}'`).join(' / ')}` : '';
  // Made only when logged: the frame's location costs a fresh process the script's URL.
  logBreakOnce(req.cache, req.tag, record, () => `graph break in '${req.frameName}' (${req.event.location}): ${record.reason} at ${formatLocation(record.location)}; runs ${r.eager} (line ${r.line}) eagerly${then}`);
  req.observer?.onBreak(record, req.tag);
  req.onBreak(record);
}
