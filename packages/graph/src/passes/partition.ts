// Splits a joint forward+backward graph into a forward graph (which also returns the values the backward
// needs) and a backward graph, choosing what to save. Rule: graph inputs are never saved (the backward gets
// them again); matmul, reduction and other non-pointwise results are saved; pointwise ops and views whose
// inputs are inputs, saved values or themselves recomputable are recomputed in the backward instead of
// saved (AOTAutograd's recompute of cheap ops: they cost a pass over memory, not a kernel's arithmetic).
import { getOp } from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { Graph } from '../ir/graph.js';
import type { Argument, Node } from '../ir/node.js';
import { mapArgument } from '../ir/node.js';

export interface Partition {
  forward: Graph;
  backward: Graph;
  /** Forward values passed to the backward (besides the inputs): nodes of `forward`. */
  saved: Node[];
  /** Forward values the backward recomputes instead: nodes of `backward`. */
  recomputed: Node[];
  /** The same values as nodes of `forward` (the names the forward graph prints). */
  recomputedInForward: Node[];
  /** Bytes of the saved values, and of the recomputed ones that a save-everything rule would have kept too. */
  savedBytes: number;
  recomputedBytes: number;
}

const RECOMPUTABLE = new Set(['pointwise', 'view']);

/** The rule below in words, for explain and the docs. */
export const RECOMPUTE_RULE =
  'inputs are passed again, never saved; matmul, reduction and other non-pointwise results are saved; pointwise ops and views (not random, not in-place, not data-dependent) computed from inputs, saved or recomputed values are recomputed in the backward';

/** Bytes of a node's value; a symbolic size counts at its hint (the size of the inputs the graph was traced for). */
export function valueBytes(node: Node): number {
  const val = node.meta.val as Tensor | undefined;
  if (!val || !Array.isArray(val.shape)) return 0;
  const size = val.dtype === 'float64' ? 8 : val.dtype === 'bool' ? 1 : 4;
  const hint = (d: unknown): number => (typeof d === 'number' ? d : ((d as { hint?: number } | null)?.hint ?? 0));
  return (val.shape as unknown[]).reduce<number>((a, b) => a * hint(b), size);
}

/** Every node `args` reach through their arguments (the nodes they need), including themselves. */
function ancestors(args: readonly Argument[]): Set<Node> {
  const seen = new Set<Node>();
  const stack: Node[] = [];
  const visit = (a: Argument) => mapArgument(a, (n) => (seen.has(n) || (seen.add(n), stack.push(n)), n));
  args.forEach(visit);
  while (stack.length) {
    const n = stack.pop()!;
    n.args.forEach(visit);
    Object.values(n.kwargs).forEach(visit);
  }
  return seen;
}

/** Copies `nodes` (in graph order) into `into`, mapping arguments through `env`. */
function copyNodes(nodes: readonly Node[], into: Graph, env: Map<Node, Node>): void {
  const remap = (a: Argument) => mapArgument(a, (n) => env.get(n)!);
  for (const n of nodes) {
    const copy =
      n.kind === 'constant'
        ? into.constant(n.args[0] as Argument, { ...n.meta })
        : into.call(n.target, n.args.map(remap), Object.fromEntries(Object.entries(n.kwargs).map(([k, v]) => [k, remap(v)])), { ...n.meta });
    env.set(n, copy);
  }
}

/**
 * `joint` has placeholders [inputs (numInputs)…, cotangents…] and outputs [forward outputs (numOutputs)…,
 * input gradients…]. The forward graph takes the inputs and returns [forward outputs…, saved…]; the backward
 * takes [inputs…, saved…, cotangents…] and returns the gradients.
 */
export function partitionJoint(joint: Graph, numInputs: number, numOutputs: number): Partition {
  const output = joint.outputNode()!;
  const outs = output.args[0] as readonly Argument[];
  const fwdOuts = outs.slice(0, numOutputs);
  const gradOuts = outs.slice(numOutputs);
  const placeholders = joint.placeholders();
  const inputs = new Set(placeholders.slice(0, numInputs));
  const forwardSet = ancestors(fwdOuts);
  const backwardSet = ancestors(gradOuts);
  const recomputable = (n: Node): boolean => {
    if (n.kind !== 'call') return n.kind === 'constant';
    const op = getOp(n.target);
    return op !== undefined && RECOMPUTABLE.has(op.category) && !op.random && !op.mutatesSelf && !op.dataDependent;
  };
  // Walk the backward's needs into the forward: stop at inputs and at values to save.
  const saved = new Set<Node>();
  const recomputed = new Set<Node>();
  const stack = [...backwardSet].filter((n) => !forwardSet.has(n));
  const visitArg = (a: Argument) =>
    mapArgument(a, (n) => {
      if (!forwardSet.has(n) || inputs.has(n) || saved.has(n) || recomputed.has(n)) return n;
      if (recomputable(n)) {
        recomputed.add(n);
        stack.push(n);
      } else saved.add(n);
      return n;
    });
  while (stack.length) {
    const n = stack.pop()!;
    n.args.forEach(visitArg);
    Object.values(n.kwargs).forEach(visitArg);
  }
  const order = joint.nodes;
  const savedList = order.filter((n) => saved.has(n));

  const forward = new Graph('core');
  const fenv = new Map<Node, Node>();
  placeholders.slice(0, numInputs).forEach((p) => fenv.set(p, forward.placeholder(p.name, { ...p.meta })));
  copyNodes(order.filter((n) => forwardSet.has(n) && (n.kind === 'call' || n.kind === 'constant')), forward, fenv);
  forward.output([...fwdOuts, ...savedList].map((a) => mapArgument(a, (n) => fenv.get(n)!)));
  // The forward runs every node that binds a data-dependent symbol, so the runtime asserts go with it.
  forward.symbols = joint.symbols;
  forward.asserts = joint.asserts;

  const backward = new Graph('core');
  const benv = new Map<Node, Node>();
  placeholders.slice(0, numInputs).forEach((p) => benv.set(p, backward.placeholder(p.name, { ...p.meta })));
  savedList.forEach((n, i) => benv.set(n, backward.placeholder(`saved${i}`, { val: n.meta.val })));
  placeholders.slice(numInputs).forEach((p) => benv.set(p, backward.placeholder(p.name, { ...p.meta })));
  const inBackward = (n: Node) => (n.kind === 'call' || n.kind === 'constant') && !saved.has(n) && (recomputed.has(n) || (backwardSet.has(n) && !forwardSet.has(n)));
  copyNodes(order.filter(inBackward), backward, benv);
  backward.output(gradOuts.map((a) => mapArgument(a, (n) => benv.get(n)!)));
  backward.symbols = joint.symbols;

  const sum = (nodes: Iterable<Node>) => [...nodes].reduce((a, n) => a + valueBytes(n), 0);
  return {
    forward,
    backward,
    saved: savedList.map((n) => fenv.get(n)!),
    recomputed: order.filter((n) => recomputed.has(n)).map((n) => benv.get(n)!),
    recomputedInForward: order.filter((n) => recomputed.has(n)).map((n) => fenv.get(n)!),
    savedBytes: sum(saved),
    recomputedBytes: sum(recomputed),
  };
}
