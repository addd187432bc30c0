// One cache per code location (script, position and source text of the compiled function, plus the
// options): up to `recompileLimit` entries, each a compiled guard function and what to run when it passes.
import type { GuardEntry } from './guards/builder.js';
import type { GuardFunction, InputGatherer } from './guards/codegen.js';
import type { Graph } from '@kiln/graph';
import type { BackendReport } from '@kiln/lower';
import type { CallDecision, MutableRead } from './trace/frame.js';
import type { OutputTemplate } from './trace/output-template.js';
import type { SourceLocation } from '@kiln/graph';
import type { SplitRuntime } from './trace/resume/run.js';
import type { SplitPoint } from './trace/resume/plan.js';
import type { SkippedCallee } from './trace/resume/callees.js';
import type { EffectReplay } from './trace/side-effects/replay.js';
import { readBinding } from './trace/closures.js';
import { WeakValueMap } from './weak-values.js';

export interface BreakRecord {
  readonly reason: string;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;
  /** Set when the frame split here instead of falling back: what ran eagerly and where tracing resumed. */
  readonly resumed?: { readonly eager: string; readonly line: number | undefined; readonly resumes: readonly string[] };
}

interface EntryBase {
  readonly compileId: number;
  readonly guards: readonly GuardEntry[];
  readonly guard: GuardFunction;
  readonly guardSource: string;
  readonly mutableReads: readonly MutableRead[];
  readonly decisions: readonly CallDecision[];
  readonly compileMs: number;
}

/** A captured graph, compiled by the entry's backend. */
export interface GraphEntry extends EntryBase {
  readonly kind: 'graph';
  /** The graph the tracer captured (public API calls as written), printed before passes changed it. */
  readonly apiGraphText: string;
  /** Calls per op in the captured graph (before passes and decomposition). */
  readonly apiOpCounts: Readonly<Record<string, number>>;
  /** What the backend compiled: after the graph passes and the decomposition to core ops. */
  readonly graph: Graph;
  /** Where the compile time went, in ms: `trace`, `passes`, then the backend's phases (or `backend`). */
  readonly compilePhasesMs: Readonly<Record<string, number>>;
  readonly backend: string;
  /** The backend's own account (kernels, eager fallbacks, generated code), when it gives one. */
  readonly backendReport: BackendReport | undefined;
  readonly gatherInputs: InputGatherer;
  readonly gatherOutputs: InputGatherer;
  readonly output: OutputTemplate;
  readonly run: (inputs: unknown[]) => unknown[];
  /** Side effects on outside values, replayed after the graph runs. */
  readonly effects?: EffectReplay | undefined;
  /** check() asserts: returns the index of the first failing one (in `assertTexts`), or -1. */
  readonly checkAsserts?: ((L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => number) | undefined;
  readonly assertTexts?: readonly string[] | undefined;
}

/** A frame that breaks under these guards (or holds no tensor op, `noOps`): run the function eagerly. */
export interface EagerEntry extends EntryBase {
  readonly kind: 'eager';
  readonly break: BreakRecord;
  /** The trace held no tensor op: nothing to compile (no-ops.ts); not a graph break. */
  readonly noOps?: true;
}

/**
 * A frame that breaks at a top-level statement: run the graph of the statements before it, replay their side
 * effects, run the statement eagerly, then call the (compiled) resume function for the rest.
 */
export interface SplitEntry extends Omit<GraphEntry, 'kind'> {
  readonly kind: 'split';
  readonly break: BreakRecord;
  readonly constants: readonly unknown[];
  readonly split: SplitRuntime;
  /** Where the frame split, as data (what a persistent cache keeps to make the same split again). */
  readonly splitAt: SplitPoint;
}

export type CacheEntry = GraphEntry | EagerEntry | SplitEntry;

/**
 * What compiling a finished trace gives (entry.ts); compile() and the graph-break split add the rest. Its graph
 * comes from `graphOf`: one a persistent cache kept is decoded on the first call. An entry reads it through a
 * getter written in its object literal (`get graph()`), which keeps the entry an object with fast properties
 * (one defined with defineProperty is not) and leaves the graph undecoded until read.
 */
export type CompiledTrace = Omit<GraphEntry, 'kind' | 'compileId' | 'compileMs' | 'effects' | 'graph'> & { readonly graphOf: () => Graph };

/** Observes compiles (used by explain). */
export interface CompileObserver {
  onEntry(entry: CacheEntry, tag: string, reason: string | undefined): void;
  onBreak(record: BreakRecord, tag: string): void;
  /** A skipped user function that eager code called: run as a copy with compiled callees, or as itself. */
  onSkippedCallee?(callee: SkippedCallee): void;
}

/**
 * Per compiler: who observes the compiles of every code location (`recordExplains`, which `kiln explain FILE`
 * uses), asked once per location when a compiled function sets itself up. Set by explain.ts (no import cycle).
 */
export const locationObservers = new WeakMap<object, (cache: CodeCache) => CompileObserver>();

/**
 * Observers that watch a program as it runs (`recordExplains`): compiles they observe keep the ordinary
 * per-location caches, where explain()'s own observer gets private ones. A callee or resume function compiled
 * for a location-observed frame then shares its cache with every other call of that code, as without them.
 */
export const sharedCacheObservers = new WeakSet<CompileObserver>();

export class CodeCache {
  readonly entries: CacheEntry[] = [];
  compiles = 0;
  readonly autoDynamic = new Set<string>();
  /** Set when the frame can never be traced (async, generator, no source): always eager. */
  skipped: BreakRecord | undefined;
  /** What a skipped frame runs: the function, or a copy of it whose callees are compiled (resume/callees.ts). */
  skippedRun: Function | undefined;
  limitWarned = false;
  lastReason: string | undefined;

  private locationText: string | (() => string);

  /** @param location the code location, or how to find it (its URL costs a fresh process the Debugger domain) */
  constructor(
    readonly frameId: number,
    readonly name: string,
    location: string | (() => string),
  ) {
    this.locationText = location;
  }

  get location(): string {
    if (typeof this.locationText === 'function') this.locationText = this.locationText();
    return this.locationText;
  }
}

let nextFrameId = 0;
/**
 * Code location → its cache, held weakly: the compiled functions of that code hold their cache, and once
 * the last of them is collected the cache (its entries, guards and kernels) goes too, without `reset()`.
 */
const caches = new WeakValueMap<string, CodeCache>();

/**
 * Bumped by `resetCaches()`. A compiled function set itself up for one generation; in a later one it looks
 * its cache up again (a live ESM binding: one load and compare per call).
 */
export let cacheGeneration = 0;

/** Forgets every code location's cache entries; compiled functions trace again on their next call. */
export function resetCaches(): void {
  caches.clear();
  cacheGeneration++;
}

export function cacheFor(key: string, name: string, location: string | (() => string)): CodeCache {
  return caches.get(key) ?? caches.set(key, new CodeCache(nextFrameId++, name, location));
}

/** A cache of its own (explain, tests): a frame id of its own too, so resume frames can be told apart. */
export function newPrivateCache(name: string, location: string | (() => string)): CodeCache {
  return new CodeCache(nextFrameId++, name, location);
}

const EMPTY: readonly unknown[] = [];

/** Current values of the reassignable bindings an entry depends on (inspector reads; slow path). */
export function readMutable(reads: readonly MutableRead[], frameFn: Function): readonly unknown[] {
  if (reads.length === 0) return EMPTY;
  return reads.map((r) => readBinding(r.owner === 'frame' ? frameFn : r.owner, r.scopeIndex, r.name));
}
