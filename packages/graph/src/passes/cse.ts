import { getOp } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';
import { formatArgument } from '../ir/print.js';

/**
 * Common-subexpression elimination: two calls of the same pure op on the same arguments become one. The
 * key is the printed call, which names argument nodes by identity and constants by value.
 */
export function cse(graph: Graph): boolean {
  const seen = new Map<string, (typeof graph.nodes)[number]>();
  let changed = false;
  for (const node of [...graph.nodes]) {
    if (node.kind !== 'call') continue;
    const op = getOp(node.target);
    if (node.target !== 'getitem' && (!op || op.mutatesSelf || op.random || op.dataDependent)) continue;
    const key = `${node.target}(${node.args.map(formatArgument).join(',')};${formatArgument(node.kwargs)})`;
    const previous = seen.get(key);
    if (previous) {
      graph.replaceAllUsesWith(node, previous);
      graph.erase(node);
      changed = true;
    } else {
      seen.set(key, node);
    }
  }
  return changed;
}
