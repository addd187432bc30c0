import { Tensor, getOp } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';
import type { Argument } from '../ir/node.js';
import { Node } from '../ir/node.js';

/** Small constants only: folding a large tensor into the graph would bloat it and every cache entry. */
const MAX_FOLDED_ELEMENTS = 1024;

/**
 * Runs pure ops whose inputs are all constants at compile time and replaces them with a constant node.
 * Random, in-place and data-dependent ops are never folded.
 */
export function constantFold(graph: Graph): boolean {
  let changed = false;
  for (const node of [...graph.nodes]) {
    if (node.kind !== 'call' || node.target === 'getitem') continue;
    const op = getOp(node.target);
    if (!op || op.random || op.mutatesSelf || op.dataDependent) continue;
    const inputs = node.inputs();
    if (!inputs.every((n) => n.kind === 'constant')) continue;
    if (hasSymbols(node.args) || hasSymbols(Object.values(node.kwargs))) continue;
    const read = (a: Argument): unknown => (a instanceof Node ? a.args[0] : Array.isArray(a) ? a.map(read) : a);
    const kwargs = Object.fromEntries(Object.entries(node.kwargs).map(([k, v]) => [k, read(v)]));
    const value = op.fn(...node.args.map(read), ...(Object.keys(kwargs).length ? [kwargs] : []));
    if (!(value instanceof Tensor) || value.numel > MAX_FOLDED_ELEMENTS) continue;
    const folded = graph.insertBefore(node, () => graph.constant(value as unknown as Argument, { ...node.meta }));
    graph.replaceAllUsesWith(node, folded);
    graph.erase(node);
    changed = true;
  }
  return changed;
}

function hasSymbols(args: readonly Argument[]): boolean {
  return args.some((a) =>
    Array.isArray(a) ? hasSymbols(a) : a !== null && typeof a === 'object' && 'isSymInt' in a,
  );
}
