import { ShapeEnv, produceRuntimeAsserts } from '@kiln/shapes';
import type { SymBoolLike } from '@kiln/shapes';
import { Tensor, withDispatchMode } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';
import { toGraphAsserts } from '../ir/asserts.js';
import { decompose } from '../passes/decompose.js';
import { GraphRecorder } from './recorder.js';

export interface TraceOpsOptions {
  /** `true`: every input dim gets its own symbol; `false`: all static; default: duck-sized symbols. */
  dynamic?: boolean;
  /** Record autograd's backward pass when `fn` runs one (the joint forward+backward graph). */
  autograd?: boolean;
}

export interface TraceOpsResult {
  /** Calls to public tensor functions as the code made them. */
  apiGraph: Graph;
  /** The same computation in core ops only, with shapes and dtypes on every node. */
  coreGraph: Graph;
  shapeEnv: ShapeEnv;
  /** How the outputs are arranged: `fn`'s result with each traced value replaced by its output slot. */
  outputs: unknown[];
}

/**
 * Op-level tracing: runs `fn` (which only calls tensor ops) on fake tensors standing for `exampleArgs` and
 * records the API graph, then decomposes it into the core graph. Tensor arguments become placeholders named
 * `arg0`, `arg1`… with sources `L.args[0]`…; other arguments are constants of the trace.
 */
export function traceOps(fn: (...args: any[]) => unknown, exampleArgs: readonly unknown[], options: TraceOpsOptions = {}): TraceOpsResult {
  const shapeEnv = new ShapeEnv();
  const recorder = new GraphRecorder(shapeEnv, { autograd: options.autograd ?? false });
  const dynamism = options.dynamic === true ? 'dynamic' : options.dynamic === false ? 'static' : 'duck';
  const fakeArgs = exampleArgs.map((a, i) => (a instanceof Tensor ? recorder.addInput(a, `arg${i}`, `L.args[${i}]`, dynamism) : a));
  const result = withDispatchMode(recorder, () => fn(...fakeArgs));
  const outputs = Array.isArray(result) ? result : [result];
  recorder.setOutput(outputs);
  attachShapeInfo(recorder.graph, shapeEnv);
  const coreGraph = decompose(recorder.graph, shapeEnv);
  return { apiGraph: recorder.graph, coreGraph, shapeEnv, outputs };
}

/** Copies the shape env's symbols (with ranges) and runtime asserts onto the graph, for printing and export. */
export function attachShapeInfo(graph: Graph, env: ShapeEnv): void {
  graph.symbols = env.symbols().map((s) => ({
    name: s.name,
    range: `[${s.range.lo}, ${s.range.hi === Infinity ? 'inf' : s.range.hi}]`,
    ...(s.sources.length ? { source: s.sources.join(', ') } : {}),
  }));
  // Executed by every backend where their symbols are bound (ir/asserts.ts).
  graph.asserts = toGraphAsserts(produceRuntimeAsserts(env));
}

export type { SymBoolLike };
