// Views and in-place writes. A view shares its base's storage, so an in-place op through the view changes the
// base too: the base's history must then include the write (PyTorch's CopySlices), and every other view of
// the base must see the new history (regenerated lazily, when the storage version says the data changed).
import { AutogradError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import type { OpDef } from '../registry/registry.js';
import { Tensor } from '../tensor.js';
import { GradNode, OpNode, edgeOf } from './node.js';
import type { ViewLink } from './node.js';
import { matchInput } from './shape-grad.js';

/** Calls an op with normalized arguments (keyword-only ones passed back as the options object). */
export function callWithNormalized(op: OpDef, args: readonly unknown[]): unknown {
  const n = op.schema.positional.length;
  if (op.schema.keywordOnly.length === 0) return op.fn(...args);
  const options = Object.fromEntries(op.schema.keywordOnly.map((spec, i) => [spec.name, args[n + i]]));
  return op.fn(...args.slice(0, n), options);
}

/** Records that `out` (one tensor, or each tensor of a list) is a view of `args[0]`, when it shares its storage. */
export function trackView(op: OpDef, args: readonly unknown[], out: unknown): void {
  const parent = args[0];
  if (!(parent instanceof Tensor)) return;
  if (out instanceof Tensor) {
    if (out !== parent && out.storage === parent.storage) out.viewOf = viewLink(parent, op, args, null);
  } else if (Array.isArray(out)) {
    out.forEach((t, i) => {
      if (t instanceof Tensor && t !== parent && t.storage === parent.storage) t.viewOf = viewLink(parent, op, args, i);
    });
  }
}

function viewLink(parent: Tensor, op: OpDef, args: readonly unknown[], index: number | null): ViewLink {
  return { parent, op, args, index, base: parent.viewOf?.base ?? parent, version: parent.storage.version };
}

/** The links from `t` up to its base, nearest first. */
function chainOf(t: Tensor): ViewLink[] {
  const links: ViewLink[] = [];
  for (let link = t.viewOf; link !== null; link = link.parent.viewOf) links.push(link);
  return links;
}

/** Applies a chain of view ops (nearest-first links) to `t`, giving the same view of `t` as of the base. */
function replay(links: readonly ViewLink[], t: Tensor): Tensor {
  let out = t;
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!;
    const r = callWithNormalized(link.op, [out, ...link.args.slice(1)]);
    out = link.index === null ? (r as Tensor) : (r as Tensor[])[link.index]!;
  }
  return out;
}

/** A view's history when its base changed after it was taken: the view ops' derivatives, back to the base. */
class ViewChainNode extends GradNode {
  constructor(private readonly links: readonly ViewLink[]) {
    super('ViewBackward', [edgeOf(links[links.length - 1]!.base)]);
  }

  apply([grad]: readonly (Tensor | null)[]): (Tensor | null)[] {
    let g = grad;
    for (const link of this.links) {
      if (g === null) return [null];
      const rule = link.op.derivative as Exclude<OpDef['derivative'], 'nonDifferentiable' | undefined>;
      const grads = link.index === null ? [g] : link.args.map((_, i) => (i === link.index ? g : null));
      const result = rule({
        grad: g,
        grads,
        args: link.args,
        input: (i) => link.args[i] as Tensor,
        output: () => g!,
        needsGrad: (i) => i === 0,
      });
      g = result[0] ? matchInput(result[0] as Tensor, link.parent) : null;
    }
    return [g];
  }
}

/** Brings a view whose base was written since its history was set up to date (`t.gradFn` from the base's). */
export function refreshView(t: Tensor): void {
  const link = t.viewOf!;
  if (link.version === t.storage.version) return;
  link.version = t.storage.version;
  const links = chainOf(t);
  if (links[links.length - 1]!.base.requiresGrad && links.every((l) => typeof l.op.derivative === 'function')) {
    t.gradFn = new ViewChainNode(links);
    t.outputNr = 0;
  }
}

/** Refuses, before anything is written, an in-place op with gradient through a view autograd cannot follow. */
export function checkInplaceOnView(view: Tensor, op: string): void {
  const links = chainOf(view);
  if (links[links.length - 1]!.base.leafRequiresGrad) {
    throw new AutogradError(
      `${op}: a view of a leaf tensor that requires grad is being used in an in-place operation`,
      'clone() the leaf first, or make the change under noGrad() (as optimizers do)',
    );
  }
  const undifferentiable = links.find((l) => typeof l.op.derivative !== 'function');
  if (undifferentiable) {
    throw new AutogradError(
      `${op}: an in-place write with gradient through a piece of '${undifferentiable.op.name}' is not supported`,
      `take the piece with narrow() or slice() instead, or clone() it before writing`,
    );
  }
}

/**
 * After the in-place op `node` wrote through the view `view`: the base's new history is its old one outside
 * the view's elements and `node` inside them; the view's history then runs through the base.
 */
export function rebaseAfterInplaceOnView(view: Tensor, node: OpNode): void {
  const links = chainOf(view);
  const base = links[links.length - 1]!.base;
  base.gradFn = new CopySlicesNode(base, links, node);
  base.outputNr = 0;
  view.gradFn = new ViewChainNode(links);
  view.outputNr = 0;
  for (const link of links) link.version = view.storage.version;
}

class CopySlicesNode extends GradNode {
  private readonly shape: number[];
  private readonly dtype: Tensor['dtype'];

  constructor(
    base: Tensor,
    private readonly links: readonly ViewLink[],
    private readonly inner: OpNode,
  ) {
    super(`CopySlices(${inner.name})`, [edgeOf(base), ...inner.next.slice(1)]);
    this.shape = [...base.shape];
    this.dtype = base.dtype;
  }

  apply([grad]: readonly (Tensor | null)[]): (Tensor | null)[] {
    const g = grad ?? zeros(this.shape, { dtype: this.dtype });
    const result = g.contiguous().clone();
    const innerGrads = this.inner.apply([replay(this.links, result).clone()]);
    const region = replay(this.links, result);
    if (innerGrads[0]) region.copy_(innerGrads[0]);
    else region.zero_();
    return [result, ...innerGrads.slice(1)];
  }

  override release(): void {
    this.inner.release();
  }
}
