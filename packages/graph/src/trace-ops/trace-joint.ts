// The joint forward+backward graph of a captured graph (AOTAutograd's joint trace): the graph is replayed on
// fake inputs with autograd recording, then autograd's backward runs on fake cotangents, and the recorder
// keeps both. Input sizes that are symbolic in the captured graph stay symbolic in the joint graph (each with
// a symbol of its own shape env, source `L.args[i].shape[d]`), so one joint graph, and the forward and
// backward graphs partitioned from it, serve every size the captured graph serves; the joint env's guards
// (produceGuards) say which inputs it admits.
import { ShapeEnv, SymFloat, expr as shapesExpr, isSymFloat, isSymInt } from '@kiln/shapes';
import type { Size, SymInt } from '@kiln/shapes';
import { FakeTensor, KilnError, Tensor, autograd, withDispatchMode, zeros } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';
import type { SymbolicValue } from '../ir/interpreter.js';
import { Interpreter } from '../ir/interpreter.js';
import { decompose } from '../passes/decompose.js';
import { GraphRecorder } from './recorder.js';
import { attachShapeInfo } from './trace-ops.js';

export interface JointGraph {
  /** Core graph with placeholders [inputs…, cotangents…] and outputs [forward outputs…, input gradients…]. */
  readonly graph: Graph;
  /** Symbols of the joint graph, each bound to an input size (`L.args[i].shape[d]`). */
  readonly shapeEnv: ShapeEnv;
  /** Forward outputs that take a cotangent: float outputs computed from a differentiable input. */
  readonly tracked: readonly number[];
  /** How many of the joint graph's outputs are forward outputs (the rest are gradients). */
  readonly numOutputs: number;
}

export interface TraceJointOptions {
  /** `false` specializes every input size; by default a size symbolic in the captured graph stays symbolic. */
  readonly dynamic?: boolean;
}

type SymValue = SymInt | SymFloat | number;
const isSymbolicValue = (x: unknown): x is SymInt | SymFloat => isSymInt(x) || isSymFloat(x);

/**
 * Replays a graph on fake tensors whose sizes belong to another shape env: each symbol of `graph` is bound
 * to the value it has there (a SymInt of the new env, or a number), and a symbolic argument such as
 * `reshape(%x, [s0, 4])` is rewritten in the new symbols.
 */
class SymbolicReplay extends Interpreter {
  private readonly values = new Map<string, SymValue>();

  constructor(
    graph: Graph,
    private readonly shapeEnv: ShapeEnv,
  ) {
    super(graph);
  }

  protected override bind(recorded: unknown, actual: unknown): void {
    if (actual instanceof Tensor) {
      (recorded as { shape?: readonly unknown[] } | undefined)?.shape?.forEach((size, d) => this.bind(size, actual.shape[d]));
      return;
    }
    if (!isSymbolicValue(recorded) || !(typeof actual === 'number' || isSymbolicValue(actual))) return;
    const text = String(recorded);
    if (/^[su]\d+$/.test(text) && !this.values.has(text)) this.values.set(text, actual);
  }

  protected override evalSymbolic(a: SymbolicValue): unknown {
    const e = a.env ? a.env.normalize(a.expr) : a.expr;
    const valueOf = (name: string): SymValue => {
      const v = this.values.get(name);
      if (v === undefined) throw new KilnError(`joint trace: symbolic size ${String(a)} has the unbound symbol ${name}`);
      return v;
    };
    const replaced = shapesExpr.substitute(
      e,
      (atom) => (atom.kind === 'symbol' ? (((v) => (typeof v === 'number' ? shapesExpr.constant(v) : v.expr))(valueOf(atom.name))) : undefined),
      this.shapeEnv.simplifyContext,
    );
    const hint = shapesExpr.evaluate(e, (name) => ((v) => (typeof v === 'number' ? v : v.hint))(valueOf(name)));
    return this.shapeEnv.intResult(replaced, hint);
  }
}

/**
 * The joint trace's inputs: fake tensors standing for the examples, with a symbol of the joint env wherever
 * the captured graph's placeholder has a symbol, one per captured symbol (`x: [s0, 16]` and `y: [s0, 8]`
 * share it, so the joint graph relies on the captured graph's guards for `x.shape[0] == y.shape[0]`, as its
 * callers do), and no more: equal example sizes under different symbols stay different symbols.
 */
class JointInputs {
  private readonly symbolFor = new Map<string, Size>();

  constructor(
    private readonly recorder: GraphRecorder,
    private readonly dynamic: boolean,
  ) {}

  add(recorded: unknown, example: unknown, i: number): unknown {
    const env = this.recorder.shapeEnv;
    const source = `L.args[${i}]`;
    if (example instanceof Tensor) {
      const dims = (recorded as { shape?: readonly unknown[] } | undefined)?.shape ?? example.shape;
      const shape = example.shape.map((hint, d) => this.size(dims[d], hint, `${source}.shape[${d}]`));
      const fake = FakeTensor.like(example, shape);
      this.recorder.addFakeInput(fake, `arg${i}`, source);
      return fake;
    }
    if (typeof example === 'number' && isSymbolicValue(recorded)) {
      // A scalar graph input (a runtime number): a symbol of its own, as in the captured graph.
      const symbol = env.createUnbacked({ origin: `scalar input ${source}` });
      const value = isSymFloat(recorded) ? new SymFloat(symbol.expr, env, example) : symbol;
      this.recorder.addScalarInput(value, `arg${i}`, source);
      return value;
    }
    throw new KilnError(`joint trace: input ${i} (${typeof example}) is neither a tensor nor a scalar graph input`);
  }

  private size(recorded: unknown, hint: number, source: string): Size {
    const env = this.recorder.shapeEnv;
    if (!this.dynamic || typeof recorded === 'number' || !isSymbolicValue(recorded)) return env.createSymbol(hint, source, 'static');
    const name = String(recorded);
    // A size that is an expression of symbols (not a symbol) gets a symbol of its own.
    if (!/^s\d+$/.test(name)) return env.createSymbol(hint, source, 'dynamic');
    let size = this.symbolFor.get(name);
    if (size === undefined) this.symbolFor.set(name, (size = env.createSymbol(hint, source, 'dynamic')));
    return size;
  }
}

/**
 * Traces `graph` (a core graph) jointly with its backward pass: `inputs` are example values in placeholder
 * order, `differentiable` the positions of the inputs that get gradients. Returns undefined when no output
 * depends on a differentiable input.
 */
export function traceJoint(graph: Graph, inputs: readonly unknown[], differentiable: readonly number[], options: TraceJointOptions = {}): JointGraph | undefined {
  const env = new ShapeEnv();
  const recorder = new GraphRecorder(env, { autograd: true });
  const placeholders = graph.placeholders();
  if (placeholders.length !== inputs.length) throw new KilnError(`joint trace: ${inputs.length} inputs for ${placeholders.length} placeholders`);
  const jointInputs = new JointInputs(recorder, options.dynamic !== false);
  const fakes = inputs.map((x, i) => jointInputs.add(placeholders[i]!.meta.val, x, i));
  let tracked: number[] = [];
  let numOutputs = 0;
  withDispatchMode(recorder, () => {
    const leaves = differentiable.map((i) => (fakes[i] as Tensor).requiresGrad_());
    const outs = new SymbolicReplay(graph, env).run(fakes) as unknown[];
    numOutputs = outs.length;
    tracked = outs.flatMap((x, i) => (x instanceof Tensor && x.requiresGrad && !fakes.includes(x) ? [i] : []));
    if (tracked.length === 0) return;
    const cotangents = tracked.map((i, k) => {
      const c = FakeTensor.like(outs[i] as Tensor);
      recorder.addFakeInput(c, `cotangent${k}`);
      return c;
    });
    const grads = autograd.grad(tracked.map((i) => outs[i] as Tensor), leaves, { gradOutputs: cotangents, allowUnused: true });
    recorder.setOutput([...outs, ...grads.map((g, k) => g ?? zeros([...leaves[k]!.shape], { dtype: leaves[k]!.dtype }))]);
  });
  if (tracked.length === 0) return undefined;
  attachShapeInfo(recorder.graph, env);
  return { graph: decompose(recorder.graph, env), shapeEnv: env, tracked, numOutputs };
}
