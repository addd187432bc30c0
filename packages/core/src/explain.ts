// explain(fn)(...args): runs the function once through a private compile cache and reports what the
// compiler did — graphs, breaks with user source lines and hints, guards, op counts, compile times.
import type { BreakRecord, CacheEntry, GraphEntry, SplitEntry } from './cache.js';
import { KilnTypeError } from '@kiln/tensor';
import { compileWith, validateCompileOptions } from './compile.js';
import type { AotReport } from './autograd/compiled-function.js';
import type { CompileOptions } from './compile.js';
import type { EagerStepReport } from '@kiln/lower';
import { describeBackends } from './backends/registry.js';
import { getDefaultCompiler } from './compiler.js';
import { plural } from './logs/plural.js';
import type { Compiler } from './compiler.js';
import { RECOMPUTE_RULE, formatValue, printGraph, valueBytes } from '@kiln/graph';
import type { Node } from '@kiln/graph';
import { formatLocation } from './trace/errors.js';
import { resumeEntries } from './trace/resume/run.js';
import type { CallDecision } from './trace/frame.js';
import type { SkippedCallee } from './trace/resume/callees.js';
import { exportedProgramInfo } from './exported-program.js';
import type { ExplainableProgram, ExportedProgramInfo } from './exported-program.js';
import { explainProgram } from './explain-program.js';
import { persistNote } from './persist/notes.js';

export interface ExplainBreak {
  readonly reason: string;
  readonly location: string;
  readonly hint: string | undefined;
  readonly tag: string;
  /** When the frame split at this break: what ran eagerly and which resume function continues. */
  readonly resumed?: BreakRecord['resumed'];
}

export interface ExplainOutput {
  readonly result: unknown;
  /** explain(program): the exported program explained (its signature, state, dims and asserts); else empty. */
  readonly exported: readonly ExportedProgramInfo[];
  /** Each captured graph as the tracer recorded it (public API calls as written). */
  readonly graphs: readonly string[];
  /** Per graph: where it comes from (`[frame/compile]`, and the resume function or the break it ends at). */
  readonly graphOrigins: readonly string[];
  /** The same graphs after passes and decomposition: what each backend compiled. */
  readonly coreGraphs: readonly string[];
  /** Per graph: the backend that compiled it, its kernel count, the nodes run as eager steps (and why), fusions, code. */
  readonly backends: readonly ProgramReport[];
  /** The backends the compiler could use, best first: name, priority, device, availability. */
  readonly availableBackends: readonly string[];
  readonly graphCount: number;
  readonly breakCount: number;
  readonly breaks: readonly ExplainBreak[];
  /**
   * Entries whose trace held no tensor op (`[1/0] resume function 'f_resume_3'`): nothing was compiled, the
   * function runs eagerly under the entry's guards (as PT2 skips a frame with no content). Not graph breaks.
   */
  readonly noOpFrames: readonly string[];
  /** Each compile after the first, with the guard that failed (expected and actual values). */
  readonly recompiles: readonly { readonly tag: string; readonly reason: string }[];
  /**
   * With a persistent cache plugin: per entry, what the cache did (`[0/0] frame 'f' loaded from the persistent
   * cache`, or `not kept …` with the reason). Empty without one.
   */
  readonly persistentCache: readonly string[];
  /** Guard texts per cache entry. */
  readonly guards: readonly (readonly string[])[];
  readonly opCounts: Readonly<Record<string, number>>;
  readonly compileTimesMs: readonly number[];
  /** Per entry that compiled a graph: ms per phase (`trace`, `passes`, the backend's `lower` and `wasm`). */
  readonly compilePhasesMs: readonly (Readonly<Record<string, number>> | undefined)[];
  readonly decisions: readonly CallDecision[];
  /** Skipped user functions that eager code called: run as copies with compiled callees, or as themselves (why). */
  readonly skippedCallees: readonly SkippedCallee[];
  /** Graphs called with inputs that require grad: the forward and backward graphs they were split into, and what is saved. */
  readonly training: readonly TrainingGraphs[];
  /**
   * Per graph: the input tensors it writes in place (replayed after it runs), by source. A compiled
   * optimizer step's graph is such an update graph: it writes every parameter (and its state) in place.
   */
  readonly inPlaceWrites: readonly (readonly string[])[];
  toString(): string;
}

/** One forward value the backward needs: its name in the graph that holds it, its type, the op that made it. */
export interface TrainingValue {
  readonly name: string;
  /** `f32[s0, 32]`: symbolic sizes as the graph has them. */
  readonly type: string;
  readonly op: string;
  /** Bytes at the sizes the graph was traced for. */
  readonly bytes: number;
}

export interface TrainingGraphs {
  /** Index into `graphs`. */
  readonly graph: number;
  /** Graph inputs that required grad, by position. */
  readonly differentiable: readonly number[];
  /** Whether the joint graph kept symbolic sizes: one forward/backward pair for every size its guards admit. */
  readonly dynamic: boolean;
  /** The joint graph's guards over the graph's inputs (`L.args[i]`). */
  readonly guards: readonly string[];
  readonly forward: string;
  readonly backward: string;
  /** Forward values passed to the backward (node names in the forward graph), and their bytes. */
  readonly saved: readonly string[];
  readonly savedValues: readonly TrainingValue[];
  readonly savedBytes: number;
  /** Forward values the backward recomputes instead of saving them (names in the backward graph), and the bytes that saves. */
  readonly recomputed: readonly string[];
  /** The same values with their names in the forward graph. */
  readonly recomputedValues: readonly TrainingValue[];
  readonly recomputedBytes: number;
  /** Which values are saved and which recomputed, in words. */
  readonly recomputeRule: string;
  /** Kernel counts and the nodes each compiled graph runs eagerly. */
  readonly forwardKernels: number;
  readonly backwardKernels: number;
  readonly fallbacks: readonly string[];
}

const trainingValue = (n: Node): TrainingValue => ({ name: `%${n.name}`, type: formatValue(n.meta.val), op: n.kind === 'call' ? n.target : n.kind, bytes: valueBytes(n) });

function trainingGraphs(entries: readonly (GraphEntry | SplitEntry)[]): TrainingGraphs[] {
  return entries.flatMap((g, graph) =>
    ((g.run as { aotReports?: readonly AotReport[] }).aotReports ?? []).map(({ partition: p, differentiable, dynamic, guards, forwardBackend, backwardBackend }) => ({
      graph,
      differentiable,
      dynamic,
      guards,
      forward: printGraph(p.forward),
      backward: printGraph(p.backward),
      saved: p.saved.map((n) => `%${n.name}`),
      savedValues: p.saved.map(trainingValue),
      savedBytes: p.savedBytes,
      recomputed: p.recomputed.map((n) => `%${n.name}`),
      recomputedValues: p.recomputedInForward.map(trainingValue),
      recomputedBytes: p.recomputedBytes,
      recomputeRule: RECOMPUTE_RULE,
      forwardKernels: forwardBackend?.kernels ?? 0,
      backwardKernels: backwardBackend?.kernels ?? 0,
      fallbacks: [
        ...(forwardBackend?.eagerSteps ?? []).map((f) => `forward: ${f.op} (${f.reason})`),
        ...(backwardBackend?.eagerSteps ?? []).map((f) => `backward: ${f.op} (${f.reason})`),
        ...[forwardBackend?.wholeGraphFallback, backwardBackend?.wholeGraphFallback].filter((w): w is string => !!w).map((w) => `not lowered: ${w}`),
      ],
    })),
  );
}

export interface ProgramReport {
  readonly backend: string;
  readonly kernels: number;
  readonly eagerSteps: readonly EagerStepReport[];
  readonly fusions?: Readonly<Record<string, number>>;
  readonly wholeGraphFallback?: string;
  readonly code?: string;
}

const hasOps = (e: GraphEntry | SplitEntry): boolean => e.graph.nodes.some((n) => n.kind === 'call');

/** Collects what compiles did (explain and tests use it). */
export class CompileRecorder {
  readonly entries: { entry: CacheEntry; tag: string; reason: string | undefined }[] = [];
  readonly breaks: ExplainBreak[] = [];
  readonly skippedCallees: SkippedCallee[] = [];

  onEntry(entry: CacheEntry, tag: string, reason: string | undefined): void {
    this.entries.push({ entry, tag, reason });
  }

  onBreak(record: BreakRecord, tag: string): void {
    this.breaks.push({ reason: record.reason, location: formatLocation(record.location), hint: record.hint, tag, ...(record.resumed ? { resumed: record.resumed } : {}) });
  }

  onSkippedCallee(callee: SkippedCallee): void {
    if (!this.skippedCallees.some((c) => c.name === callee.name && c.location === callee.location)) this.skippedCallees.push(callee);
  }

  /** Graphs compiled: whole frames, and parts of split frames (before a break, resume functions) that hold an op. */
  get graphCount(): number {
    return this.graphEntries().length;
  }

  private graphEntries(): (GraphEntry | SplitEntry)[] {
    return this.entries.flatMap((e) => (e.entry.kind === 'graph' && (!resumeEntries.has(e.entry) || hasOps(e.entry))) || (e.entry.kind === 'split' && hasOps(e.entry)) ? [e.entry] : []);
  }

  /** Compiles after the first (each caused by a guard failure). */
  get recompiles(): number {
    return Math.max(0, this.entries.length - 1);
  }

  report(result: unknown, compiler: Compiler = getDefaultCompiler()): ExplainOutput {
    const graphEntries = this.graphEntries();
    const tags = new Map(this.entries.map((e) => [e.entry, e.tag] as const));
    const origin = (g: GraphEntry | SplitEntry): string => {
      const resume = resumeEntries.get(g);
      const where = resume ? `resume function '${resume}'` : g.kind === 'split' ? `before the break at ${formatLocation(g.break.location)}` : 'whole frame';
      return `${tags.get(g) ?? ''} ${where}`.trim();
    };
    const opCounts: Record<string, number> = {};
    for (const g of graphEntries) for (const [op, n] of Object.entries(g.apiOpCounts)) opCounts[op] = (opCounts[op] ?? 0) + n;
    const graphs = graphEntries.map((g) => g.apiGraphText);
    const out: ExplainOutput = {
      result,
      exported: [],
      graphs,
      graphOrigins: graphEntries.map(origin),
      coreGraphs: graphEntries.map((g) => printGraph(g.graph)),
      backends: graphEntries.map((g) => ({
        backend: g.backend,
        kernels: g.backendReport?.kernels ?? 0,
        eagerSteps: g.backendReport?.eagerSteps ?? [],
        ...(g.backendReport?.fusions ? { fusions: g.backendReport.fusions } : {}),
        ...(g.backendReport?.wholeGraphFallback ? { wholeGraphFallback: g.backendReport.wholeGraphFallback } : {}),
        ...(g.backendReport?.code ? { code: g.backendReport.code } : {}),
      })),
      availableBackends: describeBackends(compiler.backends()),
      graphCount: graphs.length,
      breakCount: this.breaks.length,
      breaks: [...this.breaks],
      noOpFrames: this.entries.flatMap((e) => (e.entry.kind === 'eager' && e.entry.noOps ? [`${e.tag} ${resumeEntries.has(e.entry) ? `resume function '${resumeEntries.get(e.entry)}'` : 'whole frame'}`] : [])),
      recompiles: this.entries.flatMap((e) => (e.reason ? [{ tag: e.tag, reason: e.reason }] : [])),
      persistentCache: this.entries.flatMap((e) => {
        const note = persistNote(e.entry);
        return note ? [`${e.tag} ${note}`] : [];
      }),
      guards: this.entries.map((e) => e.entry.guards.map((g) => g.text)),
      opCounts,
      compileTimesMs: this.entries.map((e) => e.entry.compileMs),
      compilePhasesMs: this.entries.map((e) => ('compilePhasesMs' in e.entry ? e.entry.compilePhasesMs : undefined)),
      decisions: this.entries.flatMap((e) => e.entry.decisions),
      skippedCallees: [...this.skippedCallees],
      training: trainingGraphs(graphEntries),
      inPlaceWrites: graphEntries.map((g) => g.effects?.inPlaceWrites ?? []),
      toString: () => formatExplain(out),
    };
    return out;
  }
}

const quoteList = (names: readonly string[], one: string, many: string): string | undefined =>
  names.length === 0 ? undefined : `${names.length === 1 ? one : many} ${names.map((n) => `'${n}'`).join(' / ')}`;

/** Why callbacks stay eager: a skipped callee may store, compare or unregister the function it was given. */
const CALLEES_NOTE =
  'user functions it calls by name or as methods run compiled where the policy inlines them (inside functions the user skips too); function values passed as arguments run as they are (their identity is observable)';

const DEFAULT_HINT = 'move this code out of the compiled function, or after its last tensor operation';

function formatExplain(e: ExplainOutput): string {
  const lines = [`Backends: ${e.availableBackends.join('; ')}`, `Graph count: ${e.graphCount}`, `Graph break count: ${e.breakCount}`];
  for (const p of e.exported) lines.push(`Exported program '${p.name}':`, ...p.text.split('\n').map((l) => `  ${l}`));
  e.breaks.forEach((b, i) => {
    lines.push(`Break ${i + 1} ${b.tag}: ${b.reason}`, `  at ${b.location}`, `  hint: ${b.hint ?? DEFAULT_HINT}`);
    const r = b.resumed;
    if (r) {
      lines.push(`  runs ${r.eager} (line ${r.line ?? '?'}) eagerly; ${quoteList(r.resumes, 'resume function', 'resume functions') ?? 'nothing follows it'}`);
      lines.push(`  ${CALLEES_NOTE}`);
    } else lines.push('  the whole frame runs eagerly');
  });
  if (e.noOpFrames.length) lines.push(`No tensor ops, nothing compiled (runs eagerly under its guards): ${e.noOpFrames.join(', ')}`);
  for (const r of e.recompiles) lines.push(`Recompile ${r.tag}: ${r.reason}`);
  for (const c of e.skippedCallees) lines.push(`Skipped function '${c.name}' (${c.location}) runs eagerly ${c.copied ? 'as a copy' : 'as it is'}: ${c.reason}`);
  const resumes = e.breaks.flatMap((b) => b.resumed?.resumes ?? []);
  if (resumes.length) lines.push(`Resume functions: ${[...new Set(resumes)].join(', ')}`);
  e.graphs.forEach((g, i) => {
    lines.push(`Graph ${i + 1} ${e.graphOrigins[i] ?? ''}:`, ...g.split('\n').map((l) => `  ${l}`));
    const b = e.backends[i];
    if (!b) return;
    lines.push(`  compiled by backend ${b.backend}: ${plural(b.kernels, 'kernel')}`);
    const fusions = Object.entries(b.fusions ?? {});
    if (fusions.length) lines.push(`  fusion rules: ${fusions.map(([rule, n]) => `${rule} ×${n}`).join(', ')}`);
    if (b.wholeGraphFallback) lines.push(`  not lowered (interpreted): ${b.wholeGraphFallback}`);
    const writes = e.inPlaceWrites[i] ?? [];
    if (writes.length) lines.push(`  writes in place (an update graph): ${writes.join(', ')}`);
    for (const f of b.eagerSteps) lines.push(`  eager step: ${f.node ? `%${f.node} = ` : ''}${f.op} (${f.reason})`);
  });
  for (const t of e.training) lines.push(...formatTraining(t));
  if (e.persistentCache.length) lines.push('Persistent cache:', ...e.persistentCache.map((n) => `  ${n}`));
  e.guards.forEach((gs, i) => lines.push(`Guards of entry ${i + 1}:`, ...gs.map((g) => `  ${g}`)));
  const calls = e.decisions.filter((d) => d.kind !== 'allowInGraph');
  if (calls.length) lines.push('Calls:', ...calls.map((d) => `  ${d.callee}: ${d.kind} (${d.rule}) at ${formatLocation(d.location)}`));
  lines.push(`Ops: ${Object.entries(e.opCounts).map(([k, v]) => `${k}×${v}`).join(', ') || 'none'}`);
  const phases = (i: number) => {
    const p = e.compilePhasesMs[i];
    return p ? ` (${Object.entries(p).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', ')})` : '';
  };
  lines.push(`Compile times: ${e.compileTimesMs.map((t, i) => `${t.toFixed(1)} ms${phases(i)}`).join(', ')}`);
  return lines.join('\n');
}

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const listValues = (vs: readonly TrainingValue[]) => vs.map((v) => `${v.name} ${v.type} (${v.op})`).join(', ') || 'nothing';

function formatTraining(t: TrainingGraphs): string[] {
  const total = t.savedBytes + t.recomputedBytes;
  const share = total > 0 ? ` (${((100 * t.recomputedBytes) / total).toFixed(0)}% of saving them all)` : '';
  return [
    `Graph ${t.graph + 1} with gradients (inputs ${t.differentiable.map((i) => `#${i}`).join(', ')} require grad), ${t.dynamic ? 'dynamic: one forward/backward pair for every size its guards admit' : 'for these sizes'}:`,
    `  saved for the backward, ${kib(t.savedBytes)} at the traced sizes: ${listValues(t.savedValues)}`,
    `  recomputed in the backward instead (forward names), ${kib(t.recomputedBytes)} not kept${share}: ${listValues(t.recomputedValues)}`,
    `  rule: ${t.recomputeRule}`,
    `  guards: ${t.guards.join(', ') || 'none'}`,
    `  forward graph (${plural(t.forwardKernels, 'kernel')}):`, ...t.forward.split('\n').map((l) => `    ${l}`),
    `  backward graph (${plural(t.backwardKernels, 'kernel')}):`, ...t.backward.split('\n').map((l) => `    ${l}`),
    ...t.fallbacks.map((f) => `  eager fallback in ${f}`),
  ];
}


/**
 * explain(fn)(...args): runs fn once through a private cache and reports what the compiler did.
 * explain(program): an exported program (@kiln/export's exportProgram or loadProgram/readProgram result):
 * its signature, lifted state, dims with ranges and runtime asserts, and what the backend makes of its graph.
 */
export function explain(program: ExplainableProgram, options?: Pick<CompileOptions, 'backend' | 'compiler'>): ExplainOutput;
export function explain<F extends (...args: any[]) => any>(fn: F, options?: CompileOptions): (...args: Parameters<F>) => ExplainOutput;
export function explain(fn: unknown, options: CompileOptions = {}): unknown {
  const program = exportedProgramInfo(fn);
  if (program) {
    validateCompileOptions(options, 'explain');
    const out: ExplainOutput = { ...explainProgram(program, options), toString: () => formatExplain(out) };
    return out;
  }
  // Checked here, not at the first call: `explain(fn)` alone would otherwise accept anything.
  if (typeof fn !== 'function') throw new KilnTypeError(`explain() expects a function or an exported program, got ${fn === null ? 'null' : typeof fn}`, 'call explain(fn)(...args) with the function itself, or explain(program) with an exported program');
  validateCompileOptions(options, 'explain');
  return (...args: unknown[]) => {
    const recorder = new CompileRecorder();
    const compiled = compileWith(fn as (...a: unknown[]) => unknown, options, recorder);
    const result = compiled(...args);
    return recorder.report(result, options.compiler ?? getDefaultCompiler());
  };
}
