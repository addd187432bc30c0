// The tape: one GradNode per recorded op call, linked to the nodes that computed its inputs. `backward()`
// (engine.ts) walks it from the output back to the leaves.
import { isFloating } from '../dtype.js';
import { AutogradError, fmtShape } from '../errors.js';
import { zeros } from '../ops/creation.js';
import type { GradContext, InputGrads, DerivativeRule } from '../registry/derivative.js';
import type { OpDef, TensorMetaLike } from '../registry/registry.js';
import { Tensor } from '../tensor.js';
import { matchInput } from './shape-grad.js';

/** Where a gradient goes: output `outputNr` of `node`. */
export interface Edge {
  readonly node: GradNode;
  readonly outputNr: number;
}

/** A view's origin: `op` applied to `parent` (with `args`) gave it; `index` picks one output of a multi-output op. */
export interface ViewLink {
  readonly parent: Tensor;
  readonly op: OpDef;
  readonly args: readonly unknown[];
  readonly index: number | null;
  /** The tensor at the end of the chain of views, which owns the data. */
  readonly base: Tensor;
  /** The storage version when this view's history was last set; a newer one means the base changed. */
  version: number;
}

/** A node of the tape. `next[i]` is where the gradient for input slot `i` goes (null: nowhere). */
export abstract class GradNode {
  /** Tensors (by output number) that asked for their gradient with `retainGrad()`. */
  retained: Map<number, Tensor> | null = null;

  constructor(
    readonly name: string,
    readonly next: readonly (Edge | null)[],
  ) {}

  /** Gradients for each input slot, given the gradients of this node's outputs. */
  abstract apply(grads: readonly (Tensor | null)[]): (Tensor | null)[];

  /** Frees what the node saved for the backward pass (called after it ran, unless retainGraph). */
  release(): void {}

  /** The tensors this node keeps alive for its backward pass (for memory reports). */
  savedTensors(): readonly Tensor[] {
    return [];
  }

  toString(): string {
    return `<${this.name}>`;
  }
}

/** The end of the tape for a leaf that requires grad: the engine adds what arrives into `leaf.grad`. */
export class AccumulateGrad extends GradNode {
  constructor(readonly leaf: Tensor) {
    super('AccumulateGrad', []);
  }

  apply(): (Tensor | null)[] {
    return [];
  }
}

const accumulators = new WeakMap<Tensor, AccumulateGrad>();

/** Where a gradient for `t` goes: its node, the accumulator of a leaf that requires grad, or nowhere. */
export function edgeOf(t: Tensor): Edge | null {
  if (t.gradFn !== null) return { node: t.gradFn, outputNr: t.outputNr };
  if (!t.leafRequiresGrad) return null;
  let acc = accumulators.get(t);
  if (acc === undefined) accumulators.set(t, (acc = new AccumulateGrad(t)));
  return { node: acc, outputNr: 0 };
}

const metaOf = (t: Tensor): TensorMetaLike => ({ shape: t.shape, strides: t.strides, offset: t.offset, dtype: t.dtype, ndim: t.ndim });

export const describeTensor = (t: TensorMetaLike) => `${t.dtype}${fmtShape(t.shape)}`;

export function freedGraphError(name: string): AutogradError {
  return new AutogradError(
    `Trying to backward through the graph a second time (or to read saved tensors after they were freed): ${name} already ran and freed what it saved`,
    'pass { retainGraph: true } to the first backward() (or grad()) if you need to backward through the graph again',
  );
}

/** A recorded call of a registry op: its arguments and outputs (with their storage versions) and its derivative. */
export class OpNode extends GradNode {
  private args: readonly unknown[];
  private outputs: readonly (Tensor | null)[];
  private readonly argVersions: readonly number[];
  private readonly outputVersions: readonly number[];
  private readonly outputMeta: readonly (TensorMetaLike | null)[];
  private released = false;

  constructor(
    readonly op: OpDef,
    args: readonly unknown[],
    outputs: readonly (Tensor | null)[],
    private readonly rule: DerivativeRule | undefined,
  ) {
    super(`${op.name}Backward`, inputSlots(args).map((s) => (s.tensor ? edgeOf(s.tensor) : null)));
    this.args = args;
    this.outputs = outputs;
    this.argVersions = args.map((a) => (a instanceof Tensor ? a.storage.version : -1));
    this.outputVersions = outputs.map((t) => (t ? t.storage.version : -1));
    this.outputMeta = outputs.map((t) => (t ? metaOf(t) : null));
  }

  apply(grads: readonly (Tensor | null)[]): (Tensor | null)[] {
    const rule = this.rule;
    if (rule === undefined || rule === 'nonDifferentiable') {
      throw new AutogradError(
        `${this.op.name}: no derivative is defined for '${this.op.name}' (its registry entry has no derivative and no decomposition)`,
        `detach() its inputs or compute it under noGrad() if no gradient needs to flow through it`,
      );
    }
    const result = rule(this.context(grads));
    return this.toSlots(result);
  }

  override release(): void {
    this.released = true;
    this.args = this.args.map((a) => (a instanceof Tensor ? metaOf(a) : Array.isArray(a) ? a.map((x) => (x instanceof Tensor ? metaOf(x) : x)) : a));
    this.outputs = [];
  }

  override savedTensors(): readonly Tensor[] {
    const args = this.args.flatMap((a) => (Array.isArray(a) ? a : [a]));
    return [...args, ...this.outputs].filter((t): t is Tensor => t instanceof Tensor);
  }

  private context(grads: readonly (Tensor | null)[]): GradContext {
    const node = this;
    const first = grads[0] ?? null;
    return {
      get grad() {
        return first ?? zeros([...node.outputMeta[0]!.shape] as number[], { dtype: node.outputMeta[0]!.dtype });
      },
      grads,
      args: this.args,
      input: (i) => this.saved(this.args[i], this.argVersions[i]!, `input '${this.argName(i)}'`),
      output: (i = 0) => this.saved(this.outputs[i], this.outputVersions[i]!, `output ${i}`),
      needsGrad: (i) => this.needsGrad(i),
    };
  }

  private saved(t: unknown, version: number, what: string): Tensor {
    if (this.released) throw freedGraphError(this.name);
    if (!(t instanceof Tensor)) throw new AutogradError(`${this.name}: ${what} is not a tensor`);
    if (t.storage.version !== version) {
      throw new AutogradError(
        `one of the variables needed for gradient computation has been modified by an inplace operation: the ${describeTensor(t)} tensor saved as ${what} of ${this.op.name} is at version ${t.storage.version}; expected version ${version} instead`,
        'clone() it before the in-place op, or do the in-place op out of place (x = x.mul(2) rather than x.mul_(2))',
      );
    }
    return t;
  }

  private argName(i: number): string {
    const s = this.op.schema;
    return (i < s.positional.length ? s.positional[i] : s.keywordOnly[i - s.positional.length])?.name ?? String(i);
  }

  private needsGrad(argIndex: number): boolean {
    let slot = 0;
    for (let i = 0; i < this.args.length; i++) {
      const count = slotCount(this.args[i]);
      if (i === argIndex) return this.next.slice(slot, slot + count).some((e) => e !== null);
      slot += count;
    }
    return false;
  }

  /** Flattens per-argument gradients to input slots, in each input's shape and dtype. */
  private toSlots(result: InputGrads): (Tensor | null)[] {
    const out: (Tensor | null)[] = [];
    this.args.forEach((a, i) => {
      const g = result[i];
      if (slotCount(a) === 0) return;
      if (Array.isArray(a)) {
        a.forEach((x: TensorMetaLike, j) => out.push(fitGrad((g as readonly (Tensor | null)[] | null | undefined)?.[j] ?? null, x)));
      } else if (isTensorLike(a)) {
        out.push(fitGrad((g as Tensor | null | undefined) ?? null, a));
      }
    });
    return out;
  }
}

const isTensorLike = (a: unknown): a is TensorMetaLike => a instanceof Tensor || (typeof a === 'object' && a !== null && 'shape' in a && 'dtype' in a);

/** Input slots an argument takes: 1 for a tensor, one per element for a list of tensors, else 0. */
const slotCount = (a: unknown): number =>
  isTensorLike(a) ? 1 : Array.isArray(a) && a.length > 0 && a.every(isTensorLike) ? a.length : 0;

function fitGrad(g: Tensor | null, input: TensorMetaLike): Tensor | null {
  if (g === null || !isFloating(input.dtype)) return null;
  return matchInput(g, input);
}

/** The tensors among an op's arguments, in order, one slot each (a `Tensor[]` argument gives one per element). */
export function inputSlots(args: readonly unknown[]): { tensor: Tensor | null }[] {
  const slots: { tensor: Tensor | null }[] = [];
  for (const a of args) {
    if (slotCount(a) === 0) continue;
    if (Array.isArray(a)) for (const x of a) slots.push({ tensor: x as Tensor });
    else slots.push({ tensor: a as Tensor });
  }
  return slots;
}
