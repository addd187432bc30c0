import type { DType, DispatchMode, MetaContext, OpDef } from '@kiln/tensor';
import { Tensor, getOp, withDispatchMode } from '@kiln/tensor';
import type { DimDynamism, ShapeEnv, SymInt } from '@kiln/shapes';
import { assertSizesNonNegative } from './implicit-asserts.js';
import { FakeTensor, FakeTensorError, FakeTensorMode } from '@kiln/tensor';
import { Graph } from '../ir/graph.js';
import type { Argument, Node, SourceLocation } from '../ir/node.js';

export interface RecorderOptions {
  /** Record composite ops as their decompositions (the core graph) instead of as one node (the API graph). */
  decompose?: boolean;
  /** Let autograd record its tape above this mode, so a backward pass run inside the trace is recorded too (the joint graph). */
  autograd?: boolean;
}

/**
 * A dispatch mode that records every op call into a graph while computing the outputs on fake tensors.
 * Fake tensors map to the node that produced them; real tensors met along the way (weights captured by a
 * closure, say) become constant nodes.
 */
/** Op categories whose results are always fresh tensors; any other op (views, reshape, `to`, …) may alias. */
const FRESH_RESULT = new Set(['pointwise', 'reduction', 'linalg', 'normalization', 'random', 'creation']);
const mayAlias = (target: string): boolean => {
  if (target === 'clone') return false;
  const op = getOp(target);
  return !op || !FRESH_RESULT.has(op.category);
};

export class GraphRecorder implements DispatchMode {
  readonly graph: Graph;
  private readonly nodeOf = new Map<unknown, Node>();
  private readonly fakeMode: FakeTensorMode;
  /** The user source location of the op calls being recorded (set by the tracer as it walks the code). */
  location: SourceLocation | undefined;

  get autograd(): boolean {
    return this.options.autograd === true;
  }

  constructor(
    readonly shapeEnv: ShapeEnv,
    readonly options: RecorderOptions = {},
  ) {
    this.graph = new Graph(options.decompose ? 'core' : 'api');
    const ctx: MetaContext = {
      dataDependentSize: (op, what) => shapeEnv.createUnbacked({ origin: `${op}() ${what}`, sizeLike: true }),
      dataDependentScalar: (op, dtype: DType) => {
        // Unbacked symbols are integers: a float value would be truncated wherever it is used (x.sub(mean)
        // computed x - 0 for |mean| < 1), a bool one returned as 0/1. Only int32 values are captured; the
        // tracer turns this error into a graph break, so the value is read eagerly, as PyTorch does by default.
        if (dtype !== 'int32') {
          throw new FakeTensorError(
            `${op}() of a ${dtype} tensor gives a ${dtype === 'bool' ? 'boolean' : 'non-integer number'}, which compiled code cannot hold as a symbol`,
            dtype === 'bool' ? 'keep it as a 0-dim bool tensor (where(), logicalAnd())' : 'keep it as a 0-dim tensor: x.sub(x.mean()) broadcasts without item()',
          );
        }
        return shapeEnv.createUnbacked({ origin: `${op}() value` });
      },
    };
    this.fakeMode = new FakeTensorMode(ctx);
  }

  /** A graph input: a fake tensor with (possibly symbolic) sizes standing for `example`. */
  addInput(example: Tensor, name: string, inputSource: string, dynamic: DimDynamism | readonly DimDynamism[] = 'duck'): FakeTensor {
    const shape = this.shapeEnv.createSizes(example.shape, inputSource, dynamic);
    const fake = FakeTensor.like(example, shape);
    const node = this.graph.placeholder(name, { val: fake, inputSource });
    this.nodeOf.set(fake, node);
    return fake;
  }

  /** A scalar graph input (see trace/scalar-inputs.ts): ops that take `value` record the placeholder. */
  addScalarInput(value: object, name: string, inputSource: string): Node {
    const node = this.graph.placeholder(name, { val: value, inputSource });
    this.nodeOf.set(value, node);
    return node;
  }

  /** An input that is already fake (e.g. when re-tracing a graph for decomposition). */
  addFakeInput(fake: FakeTensor, name: string, inputSource?: string): Node {
    const node = this.graph.placeholder(name, { val: fake, ...(inputSource ? { inputSource } : {}) });
    this.nodeOf.set(fake, node);
    return node;
  }

  nodeFor(value: unknown): Node | undefined {
    return this.nodeOf.get(value);
  }

  /** Functionalization of an in-place op: `fake` now stands for the node that produced `value`. */
  rebind(fake: FakeTensor, value: FakeTensor): void {
    const node = this.nodeOf.get(value);
    if (!node) throw new Error('rebind: the new value has no node');
    this.nodeOf.set(fake, node);
  }

  /**
   * Whether `fake` is a view, has a view, or shares its storage with another tracked tensor: a write to it
   * would have to show through the other tensor, which a functionalized in-place op does not do.
   */
  hasAliases(fake: FakeTensor): boolean {
    for (const other of this.nodeOf.keys()) if (other !== fake && other instanceof Tensor && other.storage === fake.storage) return true;
    const node = this.nodeOf.get(fake);
    if (!node) return true;
    const isView = (n: Node): boolean => n.kind === 'call' && mayAlias(n.target);
    if (isView(node)) return true;
    const mentions = (a: Argument): boolean => a === node || (Array.isArray(a) ? a.some(mentions) : false);
    return this.graph.nodes.some((n) => isView(n) && (n.args as readonly Argument[]).some(mentions));
  }

  /**
   * Records a call whose result is already known (replaying a graph): no meta function runs, so the
   * result's symbols stay the ones the first trace made.
   */
  recordCall(op: OpDef, args: unknown[], result: unknown): unknown {
    const { positional, keywords } = this.splitArgs(op, args);
    const node = this.graph.call(op.name, positional, keywords, { val: result, ...(this.location ? { source: this.location } : {}) });
    this.bindOutputs(result, node);
    return result;
  }

  dispatch(op: OpDef, args: unknown[]): unknown {
    if (this.options.decompose && op.decompose) {
      // Stay in this mode: the decomposition's own op calls are recorded one by one.
      return op.decompose(args);
    }
    const result = withDispatchMode(this.fakeMode, () => this.fakeMode.dispatch(op, args));
    // The op returned its input itself (`x.to(x.dtype)`, `x.contiguous()`): no node, the same value.
    if (result === args[0] && result instanceof Tensor) return result;
    assertSizesNonNegative(this.shapeEnv, op.name, result);
    const { positional, keywords } = this.splitArgs(op, args);
    const node = this.graph.call(op.name, positional, keywords, {
      val: result,
      ...(this.location ? { source: this.location } : {}),
    });
    this.bindOutputs(result, node);
    return result;
  }

  /** Marks the graph's outputs: any structure of fake tensors, symbols and constants. */
  setOutput(values: readonly unknown[]): Node {
    return this.graph.output(values.map((v) => this.toArgument(v)));
  }

  toArgument(value: unknown): Argument {
    const known = this.nodeOf.get(value);
    if (known) return known;
    if (value instanceof FakeTensor) {
      throw new FakeTensorError(`${value.describe()} was not produced inside this trace`, 'pass it as an input instead');
    }
    if (value instanceof Tensor) {
      const node = this.graph.constant(value as unknown as Argument, { val: FakeTensor.like(value) });
      this.nodeOf.set(value, node);
      return node;
    }
    if (Array.isArray(value)) return value.map((v) => this.toArgument(v));
    if (value !== null && typeof value === 'object' && !('isSymInt' in value) && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, Argument> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.toArgument(v);
      return out;
    }
    return value as Argument;
  }

  private splitArgs(op: OpDef, args: readonly unknown[]) {
    const n = op.schema.positional.length;
    const positional = args.slice(0, n).map((a) => this.toArgument(a));
    const keywords: Record<string, Argument> = {};
    op.schema.keywordOnly.forEach((spec, i) => {
      const v = args[n + i];
      // Defaults are left out so that the printed graph reads like the code (`softmax(%x, -1)`).
      if (!(spec.hasDefault && v === spec.default) && v !== undefined) keywords[spec.name] = this.toArgument(v);
    });
    return { positional, keywords };
  }

  /** Maps each output (or element of a multi-output result) to a node that produces it. */
  private bindOutputs(result: unknown, node: Node): void {
    if (result instanceof Tensor || isSym(result)) {
      this.nodeOf.set(result, node);
      return;
    }
    const parts: [string | number, unknown][] = Array.isArray(result)
      ? result.map((v, i) => [i, v])
      : result !== null && typeof result === 'object'
        ? Object.entries(result)
        : [];
    for (const [key, value] of parts) {
      if (!(value instanceof Tensor) && !isSym(value)) continue;
      const item = this.graph.call('getitem', [node, key], {}, { val: value, ...(this.location ? { source: this.location } : {}) });
      this.nodeOf.set(value, item);
    }
  }
}

const isSym = (x: unknown): x is SymInt => typeof x === 'object' && x !== null && 'isSymInt' in x;
