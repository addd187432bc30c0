// Compiled code called with inputs that require grad (AOTAutograd's counterpart): the graph is traced
// once more together with its backward pass (the joint graph), split into a forward and a backward graph
// (partition.ts), and both are compiled by the backend. The forward's outputs get a tape node whose
// backward runs the compiled backward graph; the eager tape carries on from there, so code around the
// compiled function (and graph breaks inside it) differentiate as usual.
import { AutogradError, GradNode, Tensor, autograd, edgeOf, isGradEnabled, zeros } from '@kiln/tensor';
import type { Edge } from '@kiln/tensor';
import { Interpreter, partitionJoint, traceOps } from '@kiln/graph';
import type { Graph, Partition } from '@kiln/graph';
import type { BackendReport } from '@kiln/lower';
/** A compiled graph's call: inputs in placeholder order, outputs as a list. */
type GraphRunner = (inputs: unknown[]) => unknown[];

/** What `explain` and the tests read about one compiled training graph. */
export interface AotReport {
  partition: Partition;
  /** Inputs that required grad, by position. */
  differentiable: number[];
  /** The backend's reports on the compiled forward and backward graphs (kernels, eager fallbacks). */
  forwardBackend?: BackendReport;
  backwardBackend?: BackendReport;
}

interface AotProgram {
  report: AotReport;
  forward: GraphRunner;
  backward: GraphRunner;
  /** Forward outputs that get a gradient (float outputs that depend on a differentiable input). */
  tracked: number[];
  /** Per differentiable input: no output depends on it, so its gradient is null (its `.grad` stays untouched). */
  unused: boolean[];
}

const CACHE_LIMIT = 8;
const requiresGrad = (x: unknown): x is Tensor => x instanceof Tensor && x.requiresGrad;

/**
 * Wraps a compiled graph's runner: inputs that require grad (in grad mode) go through the AOT path, anything
 * else through `run` unchanged (one pass over the inputs). `compileGraph` compiles a graph with the backend.
 */
export function differentiableRunner(graph: Graph, run: GraphRunner, compileGraph: (g: Graph) => GraphRunner): GraphRunner & { aotReports: AotReport[] } {
  const programs = new Map<string, AotProgram | null>();
  const reports: AotReport[] = [];
  const runner = (inputs: unknown[]): unknown[] => {
    if (!isGradEnabled() || !inputs.some(requiresGrad)) return run(inputs);
    const key = inputs.map((x) => (x instanceof Tensor ? `${x.requiresGrad ? 'g' : ''}${x.dtype}[${x.shape}]` : typeof x)).join(';');
    let program = programs.get(key);
    if (program === undefined) {
      // The first call runs the graph's ops eagerly, so autograd records them: correct while the AOT graphs
      // are built, and the outputs tell which of them need cotangents.
      const outputs = new Interpreter(graph).run(inputs) as unknown[];
      program = programs.size < CACHE_LIMIT ? buildProgram(graph, inputs, outputs, compileGraph) : null;
      programs.set(key, program);
      if (program) reports.push(program.report);
      return outputs;
    }
    return program === null ? (new Interpreter(graph).run(inputs) as unknown[]) : runProgram(program, inputs);
  };
  return Object.assign(runner, { aotReports: reports, report: (run as { report?: unknown }).report });
}

function buildProgram(graph: Graph, inputs: readonly unknown[], outputs: readonly unknown[], compileGraph: (g: Graph) => GraphRunner): AotProgram | null {
  const differentiable = inputs.flatMap((x, i) => (requiresGrad(x) ? [i] : []));
  const tracked = outputs.flatMap((x, i) => (requiresGrad(x) && !inputs.includes(x) ? [i] : []));
  if (tracked.length === 0) return null;
  const cotangents = tracked.map((i) => zeros([...(outputs[i] as Tensor).shape], { dtype: (outputs[i] as Tensor).dtype }));
  const examples = inputs.map((x) => (x instanceof Tensor ? x.detach() : x));
  const n = inputs.length;
  let unused: boolean[] = [];
  try {
    const { coreGraph } = traceOps(
      (...fakes: unknown[]) => {
        const ins = fakes.slice(0, n);
        const leaves = differentiable.map((i) => (ins[i] as Tensor).requiresGrad_());
        const outs = new Interpreter(graph).run(ins) as unknown[];
        const grads = autograd.grad(tracked.map((i) => outs[i] as Tensor), leaves, { gradOutputs: fakes.slice(n) as Tensor[], allowUnused: true });
        unused = grads.map((g) => g === null);
        return [...outs, ...grads.map((g, k) => g ?? zeros([...leaves[k]!.shape], { dtype: leaves[k]!.dtype }))];
      },
      [...examples, ...cotangents],
      { dynamic: false, autograd: true },
    );
    const partition = partitionJoint(coreGraph, n, outputs.length);
    const forward = compileGraph(partition.forward);
    const backward = compileGraph(partition.backward);
    const reportOf = (run: GraphRunner) => (run as { report?: BackendReport }).report;
    return { report: { partition, differentiable, forwardBackend: reportOf(forward), backwardBackend: reportOf(backward) }, forward, backward, tracked, unused };
  } catch {
    // A graph autograd cannot trace jointly (an op without a derivative, data-dependent sizes) keeps running
    // its ops eagerly, which is always correct; an op without a derivative then says so at backward().
    return null;
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
