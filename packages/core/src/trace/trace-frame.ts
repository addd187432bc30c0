// Traces one frame: the compiled function called with concrete arguments becomes a graph, the guards that
// make it reusable, and a template that rebuilds the function's return value from the graph's outputs.
import type { ProducedAssert } from '@kiln/shapes';
import { JsEmitError, expr as shapesExpr, produceGuards, produceRuntimeAsserts, guardToJs, rangeToString, symbolSources } from '@kiln/shapes';
import type { Graph } from '@kiln/graph';
import { toGraphAsserts } from '@kiln/graph';
import type { GraphAssert } from '@kiln/graph';
import type { GuardEntry } from '../guards/builder.js';
import { sizeReads } from '../guards/failure.js';
import type { Ctx } from './context.js';
import { FrameSkipped } from './errors.js';
import { topLevelSkipReason } from './policy-adapter.js';
import { FrameTracer } from './frame.js';
import type { CallDecision, MutableRead } from './frame.js';
import type { TraceSettings } from './settings.js';
import { parseFunction } from './functions.js';
import { checkTraceable, invokeRoot } from './invoke.js';
import type { RootResult } from './invoke.js';
import { checkSingleUse, recordedEffects } from './side-effects/record.js';
import { addAliasGuards } from './side-effects/aliases.js';
import { TemplateBuilder } from './output-template.js';
import type { OutputTemplate } from './output-template.js';
import type { Value } from './values.js';

export { fillTemplate } from './output-template.js';
export type { OutputTemplate } from './output-template.js';

export interface FrameTrace {
  readonly graph: Graph;
  readonly guards: readonly GuardEntry[];
  readonly constants: readonly unknown[];
  readonly inputSources: readonly string[];
  readonly outputSources: readonly string[];
  readonly output: OutputTemplate;
  readonly mutableReads: readonly MutableRead[];
  readonly decisions: readonly CallDecision[];
  /**
   * Runtime asserts from check() over input sizes: `body` returns the index of the first failing one, or
   * -1. Asserts over data-dependent sizes are in `graph.asserts` instead.
   */
  readonly asserts: { readonly body: string; readonly texts: readonly string[] } | undefined;
  /** The graph holds a library step traced without grad (an optimizer update): it runs under noGrad. */
  readonly noGrad?: boolean;
}

/** What a frame that broke still knows: the guards under which the same break happens again. */
export interface PartialTrace {
  readonly guards: readonly GuardEntry[] | undefined;
  readonly constants: readonly unknown[];
  readonly mutableReads: readonly MutableRead[];
  readonly decisions: readonly CallDecision[];
}

export function frameCaptureNames(fn: Function): string[] {
  const parsed = parseFunction(fn);
  return parsed ? [...parsed.info.captures.keys()] : [];
}

function shapeGuards(tracer: FrameTracer): GuardEntry[] {
  return produceGuards(tracer.shapeEnv).map((g) => {
    const dim = g.kind === 'static' ? /^(.*)\.shape\[(\d+)\]$/.exec(g.sources[0] ?? '') : null;
    return {
      code: guardToJs(g),
      text: g.text,
      kind: 'shape' as const,
      location: g.location,
      staticDim: dim ? { source: dim[1]!, dim: Number(dim[2]) } : undefined,
    };
  });
}

/** Guard texts with the user's names (`L['x'].shape[0]`); the code keeps positions. */
function withUserNames(tracer: FrameTracer, guards: GuardEntry[]): GuardEntry[] {
  return guards.map((g) => {
    const text = tracer.userSource(g.text);
    if (g.kind !== 'shape') return { ...g, text };
    return { ...g, text, sizeNames: sizeReads(g.code).map((code) => [code, tracer.userSource(code)] as const) };
  });
}

/** The guards collected so far (for a cached fallback after a break), or undefined if they cannot be emitted. */
export function partialTrace(tracer: FrameTracer): PartialTrace {
  let guards: GuardEntry[] | undefined;
  try {
    guards = withUserNames(tracer, [...tracer.guards.entries, ...shapeGuards(tracer)]);
  } catch (err) {
    if (!(err instanceof JsEmitError)) throw err;
  }
  return { guards, constants: tracer.guards.constants, mutableReads: tracer.mutableReads, decisions: tracer.decisions };
}

export function newFrameTracer(fn: Function, settings: TraceSettings): FrameTracer {
  return new FrameTracer(settings, { fn, captureNames: frameCaptureNames(fn) });
}

export function traceFrame(tracer: FrameTracer, fn: Function, thisArg: unknown, args: readonly unknown[]): ReturnType<typeof finishFrame> {
  const root = beginFrame(tracer, fn, thisArg, args);
  if (root.kind !== 'returned') throw new Error('traceFrame: the frame stopped early');
  return finishFrame(tracer, root.value, recordedEffects(tracer).values);
}

/** Runs the frame symbolically (up to statement `stopAt` when given). */
export function beginFrame(tracer: FrameTracer, fn: Function, thisArg: unknown, args: readonly unknown[], stopAt?: number): RootResult {
  const parsed = parseFunction(fn);
  if (!parsed) throw new FrameSkipped(`the source of '${fn.name || 'anonymous'}' is not available (native or bound function)`, undefined);
  checkTraceable(parsed, fn.name || 'anonymous');
  const skipped = topLevelSkipReason(tracer.settings.calls.policy, fn, parsed.info.url, parsed.info.line + 1);
  if (skipped) throw new FrameSkipped(skipped, parsed.locator(parsed.node.start));
  tracer.guards.add({ code: `L.length === ${args.length}`, text: `number of arguments is ${args.length}`, kind: 'length' });
  const ctx: Ctx = { tracer, thisValue: { value: undefined }, depth: 0 };
  return tracer.withLocator(parsed.locator, () => {
    tracer.at(parsed.node);
    const argValues = args.map((a, i) => tracer.external(a, `L[${i}]`));
    const thisValue = thisArg === undefined ? undefined : tracer.external(thisArg, 'T');
    return invokeRoot(ctx, parsed, thisValue, argValues, fn, stopAt);
  });
}

/** The graph, guards and output template once the frame produced `result` (its return value or live locals). */
/**
 * @param liveLocals `result` is the live locals at a break (their views are materialized, see
 *   TemplateBuilder.of); side-effect values share outputs with the result and each other.
 */
export function finishFrame(tracer: FrameTracer, result: Value, extraOutputs: readonly Value[] = [], liveLocals = false): FrameTrace & { readonly extra: readonly OutputTemplate[] } {
  if (extraOutputs.length > 0) checkSingleUse({ tracer }, [result, ...extraOutputs]);
  addAliasGuards(tracer);
  const templates = new TemplateBuilder(tracer);
  const output = templates.of(result, !liveLocals);
  const extra = extraOutputs.map((v) => templates.of(v, true));
  const { outputs, sources: outputSources } = templates;
  const asserts = assertsOf(tracer);
  let guards: GuardEntry[];
  try {
    guards = withUserNames(tracer, [...tracer.guards.entries, ...shapeGuards(tracer)]);
  } catch (err) {
    if (err instanceof JsEmitError) throw tracer.break(`a guard cannot be emitted as JavaScript: ${err.message}`);
    throw err;
  }
  tracer.recorder.setOutput(outputs);
  const graph = tracer.recorder.graph;
  graph.symbols = tracer.shapeEnv.symbols().map((s) => ({ name: s.name, range: rangeToString(s.range), source: s.sources[0] && tracer.userSource(s.sources[0]) }));
  for (const p of graph.placeholders()) if (p.meta.inputSource) p.meta.inputSource = tracer.userSource(p.meta.inputSource);
  graph.asserts = asserts.graph;
  return {
    graph,
    guards,
    constants: tracer.guards.constants,
    inputSources: tracer.inputSources,
    outputSources,
    output,
    extra,
    mutableReads: tracer.mutableReads,
    decisions: tracer.decisions,
    asserts: asserts.prologue,
    ...(tracer.ranWithoutGrad && { noGrad: true }),
  };
}

/**
 * The shape env's runtime asserts, split by where they can run. Those over input sizes only become one JS
 * function body over the entry's roots (L, T, C, M), each symbol read from the input size it stands for,
 * run before the graph. Those that mention a data-dependent size (nonzero's row count, item()'s value)
 * travel with the graph: each backend checks them where that size is bound (ir/asserts.ts).
 */
function assertsOf(tracer: FrameTracer): { prologue: { body: string; texts: string[] } | undefined; graph: GraphAssert[] } {
  const produced = produceRuntimeAsserts(tracer.shapeEnv);
  const sources = new Map(symbolSources(tracer.shapeEnv).map((s) => [s.symbol, s.source]));
  const isUnbacked = (s: string): boolean => tracer.shapeEnv.symbolInfo(s)?.kind === 'unbacked';
  const lines: string[] = [];
  const texts: string[] = [];
  const inGraph: ProducedAssert[] = [];
  for (const a of produced) {
    const aliased = a.symbols.find((s) => sources.get(s)?.includes('U['));
    const missing = a.symbols.find((s) => !sources.has(s) && !isUnbacked(s));
    if (aliased ?? missing) throw tracer.break(`check() on ${a.text} needs ${aliased ?? missing}, a size no graph input holds; it runs eagerly`);
    if (a.symbols.some(isUnbacked)) {
      inGraph.push(a);
      continue;
    }
    lines.push(`  if (!(${shapesExpr.boolToJs(a.expr, (s) => sources.get(s)!)})) return ${texts.length};`);
    texts.push(`${a.text}${a.location ? ` (${a.location})` : ''}${a.message ? `: ${a.message}` : ''}`);
  }
  const prologue = texts.length ? { body: [...lines, '  return -1;'].join('\n'), texts } : undefined;
  return { prologue, graph: toGraphAsserts(inGraph) };
}
