import { getOp } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';

/**
 * Dead-code elimination: removes call and constant nodes nobody reads. Ops that mutate an input or draw
 * random numbers are kept even when unused: removing them would change what the program does. So is a
 * data-dependent op (nonzero, item) whose symbol a runtime assert reads: the assert runs where it is bound.
 */
export function dce(graph: Graph): boolean {
  let changed = false;
  const assertSymbols = new Set(graph.asserts.flatMap((a) => a.symbols ?? []));
  for (const node of [...graph.nodes].reverse()) {
    if (node.kind !== 'call' && node.kind !== 'constant') continue;
    if (node.users.size > 0) continue;
    const op = node.kind === 'call' ? getOp(node.target) : undefined;
    if (op && (op.mutatesSelf || op.random)) continue;
    if (op?.dataDependent && symbolsOf(node.meta.val).some((s) => assertSymbols.has(s))) continue;
    graph.erase(node);
    changed = true;
  }
  return changed;
}

/** The symbols a node's value names: itself (a scalar) or its dims. */
function symbolsOf(val: unknown): string[] {
  const shape = (val as { shape?: readonly unknown[] } | undefined)?.shape;
  const sizes = shape ?? [val];
  return sizes.filter((s) => typeof s === 'object' && s !== null && 'isSymInt' in s).map(String);
}
