// Traces one frame: the compiled function called with concrete arguments becomes a graph, the guards that
// make it reusable, and a template that rebuilds the function's return value from the graph's outputs.
import type { ProducedAssert } from '@kiln/shapes';
import { JsEmitError, expr as shapesExpr, isSymBool, isSymFloat, isSymInt, produceGuards, produceRuntimeAsserts, guardToJs, rangeToString, symbolSources } from '@kiln/shapes';
import { treeFlatten, treeUnflatten } from '@kiln/pytree';
import type { TreeSpec } from '@kiln/pytree';
import type { Graph } from '../ir/graph.js';
import { toGraphAsserts } from '../ir/asserts.js';
import type { GraphAssert } from '../ir/asserts.js';
import type { GuardEntry } from '../guards/builder.js';
import type { Ctx } from './context.js';
import { FrameSkipped } from './errors.js';
import { topLevelSkipReason } from './policy-adapter.js';
import { FrameTracer } from './frame.js';
import type { CallDecision, MutableRead, TraceSettings } from './frame.js';
import { parseFunction } from './functions.js';
import { checkTraceable, invokeRoot } from './invoke.js';
import type { RootResult } from './invoke.js';
import { GraphValue, checkSingleUse, recordedEffects } from './side-effects/record.js';
import { addAliasGuards } from './side-effects/aliases.js';
import { concrete } from './sym-ops.js';
import { applyArith, isRuntimeNumber } from './runtime-number.js';
import type { ArithOp, NumberExpr } from './runtime-number.js';
import { ExternalRef, isTensorValue } from './values.js';
import type { Value } from './values.js';

/** How to rebuild the return value: graph outputs by index, constants, live values by source. */
export type OutputTemplate =
  | { readonly kind: 'graph'; readonly index: number }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'source'; readonly index: number }
  | { readonly kind: 'array'; readonly items: readonly OutputTemplate[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, OutputTemplate])[] }
  /** A runtime number (runtime-number.ts): computed from values read when the entry runs. */
  | { readonly kind: 'arith'; readonly op: ArithOp; readonly items: readonly OutputTemplate[] }
  /** Any other pytree node (a Map, a class registered with @kiln/pytree): its spec, and its leaves' templates. */
  | { readonly kind: 'tree'; readonly spec: TreeSpec; readonly items: readonly OutputTemplate[] };

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

/** The guards collected so far (for a cached fallback after a break), or undefined if they cannot be emitted. */
export function partialTrace(tracer: FrameTracer): PartialTrace {
  let guards: GuardEntry[] | undefined;
  try {
    guards = [...tracer.guards.entries, ...shapeGuards(tracer)];
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
  const skipped = topLevelSkipReason(fn, parsed.info.url, parsed.info.line + 1);
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
 * @param shareResult one output per tensor inside `result` too (live locals at a break); a return value
 *   keeps one output per occurrence. Side-effect values always share with the result and each other.
 */
export function finishFrame(tracer: FrameTracer, result: Value, extraOutputs: readonly Value[] = [], shareResult = false): FrameTrace & { readonly extra: readonly OutputTemplate[] } {
  if (extraOutputs.length > 0) checkSingleUse({ tracer }, [result, ...extraOutputs]);
  addAliasGuards(tracer);
  const outputs: Value[] = [];
  const outputSources: string[] = [];
  const shared = new Map<Value, number>();
  const output = templateOf(tracer, result, outputs, outputSources, shareResult ? shared : undefined);
  outputs.forEach((v, i) => shared.has(v) || shared.set(v, i));
  const extra = extraOutputs.map((v) => templateOf(tracer, v, outputs, outputSources, shared));
  const asserts = assertsOf(tracer);
  let guards: GuardEntry[];
  try {
    guards = [...tracer.guards.entries, ...shapeGuards(tracer)];
  } catch (err) {
    if (err instanceof JsEmitError) throw tracer.break(`a guard cannot be emitted as JavaScript: ${err.message}`);
    throw err;
  }
  tracer.recorder.setOutput(outputs);
  const graph = tracer.recorder.graph;
  graph.symbols = tracer.shapeEnv.symbols().map((s) => ({ name: s.name, range: rangeToString(s.range), source: s.sources[0] }));
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

/**
 * @param shared when given, a tensor met again gets the output it got before (one object for every holder);
 *   without it each occurrence is its own output (a returned `[h, h]` keeps two outputs, see backend-cpu's
 *   copy-on-write outputs)
 */
export function templateOf(tracer: FrameTracer, v: Value, outputs: Value[], sources: string[], shared?: Map<Value, number>): OutputTemplate {
  if (v instanceof GraphValue) {
    // The value computed for an input written in place (not the input object itself).
    const known = shared?.get(v.value);
    if (known !== undefined) return { kind: 'graph', index: known };
    outputs.push(v.value);
    shared?.set(v.value, outputs.length - 1);
    return { kind: 'graph', index: outputs.length - 1 };
  }
  const input = isTensorValue(v) ? tracer.inputFakes.get(v) : undefined;
  if (input) {
    // A graph input is returned (or carried across a break) as itself, as in eager code: the same object,
    // which an in-place write, replayed or done by eager code, changes for every holder.
    sources.push(input.source);
    return { kind: 'source', index: sources.length - 1 };
  }
  if (isTensorValue(v) || isSymInt(v)) {
    // One output per tensor: every holder of it (returned, stored outside, live across a break) gets the
    // same object, so identity and in-place writes behave as in eager code.
    const known = shared?.get(v);
    if (known !== undefined) return { kind: 'graph', index: known };
    outputs.push(v);
    if (shared && !shared.has(v)) shared.set(v, outputs.length - 1);
    return { kind: 'graph', index: outputs.length - 1 };
  }
  if (isSymBool(v) || isSymFloat(v)) return { kind: 'const', value: concrete(tracer, v) };
  if (isRuntimeNumber(v)) return numberTemplate(v.expr, sources);
  if (v instanceof ExternalRef) {
    sources.push(v.source);
    return { kind: 'source', index: sources.length - 1 };
  }
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return { kind: 'const', value: v };
  if (Array.isArray(v)) return { kind: 'array', items: v.map((x) => templateOf(tracer, x, outputs, sources, shared)) };
  if (Object.getPrototypeOf(v) === Object.prototype) {
    return { kind: 'object', entries: Object.entries(v).map(([k, x]) => [k, templateOf(tracer, x, outputs, sources, shared)] as const) };
  }
  const tree = pytreeTemplate(tracer, v, outputs, sources, shared);
  if (tree) return tree;
  throw tracer.break(
    `returning ${typeof v === 'function' ? 'a function' : `a ${(v as object).constructor?.name ?? 'object'} built in the frame`}`,
    'return tensors, numbers, arrays, plain objects, Maps, or instances of a class registered with @kiln/pytree',
  );
}

/**
 * Maps and classes registered with @kiln/pytree (global namespace) are flattened by their pytree rules; each
 * leaf gets its own template and the spec rebuilds the container on every call. An unregistered object is a
 * single leaf (itself): not a container we can rebuild.
 */
function pytreeTemplate(tracer: FrameTracer, v: object, outputs: Value[], sources: string[], shared?: Map<Value, number>): OutputTemplate | undefined {
  let flat: [unknown[], TreeSpec];
  try {
    flat = treeFlatten(v);
  } catch {
    return undefined;
  }
  const [leaves, spec] = flat;
  if (spec.isLeaf()) return undefined;
  return { kind: 'tree', spec, items: leaves.map((leaf) => templateOf(tracer, leaf as Value, outputs, sources, shared)) };
}

function numberTemplate(e: NumberExpr, sources: string[]): OutputTemplate {
  if (e.kind === 'const') return { kind: 'const', value: e.value };
  if (e.kind === 'source') {
    sources.push(e.source);
    return { kind: 'source', index: sources.length - 1 };
  }
  return { kind: 'arith', op: e.op, items: e.args.map((a) => numberTemplate(a, sources)) };
}

export function fillTemplate(t: OutputTemplate, outputs: readonly unknown[], sources: readonly unknown[]): unknown {
  switch (t.kind) {
    case 'graph':
      return outputs[t.index];
    case 'const':
      return t.value;
    case 'source':
      return sources[t.index];
    case 'array':
      return t.items.map((x) => fillTemplate(x, outputs, sources));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of t.entries) out[k] = fillTemplate(x, outputs, sources);
      return out;
    }
    case 'arith': {
      const [a, b] = t.items.map((x) => fillTemplate(x, outputs, sources) as number);
      return applyArith(t.op, a!, b!);
    }
    case 'tree':
      return treeUnflatten(t.spec, t.items.map((x) => fillTemplate(x, outputs, sources)));
    default:
      return t satisfies never;
  }
}
