import { getOp } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';

/**
 * Dead-code elimination: removes call and constant nodes nobody reads. Ops that mutate an input or draw
 * random numbers are kept even when unused: removing them would change what the program does.
 */
export function dce(graph: Graph): boolean {
  let changed = false;
  for (const node of [...graph.nodes].reverse()) {
    if (node.kind !== 'call' && node.kind !== 'constant') continue;
    if (node.users.size > 0) continue;
    const op = node.kind === 'call' ? getOp(node.target) : undefined;
    if (op && (op.mutatesSelf || op.random)) continue;
    graph.erase(node);
    changed = true;
  }
  return changed;
}
