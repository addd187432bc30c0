// Compiled code called with inputs that require grad (AOTAutograd's counterpart): the graph is traced
// once more together with its backward pass (the joint graph), split into a forward and a backward graph
// (partition.ts), and both are compiled by the backend. The forward's outputs get a tape node whose
// backward runs the compiled backward graph; the eager tape carries on from there, so code around the
// compiled function (and graph breaks inside it) differentiate as usual.
import { AutogradError, GradNode, Tensor, edgeOf, isGradEnabled, zeros } from '@kiln/tensor';
import type { Edge } from '@kiln/tensor';
import { Interpreter, partitionJoint, traceJoint } from '@kiln/graph';
import type { Graph, Partition } from '@kiln/graph';
import { guardFunctionSource, produceGuards } from '@kiln/shapes';
import type { BackendReport } from '@kiln/lower';
import { log } from '../logs/index.js';
/** A compiled graph's call: inputs in placeholder order, outputs as a list. */
type GraphRunner = (inputs: unknown[]) => unknown[];

/** What `explain` and the tests read about one compiled training graph. */
export interface AotReport {
  partition: Partition;
  /** Inputs that required grad, by position. */
  differentiable: number[];
  /** Whether the joint graph kept symbolic sizes (one program for every size its guards admit). */
  dynamic: boolean;
  /** The joint graph's guards over the inputs (`L.args[0].shape[1] == 16`, `L.args[0].shape[0] >= 2`). */
  guards: string[];
  /** The backend's reports on the compiled forward and backward graphs (kernels, eager fallbacks). */
  forwardBackend?: BackendReport;
  backwardBackend?: BackendReport;
}

interface AotProgram {
  report: AotReport;
  forward: GraphRunner;
  backward: GraphRunner;
  /** Forward outputs that get a gradient (float outputs that depend on a differentiable input). */
  tracked: readonly number[];
  /** Per differentiable input: no output depends on it, so its gradient is null (its `.grad` stays untouched). */
  unused: readonly boolean[];
  /** Whether these inputs satisfy the joint graph's guards (sizes, duck-sized equalities, ranges). */
  admits: (inputs: readonly unknown[]) => boolean;
}

/** Joint programs per graph; past this, calls with new sizes run the graph's ops eagerly (always correct). */
const CACHE_LIMIT = 8;
const requiresGrad = (x: unknown): x is Tensor => x instanceof Tensor && x.requiresGrad;

/** What the joint program's guards do not check: per input its kind, dtype, rank and whether it requires grad. */
const layoutKey = (inputs: readonly unknown[]): string =>
  inputs.map((x) => (x instanceof Tensor ? `${x.requiresGrad ? 'g' : ''}${x.dtype}${x.ndim}` : typeof x === 'number' ? (Number.isInteger(x) ? 'i' : 'f') : typeof x)).join(';');
const sizesKey = (inputs: readonly unknown[]): string => inputs.map((x) => (x instanceof Tensor ? `[${x.shape}]` : String(x))).join(';');

/**
 * Wraps a compiled graph's runner: inputs that require grad (in grad mode) go through the AOT path, anything
 * else through `run` unchanged (one pass over the inputs). `compileGraph` compiles a graph with the backend.
 * A joint program keeps the graph's symbolic sizes, so a graph compiled for dynamic sizes needs one program
 * for every size its guards admit; a call its programs do not admit builds another (up to CACHE_LIMIT).
 * `graphOf` gives the graph when a call first needs it (a persistent cache's graph is decoded then).
 */
export function differentiableRunner(graphOf: () => Graph, run: GraphRunner, compileGraph: (g: Graph) => GraphRunner, tag = ''): GraphRunner & { aotReports: AotReport[] } {
  const programs = new Map<string, AotProgram[]>();
  /** Exact sizes for which no joint program could be built: their calls run the graph's ops eagerly. */
  const unbuildable = new Set<string>();
  const reports: AotReport[] = [];
  const interpret = (inputs: unknown[]) => new Interpreter(graphOf()).run(inputs) as unknown[];
  const runner = (inputs: unknown[]): unknown[] => {
    if (!isGradEnabled() || !inputs.some(requiresGrad)) return run(inputs);
    const key = layoutKey(inputs);
    let list = programs.get(key);
    let program = list?.find((p) => p.admits(inputs));
    if (program === undefined) {
      const sizes = sizesKey(inputs);
      if (reports.length >= CACHE_LIMIT || unbuildable.has(sizes)) return interpret(inputs);
      if (list?.length) log('recompiles', tag, `joint forward/backward graph rebuilt: no program for ${key} admits the sizes ${sizes}`);
      program = buildProgram(graphOf(), inputs, compileGraph);
      if (program === undefined) {
        unbuildable.add(sizes);
        return interpret(inputs);
      }
      if (!list) programs.set(key, (list = []));
      list.push(program);
      reports.push(program.report);
    }
    return runProgram(program, inputs);
  };
  return Object.assign(runner, { aotReports: reports, report: (run as { report?: unknown }).report });
}

/** The joint program for these inputs: symbolic where the graph is, else (or when that fails) for these sizes. */
function buildProgram(graph: Graph, inputs: readonly unknown[], compileGraph: (g: Graph) => GraphRunner): AotProgram | undefined {
  const dynamic = graph.placeholders().some((p) => ((p.meta.val as { shape?: readonly unknown[] } | undefined)?.shape ?? [p.meta.val]).some((d) => typeof d === 'object' && d !== null));
  return (dynamic ? tryBuild(graph, inputs, compileGraph, true) : undefined) ?? tryBuild(graph, inputs, compileGraph, false);
}

function tryBuild(graph: Graph, inputs: readonly unknown[], compileGraph: (g: Graph) => GraphRunner, dynamic: boolean): AotProgram | undefined {
  const differentiable = inputs.flatMap((x, i) => (requiresGrad(x) ? [i] : []));
  const examples = inputs.map((x) => (x instanceof Tensor ? x.detach() : x));
  try {
    const joint = traceJoint(graph, examples, differentiable, { dynamic });
    // No output depends on a differentiable input: the graph's ops run eagerly (their outputs need no tape).
    if (!joint) return undefined;
    const guards = produceGuards(joint.shapeEnv);
    const { source } = guardFunctionSource(guards);
    // Generated from the joint trace's own sources (`L.args[0].shape[1]`), never from user data.
    const check = new Function('L', `return (${source})(L);`) as (L: { args: readonly unknown[] }) => number;
    const partition = partitionJoint(joint.graph, inputs.length, joint.numOutputs);
    const forward = compileGraph(partition.forward);
    const backward = compileGraph(partition.backward);
    const reportOf = (r: GraphRunner) => (r as { report?: BackendReport }).report;
    return {
      report: { partition, differentiable, dynamic, guards: guards.map((g) => g.text), forwardBackend: reportOf(forward), backwardBackend: reportOf(backward) },
      forward,
      backward,
      tracked: joint.tracked,
      unused: joint.unused,
      admits: (xs) => check({ args: xs }) === -1,
    };
  } catch {
    // A graph autograd cannot trace jointly (an op without a derivative, data-dependent sizes) keeps running
    // its ops eagerly, which is always correct; an op without a derivative then says so at backward().
    return undefined;
  }
}

function runProgram(program: AotProgram, inputs: unknown[]): unknown[] {
  const results = program.forward(inputs);
  const numOutputs = results.length - program.report.partition.saved.length;
  const outputs = results.slice(0, numOutputs);
  const saved = results.slice(numOutputs);
  const node = new CompiledBackward(program, inputs, saved, program.tracked.map((i) => outputs[i] as Tensor));
  program.tracked.forEach((i, k) => {
    const t = outputs[i] as Tensor;
    t.gradFn = node;
    t.outputNr = k;
  });
  return outputs;
}

/** The tape node of one call of a compiled forward graph: its backward runs the compiled backward graph. */
class CompiledBackward extends GradNode {
  private inputs: readonly unknown[] | null;
  private saved: readonly unknown[] | null;
  private readonly versions: readonly number[];
  private readonly outputShapes: { shape: number[]; dtype: Tensor['dtype'] }[];

  constructor(
    private readonly program: AotProgram,
    inputs: readonly unknown[],
    saved: readonly unknown[],
    outputs: readonly Tensor[],
  ) {
    super('CompiledFunctionBackward', program.report.differentiable.map((i) => edgeOf(inputs[i] as Tensor) as Edge | null));
    this.inputs = inputs;
    this.saved = saved;
    this.versions = inputs.map((x) => (x instanceof Tensor ? x.storage.version : -1));
    this.outputShapes = outputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype }));
  }

  apply(grads: readonly (Tensor | null)[]): (Tensor | null)[] {
    if (this.inputs === null || this.saved === null) {
      throw new AutogradError(
        'Trying to backward through the graph a second time: the compiled function\'s backward already ran and freed what it saved',
        'pass { retainGraph: true } to the first backward() if you need to backward through the graph again',
      );
    }
    this.inputs.forEach((x, i) => {
      if (x instanceof Tensor && x.storage.version !== this.versions[i]) {
        throw new AutogradError(
          `one of the variables needed for gradient computation has been modified by an inplace operation: input ${i} of a compiled function (${x.dtype}[${x.shape}]) is at version ${x.storage.version}; expected version ${this.versions[i]} instead`,
          'clone() it before the in-place op, or do the in-place op after backward()',
        );
      }
    });
    const cotangents = this.outputShapes.map((o, k) => grads[k] ?? zeros(o.shape, { dtype: o.dtype }));
    const detached = this.inputs.map((x) => (x instanceof Tensor ? x.detach() : x));
    const inputGrads = this.program.backward([...detached, ...this.saved, ...cotangents]) as Tensor[];
    // An input the outputs do not depend on gets no gradient, as in eager code (not a zero one).
    return inputGrads.map((g, k) => (this.program.unused[k] ? null : g));
  }

  override savedTensors(): readonly Tensor[] {
    return (this.saved ?? []).filter((t): t is Tensor => t instanceof Tensor);
  }

  override release(): void {
    this.inputs = null;
    this.saved = null;
  }
}
