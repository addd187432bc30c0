// What `exportProgram` (@kiln/export) needs from the tracer, and nothing more: one frame traced with fullgraph
// semantics (any graph break is a FullGraphError naming the line and the reason), run through the compiler's
// graph passes to the core graph, with each placeholder's true source and the shape env's guards and asserts.
// Export owns turning this into a program; this file only exposes the trace, so core never imports export.
import type { ProducedAssert, ProducedGuard, ShapeEnv } from '@kiln/shapes';
import { produceGuards, produceRuntimeAsserts } from '@kiln/shapes';
import type { Graph, SourceLocation } from '@kiln/graph';
import { printGraph } from '@kiln/graph';
import type { Tensor } from '@kiln/tensor';
import { getDefaultCompiler } from './compiler.js';
import type { Compiler } from './compiler.js';
import { compileOnBackend } from './entry.js';
import type { CompiledGraph } from '@kiln/lower';
import { FrameSkipped, FullGraphError, GraphBreak } from './trace/errors.js';
import { parseFunction } from './trace/functions.js';
import { boundParts } from './trace/closures.js';
import type { AnyNode } from './trace/values.js';
import type { TraceSettings } from './trace/settings.js';
import { recordedEffects } from './trace/side-effects/record.js';
import { beginFrame, finishFrame, frameCaptureNames, newFrameTracer } from './trace/trace-frame.js';
import type { OutputTemplate } from './trace/trace-frame.js';

export type { OutputTemplate } from './trace/trace-frame.js';

export interface ExportCaptureOptions {
  /** The compiler whose policy and graph passes apply (default: getDefaultCompiler()). */
  readonly compiler?: Compiler;
  /** Per tensor input: its dims' dynamism and a callback right after its sizes exist (see TraceSettings). */
  readonly inputs: NonNullable<TraceSettings['exportInputs']>;
}

/** One graph input of the captured program. */
export interface CapturedInput {
  /** The placeholder's name in `graph`. */
  readonly placeholder: string;
  /** Where the tracer read it: `L[0]`, `L[1].x`, `T.layers[0].weight`, `C[2].bias`, `K[3]`. */
  readonly source: string;
  /** The tensor read there while tracing (a parameter's value at export time). */
  readonly value: Tensor;
}

export interface ExportCapture {
  /** The core graph (after the compiler's passes), placeholders in input order. */
  readonly graph: Graph;
  /** The API graph as captured, printed (before decompositions), for explain. */
  readonly apiGraphText: string;
  readonly inputs: readonly CapturedInput[];
  /** How the return value is built from the graph outputs (views are materialized: never a 'view'). */
  readonly output: OutputTemplate;
  /** Values the output template reads by source (inputs returned as themselves). */
  readonly outputSources: readonly string[];
  readonly shapeEnv: ShapeEnv;
  /** Guards the trace relied on over input sizes (static sizes, equalities, ranges, branch conditions). */
  readonly shapeGuards: readonly ProducedGuard[];
  /** check() / constrainRange asserts over input sizes (data-dependent ones travel in graph.asserts). */
  readonly runtimeAsserts: readonly ProducedAssert[];
  /** The names of the frame's captured bindings, in `C[i]` order. */
  readonly captureNames: readonly string[];
  /** The names of `let`/`var` bindings it read, in `M[i]` order. */
  readonly mutableNames: readonly string[];
  /** Tensor inputs written in place, in program order: the input's source and where its final value is. */
  readonly mutations: readonly CapturedMutation[];
}

/** An in-place write to a tensor input (`x.add_(1)`, `this.runningMean.mul_(0.9)`): its new value is `output`. */
export interface CapturedMutation {
  readonly source: string;
  readonly output: OutputTemplate;
  readonly location: SourceLocation | undefined;
}

/** Traces `fn` once as a whole graph for export. A graph break raises FullGraphError (line and reason). */
export function captureForExport(fn: Function, thisArg: unknown, args: readonly unknown[], options: ExportCaptureOptions): ExportCapture {
  const bound = boundParts(fn);
  if (bound) {
    // `model.forward.bind(model)`: the target traced with the bound `this` (its fields are state, `T.…`).
    if (bound.args.length > 0) throw new FullGraphError('exporting a function with bound arguments', undefined, 'bind only `this` (fn.bind(model)), and pass the arguments as example inputs');
    return captureForExport(bound.target, bound.thisArg, args, options);
  }
  const compiler = options.compiler ?? getDefaultCompiler();
  const tracer = newFrameTracer(fn, {
    dynamic: false,
    autoDynamic: new Set(),
    markedDynamic: () => undefined,
    calls: compiler.calls,
    exportInputs: options.inputs,
  });
  let finished: ReturnType<typeof finishFrame>;
  try {
    const root = beginFrame(tracer, fn, thisArg, args);
    if (root.kind !== 'returned') throw tracer.break('the frame stopped before returning');
    // Live-locals mode materializes views: an exported program returns fresh tensors, never views of inputs.
    finished = finishFrame(tracer, root.value, recordedEffects(tracer).values, true);
  } catch (err) {
    if (err instanceof GraphBreak || err instanceof FrameSkipped) throw new FullGraphError(err.reason, err.location, err instanceof GraphBreak ? err.hint : undefined);
    throw err;
  }
  // In-place writes to tensor inputs (arguments, buffers, parameters) are functional in the graph: their new
  // values are extra outputs the program's runner writes back, as torch.export's mutation outputs. Writes to
  // outside objects (`this.step = n`, `arr.push(x)`) are not values a program can return: an error.
  const effects = tracer.effects.effects;
  const other = effects.find((e) => e.kind !== 'copy');
  if (other) {
    throw new FullGraphError(
      `the function changes a value from outside it (a ${other.kind === 'call' ? `call to ${other.method}() on` : other.kind === 'delete' ? 'delete of a property of' : 'write to a property of'} ${other.target.source}), which an exported program cannot replay`,
      other.location ?? tracer.location,
      'return the new value instead of storing it; in-place tensor ops on inputs and state are allowed',
    );
  }
  const mutations = effects.map((e, i) => ({ source: e.target.source, output: finished.extra[i]!, location: e.location }));
  const apiGraphText = printGraph(finished.graph);
  const graph = compiler.hooks.graphPasses.call(finished.graph);
  const inputs = graph.placeholders().map((p) => {
    const found = tracer.inputFakes.get(p.meta.val as never);
    if (!found) throw new FullGraphError(`graph input %${p.name} (${p.meta.inputSource ?? '?'}) is not a tensor read from the arguments or the closure`, undefined, 'pass numbers that vary as tensors, or keep them constant');
    return { placeholder: p.name, source: found.source, value: found.real };
  });
  return {
    graph,
    apiGraphText,
    inputs,
    output: finished.output,
    outputSources: finished.outputSources,
    shapeEnv: tracer.shapeEnv,
    shapeGuards: produceGuards(tracer.shapeEnv),
    runtimeAsserts: produceRuntimeAsserts(tracer.shapeEnv).filter((a) => !a.symbols.some((s) => tracer.shapeEnv.symbolInfo(s)?.kind === 'unbacked')),
    captureNames: frameCaptureNames(fn),
    mutableNames: tracer.mutableReads.map((m) => m.name),
    mutations,
  };
}

/** The parameter names of `fn` (or of a bound function's target): `arg{i}` where a parameter is a pattern. */
export function parameterNamesOf(fn: Function): string[] {
  const bound = boundParts(fn);
  if (bound) return parameterNamesOf(bound.target).slice(bound.args.length);
  const params = (parseFunction(fn)?.node.params ?? []) as AnyNode[];
  return params.map((p, i) => {
    const target = p.type === 'AssignmentPattern' ? p.left : p.type === 'RestElement' ? p.argument : p;
    return target.type === 'Identifier' ? String(target.name) : `arg${i}`;
  });
}

/**
 * Compiles a core graph on a backend of `compiler` (a name, or `auto`) with that backend's capabilities and
 * the compiler's per-op lowering hook, as compile() does for a traced frame. Used to run loaded programs.
 */
export function compileGraphOn(graph: Graph, backendName = 'auto', compiler: Compiler = getDefaultCompiler()): { backend: string; compiled: CompiledGraph } {
  return compileOnBackend(compiler, backendName, graph, 'loadProgram');
}
