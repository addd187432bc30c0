// The frame level of the persistent cache: a traced frame (its API graph, guards, output template and how to
// find its constants again) kept for a later process, which then skips the tracer, the inspector reads and
// the parses. On load every constant is found again and re-checked (recipes.ts), and then every guard runs
// on the live function's values: any difference is a miss, and the frame is traced as if nothing was kept.
// A frame that splits at a graph break keeps the graph before the break (its outputs are the live locals)
// with where it split (`split`): the statement run eagerly and the resume functions are made again from the
// function's parsed source, and each resume function is a frame of its own with its own entry. Not kept:
// side effects on outside values, or bindings of other functions read on every call (those need the live
// objects of the process that traced them); frameRecord says why for each frame it refuses, and compile()
// logs it (KILN_LOGS=cache) and explain shows it.
import { deserializeGraph, serializeGraph } from '@kiln/graph';
import type { Graph, GraphJson } from '@kiln/graph';
import type { GraphEntry } from '../cache.js';
import type { Compiler } from '../compiler.js';
import { compileGuards, guardsFromSource } from '../guards/codegen.js';
import type { PersistentCacheKey } from '../hooks.js';
import { onlyBuiltinGraphHooks } from '../entry.js';
import type { PassedGraph } from '../entry.js';
import type { MutableRead } from '../trace/frame.js';
import type { FunctionInfo } from '../trace/closures.js';
import type { FrameTrace, OutputTemplate } from '../trace/trace-frame.js';
import type { KeptSplit } from '../trace/resume/split.js';
import { resumeOrigin } from '../trace/resume/codegen.js';
import { frameKeyBase, keyJson } from './key.js';
import { decodePayload, encodePayload } from './payload.js';
import { graphDigest, isRegistryOp, keyTargets } from './backend-cache.js';
import type { KeptGraph } from './backend-cache.js';
import { FunctionChecks, constantRecipes, functionPrint, resolveConstants } from './recipes.js';
import type { FunctionPrint, Recipe } from './recipes.js';

/** A trace as data: its graph as JSON, its constants as recipes, its reads of the frame's own bindings. */
export interface FrameRecord extends Pick<FrameTrace, 'guards' | 'inputSources' | 'outputSources' | 'output' | 'decisions' | 'asserts'> {
  readonly format: 1;
  readonly top: FunctionPrint;
  readonly captureNames: readonly string[];
  /** The captured graph; left out where `passed` is kept (a later process with the same key uses that). */
  readonly graph?: GraphJson;
  readonly recipes: readonly Recipe[];
  readonly mutableReads: readonly { readonly scopeIndex: number; readonly name: string }[];
  /** The guard function's source, as compileGuards wrote it for `guards`. */
  readonly guardSource?: string;
  /**
   * The graph after the built-in passes, the digest of its JSON (the backend entry's key: graphDigest), its
   * call targets (keyTargets: a later process keys it without decoding it), and the API graph's printed form
   * and op counts (explain's).
   */
  readonly passed?: {
    readonly graph: GraphJson;
    readonly digest: string;
    readonly targets?: readonly string[];
    readonly apiGraphText: string;
    readonly apiOpCounts: Readonly<Record<string, number>>;
  };
  /** Set when the graph is the code before a graph break: where the frame split, and the break. */
  readonly split?: KeptSplit;
}

export interface FrameKeyParts {
  readonly fn: Function;
  readonly info: FunctionInfo;
  readonly options: Readonly<Record<string, unknown>>;
}

/** The frame's key, or undefined when no cache taps the hooks or this compiler cannot be keyed. */
export function frameKey(compiler: Compiler, parts: FrameKeyParts): PersistentCacheKey | undefined {
  const { compileCacheLoad, compileCacheStore } = compiler.hooks;
  if (!compileCacheLoad.isUsed() && !compileCacheStore.isUsed()) return undefined;
  const base = frameKeyBase(compiler);
  if (!base) return undefined;
  const { fn, info, options } = parts;
  // A resume function's own position is in a script made at run time: the user function's is in the key.
  const origin = resumeOrigin(fn);
  const from = origin && { line: origin.line, column: origin.column };
  const text = keyJson({ ...base, frame: Function.prototype.toString.call(fn), line: info.line, column: info.column, ...(from ? { from } : {}), options });
  return { kind: 'frame', text, label: `frame '${fn.name || 'anonymous'}'` };
}

/** Whether an output template is data a later process can use as it is (no live objects in it). */
function plainTemplate(t: OutputTemplate): boolean {
  switch (t.kind) {
    case 'graph':
    case 'source':
      return true;
    case 'const':
      return t.value === null || (typeof t.value !== 'object' && typeof t.value !== 'function' && typeof t.value !== 'symbol');
    case 'array':
      return t.items.every(plainTemplate);
    case 'object':
      return t.entries.every(([, v]) => plainTemplate(v)) && (!t.proto || plainTemplate(t.proto));
    case 'arith':
      return t.items.every(plainTemplate);
    case 'view':
      return [t.base, t.offset, ...t.shape, ...t.strides].every(plainTemplate);
    case 'tree':
      return false;
    default:
      return t satisfies never;
  }
}

/** A frame the cache does not keep, and why (KILN_LOGS=cache and explain print it). */
export interface NotKept {
  readonly notKept: string;
}

/**
 * What to keep of a finished trace, made before compileTrace runs the passes (they edit the graph in place),
 * or why the frame cannot be kept: whatever a later process could not rebuild from data alone.
 */
export function frameRecord(fn: Function, captureNames: readonly string[], trace: FrameTrace & { readonly extra: readonly unknown[] }): FrameRecord | NotKept {
  if (trace.extra.length) return { notKept: 'it changes values from outside the frame: the replay of those side effects is built from objects the tracer recorded in this process, which no entry can name yet' };
  if (trace.mutableReads.some((r: MutableRead) => r.owner !== 'frame')) return { notKept: "it reads reassignable bindings (let/var) of other functions, which only this process's closures reach" };
  if (!plainTemplate(trace.output)) return { notKept: 'it returns live objects of this process (functions, class instances or pytree nodes), not only tensors, numbers and plain arrays and objects' };
  // A node another process cannot resolve by name (a user function put in the graph as one opaque node).
  if (trace.graph.nodes.some((n) => n.kind === 'call' && !isRegistryOp(n.target))) return { notKept: 'its graph holds a function put in the graph as one node (allowInGraph), which another process cannot find by name' };
  const top = functionPrint(fn);
  if (!top) return { notKept: 'its source cannot be found again in its file (code made at run time, such as a resume function, or a loader that transforms the file)' };
  const recipes = constantRecipes(trace.constants, trace.guards);
  if (!recipes) return { notKept: 'a value its guards compare against cannot be found again by name in a later process' };
  let graph: GraphJson;
  try {
    graph = serializeGraph(trace.graph);
  } catch (err) {
    return { notKept: `its graph cannot be written (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
  return {
    format: 1,
    top,
    captureNames: [...captureNames],
    graph,
    guards: trace.guards.map((g) => ({ ...g })),
    recipes,
    inputSources: trace.inputSources,
    outputSources: trace.outputSources,
    output: trace.output,
    mutableReads: trace.mutableReads.map((r) => ({ scopeIndex: r.scopeIndex, name: r.name })),
    // What explain shows of each call; the live op and polyfill objects stay behind.
    decisions: trace.decisions.map((d) => ({ callee: d.callee, location: d.location, kind: d.kind, rule: d.rule, reason: d.reason })),
    asserts: trace.asserts,
  };
}

/** Records kept per key: one per set of inputs seen (shapes, captured values), newest first. */
const KEPT_PER_KEY = 8;

/** What a key's file holds: the records of that frame, newest first, as PT2 keeps guarded entries per code. */
interface FramePayload {
  readonly format: 1;
  readonly records: readonly FrameRecord[];
}

/**
 * Offers the key's records to the cache plugins with `record` first (nothing when it cannot be stored),
 * with the graph the passes made when only Kiln's own passes ran (a later process may then skip them).
 * @param kept the records read for this key before tracing (other inputs' entries stay).
 */
export function storeFrame(compiler: Compiler, key: PersistentCacheKey, record: FrameRecord | NotKept | undefined, compiled: Pick<GraphEntry, 'graph' | 'apiGraphText' | 'apiOpCounts' | 'guardSource'>, kept: readonly FrameRecord[]): void {
  if (!record || 'notKept' in record) return;
  let payload: Uint8Array;
  try {
    const json = onlyBuiltinGraphHooks(compiler) ? serializeGraph(compiled.graph) : undefined;
    const passed = json && { graph: json, digest: graphDigest(json), targets: keyTargets(compiled.graph), apiGraphText: compiled.apiGraphText, apiOpCounts: compiled.apiOpCounts };
    const records = [{ ...record, guardSource: compiled.guardSource, ...(passed ? { passed, graph: undefined } : {}) }, ...kept].slice(0, KEPT_PER_KEY);
    payload = encodePayload({ format: 1, records } satisfies FramePayload);
  } catch {
    return;
  }
  compiler.hooks.compileCacheStore.call(key, payload);
}

/** `record` with where its frame split (a split entry's), for storeFrame. */
export function withSplit(record: FrameRecord | NotKept | undefined, split: KeptSplit): FrameRecord | NotKept | undefined {
  return record && !('notKept' in record) ? { ...record, split: { at: split.at, record: split.record } } : record;
}

function isSplit(s: KeptSplit | undefined): boolean {
  if (s === undefined) return true;
  const { at, record } = s;
  return (
    typeof at === 'object' && at !== null && Number.isInteger(at.statementIndex) && (at.mode === 'statement' || at.mode === 'test') &&
    [at.inScope, at.liveNames].every((names) => Array.isArray(names) && names.every((n) => typeof n === 'string')) && typeof record === 'object' && record !== null && typeof record.reason === 'string'
  );
}

const DIGEST = /^[0-9a-f]{64}$/;

function isPassed(p: NonNullable<FrameRecord['passed']>): boolean {
  return DIGEST.test(p.digest) && (p.targets === undefined || (Array.isArray(p.targets) && p.targets.every((t) => typeof t === 'string')));
}

function isRecord(x: unknown): x is FrameRecord {
  const r = x as FrameRecord;
  return (
    typeof r === 'object' && r !== null && r.format === 1 && Array.isArray(r.guards) && Array.isArray(r.recipes) && Array.isArray(r.captureNames) &&
    typeof (r.passed?.graph ?? r.graph) === 'object' && (r.passed === undefined || isPassed(r.passed)) && isSplit(r.split)
  );
}

function isPayload(x: unknown): x is FramePayload {
  const p = x as FramePayload;
  return typeof p === 'object' && p !== null && p.format === 1 && Array.isArray(p.records) && p.records.every(isRecord);
}

export interface LiveFrame {
  readonly L: unknown[];
  readonly T: unknown;
  readonly C: readonly unknown[];
  readonly readMutable: (reads: readonly MutableRead[]) => readonly unknown[];
}

/** A trace from the cache: it has no extra outputs (a frame with side effects on outside values is not kept). */
export type KeptTrace = FrameTrace & { readonly extra: readonly never[] };

export type LoadedFrame =
  /** `split`: the trace is the code before a graph break, and the frame splits there. */
  | { readonly trace: KeptTrace; readonly passed: PassedGraph | undefined; readonly split: KeptSplit | undefined }
  /** Nothing usable: why (for the `cache` log), and the records read (kept when the new one is stored). */
  | { readonly stale: string; readonly kept: readonly FrameRecord[] };

/**
 * A trace for this call from the cache, or undefined when nothing is kept for the key. A record is used only
 * when it describes this very function, its constants are found again, and all its guards pass on this call.
 */
export function loadFrame(compiler: Compiler, key: PersistentCacheKey, fn: Function, captureNames: readonly string[], live: LiveFrame): LoadedFrame | undefined {
  const payload = compiler.hooks.compileCacheLoad.call(key);
  if (!payload) return undefined;
  let records: readonly FrameRecord[];
  try {
    const decoded = decodePayload(payload);
    if (!isPayload(decoded)) return { stale: 'the entry has another layout', kept: [] };
    records = decoded.records;
  } catch (err) {
    // Unreadable: a miss, never an error.
    return { stale: `the entry cannot be read back (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`, kept: [] };
  }
  const reasons: string[] = [];
  for (const record of records) {
    const found = useRecord(compiler, record, fn, captureNames, live);
    if ('trace' in found) return found;
    reasons.push(found.stale);
  }
  return { stale: reasons.join('; '), kept: records };
}

/** Entries are checksummed and keyed by Kiln's code stamps: their graphs are what serializeGraph wrote. */
const TRUSTED = { madeByThisCode: true } as const;

/**
 * The kept graph after the passes, decoded when first read. A cached compile whose backend program is kept
 * too never reads it (the backend key is its digest and targets), unless explain, a plugin or an eager step
 * does. Reading it later is as safe as reading it now: the JSON is checksummed and was written by
 * serializeGraph of this same build (Kiln's stamp is in the key), so it fails only on a Kiln bug either way.
 */
function passedGraph(kept: NonNullable<FrameRecord['passed']>, guards: ReturnType<typeof compileGuards>): PassedGraph {
  let decoded: Graph | undefined;
  const graph: KeptGraph = { graph: () => (decoded ??= deserializeGraph(kept.graph, undefined, TRUSTED)), digest: kept.digest, targets: kept.targets };
  return { graph, apiGraphText: kept.apiGraphText, apiOpCounts: kept.apiOpCounts, compiledGuards: guards };
}

function useRecord(compiler: Compiler, record: FrameRecord, fn: Function, captureNames: readonly string[], live: LiveFrame): LoadedFrame | { readonly stale: string } {
  try {
    const changed = { stale: 'the function, its file or its captured values changed' };
    const checks = new FunctionChecks();
    if (!checks.add(fn, record.top)) return changed;
    if (record.captureNames.length !== captureNames.length || record.captureNames.some((n, i) => n !== captureNames[i])) return { stale: 'the function captures other bindings' };
    const mutableReads: MutableRead[] = record.mutableReads.map((r) => ({ owner: 'frame', scopeIndex: r.scopeIndex, name: r.name }));
    const M = live.readMutable(mutableReads);
    const K = resolveConstants(record.recipes, { L: live.L, T: live.T, C: live.C, M }, checks);
    const differs = K ? checks.verify() : undefined;
    if (differs === fn) return changed;
    if (!K || differs) return { stale: 'a function or object the trace relied on is missing or changed' };
    // The source compileGuards made in the process that traced: the same guards, without writing it again.
    const guards = typeof record.guardSource === 'string' ? guardsFromSource(record.guardSource, K) : compileGuards(record.guards, K);
    const failed = guards.fn(live.L, live.T, live.C, M);
    if (failed >= 0) return { stale: `guard failed: ${record.guards[failed]!.text}` };
    const passed = record.passed && onlyBuiltinGraphHooks(compiler) ? passedGraph(record.passed, guards) : undefined;
    // With `passed`, compileTrace never reads the captured graph: the trace's stands for it, decoded if read.
    const graph = passed ? undefined : record.graph && deserializeGraph(record.graph, undefined, TRUSTED);
    if (!passed && !graph) return { stale: 'the entry keeps only the graph after the passes, and a plugin now watches or adds graph passes' };
    const trace: KeptTrace = {
      get graph() {
        return passed ? passed.graph.graph() : graph!;
      },
      guards: record.guards,
      constants: K,
      inputSources: record.inputSources,
      outputSources: record.outputSources,
      output: record.output,
      mutableReads,
      decisions: record.decisions,
      asserts: record.asserts,
      extra: [],
    };
    return { trace, passed, split: record.split };
  } catch (err) {
    return { stale: `the entry cannot be used (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}
