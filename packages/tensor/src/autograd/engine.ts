// The backward pass: from the roots' gradients, run each node once all gradients for its outputs arrived
// (a topological order of the tape), summing gradients that meet, until the leaves.
import { AutogradError, ShapeError, fmtShape } from '../errors.js';
import { add } from '../ops/pointwise.js';
import { onesLike } from '../ops/creation.js';
import { sizeEq } from '../size.js';
import type { Tensor } from '../tensor.js';
import { withGradMode } from './grad-mode.js';
import { AccumulateGrad, describeTensor, edgeOf } from './node.js';
import type { Edge, GradNode } from './node.js';

export interface BackwardOptions {
  /** Keep what the nodes saved, so the graph can be differentiated again (default false). */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients (default false). */
  createGraph?: boolean;
}

/** The gradient each root starts with: the one given (same shape), or 1 for a one-element root. */
function rootGrad(root: Tensor, given: Tensor | null | undefined, index: number): Tensor {
  if (given === null || given === undefined) {
    if (root.numel !== 1) {
      throw new AutogradError(
        `grad can be implicitly created only for scalar outputs: tensor ${index} has shape ${fmtShape(root.shape)}`,
        'pass the gradient of the loss with respect to it: t.backward(gradient), or reduce it first (t.sum().backward())',
      );
    }
    return onesLike(root);
  }
  if (given.ndim !== root.ndim || !given.shape.every((s, i) => sizeEq(s, root.shape[i]!))) {
    throw new ShapeError(`backward: the gradient has shape ${fmtShape(given.shape)} but tensor ${index} has shape ${fmtShape(root.shape)}`, 'the gradient must have the shape of the tensor it belongs to');
  }
  return given;
}

function rootEdge(root: Tensor, index: number): Edge {
  const edge = edgeOf(root);
  if (edge === null) {
    throw new AutogradError(
      `element ${index} of tensors does not require grad and does not have a gradFn`,
      'create the inputs with { requiresGrad: true } (or call requiresGrad_()), and compute it outside noGrad()',
    );
  }
  return edge;
}

/** Number of incoming edges of every node reachable from `starts`. */
function countDependencies(starts: readonly GradNode[]): Map<GradNode, number> {
  const deps = new Map<GradNode, number>();
  const seen = new Set<GradNode>(starts);
  const stack = [...starts];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const edge of node.next) {
      if (edge === null) continue;
      deps.set(edge.node, (deps.get(edge.node) ?? 0) + 1);
      if (!seen.has(edge.node)) {
        seen.add(edge.node);
        stack.push(edge.node);
      }
    }
  }
  return deps;
}

/** The nodes from which one of `targets` can be reached (the only ones `grad()` needs to run). */
function nodesReaching(starts: readonly GradNode[], targets: ReadonlySet<GradNode>): Set<GradNode> {
  const reaches = new Set<GradNode>();
  const done = new Set<GradNode>();
  const stack: { node: GradNode; expanded: boolean }[] = starts.map((node) => ({ node, expanded: false }));
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (done.has(top.node)) {
      stack.pop();
      continue;
    }
    if (!top.expanded) {
      top.expanded = true;
      for (const e of top.node.next) if (e !== null && !done.has(e.node)) stack.push({ node: e.node, expanded: false });
      continue;
    }
    stack.pop();
    done.add(top.node);
    if (targets.has(top.node) || top.node.next.some((e) => e !== null && reaches.has(e.node))) reaches.add(top.node);
  }
  return reaches;
}

const accumulate = (prev: Tensor | null, g: Tensor): Tensor => (prev === null ? g : add(prev, g));

/** A gradient stored in `.grad`: its own contiguous data, never an alias of a user tensor or of another grad. */
const storedGrad = (g: Tensor): Tensor => (g.isContiguous() ? g.clone() : g.contiguous());

/**
 * Runs the backward pass from `roots`. With `inputs`, returns the gradients of the roots with respect to
 * them and leaves every `.grad` untouched (`torch.autograd.grad`); without, accumulates into the leaves.
 */
export function runBackward(
  roots: readonly Tensor[],
  gradients: readonly (Tensor | null | undefined)[],
  options: BackwardOptions,
  inputs?: readonly Tensor[],
): (Tensor | null)[] {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const rootEdges = roots.map(rootEdge);
  const buffers = new Map<GradNode, (Tensor | null)[]>();
  const addTo = (edge: Edge, g: Tensor) => {
    let buffer = buffers.get(edge.node);
    if (buffer === undefined) buffers.set(edge.node, (buffer = []));
    buffer[edge.outputNr] = accumulate(buffer[edge.outputNr] ?? null, g);
  };
  return withGradMode(createGraph, () => {
    rootEdges.forEach((edge, i) => addTo(edge, rootGrad(roots[i]!, gradients[i], i)));
    const inputEdges = inputs?.map((t, i) => {
      const edge = edgeOf(t);
      if (edge === null) throw new AutogradError(`grad: input ${i} (${describeTensor(t)}) does not require grad`, 'mark it with requiresGrad_() before computing the outputs');
      return edge;
    });
    const starts = [...new Set(rootEdges.map((e) => e.node))];
    const wanted = inputEdges ? nodesReaching(starts, new Set(inputEdges.map((e) => e.node))) : null;
    const deps = countDependencies(starts);
    const results: (Tensor | null)[] = inputEdges ? inputEdges.map(() => null) : [];
    const ready = starts.filter((n) => !deps.has(n));
    while (ready.length > 0) {
      const node = ready.pop()!;
      const buffer = buffers.get(node) ?? [];
      buffers.delete(node);
      inputEdges?.forEach((edge, i) => {
        if (edge.node === node && buffer[edge.outputNr]) results[i] = accumulate(results[i] ?? null, buffer[edge.outputNr]!);
      });
      runNode(node, buffer, wanted, retainGraph, addTo);
      for (const edge of node.next) {
        if (edge === null) continue;
        const left = deps.get(edge.node)! - 1;
        deps.set(edge.node, left);
        if (left === 0) ready.push(edge.node);
      }
    }
    return results;
  });
}

function runNode(
  node: GradNode,
  buffer: readonly (Tensor | null)[],
  wanted: ReadonlySet<GradNode> | null,
  retainGraph: boolean,
  addTo: (edge: Edge, g: Tensor) => void,
): void {
  if (node instanceof AccumulateGrad) {
    if (wanted === null && buffer[0]) node.leaf.grad = node.leaf.grad === null ? storedGrad(buffer[0]) : add(node.leaf.grad, buffer[0]);
    return;
  }
  node.retained?.forEach((t, nr) => {
    if (buffer[nr]) t.grad = t.grad === null ? storedGrad(buffer[nr]!) : add(t.grad, buffer[nr]!);
  });
  if (wanted !== null && !wanted.has(node)) return;
  if (buffer.every((g) => !g)) return;
  const grads = node.apply(buffer);
  if (!retainGraph) node.release();
  node.next.forEach((edge, i) => {
    const g = grads[i];
    if (edge !== null && g) addTo(edge, g);
  });
}
