import { expr as shapesExpr } from '@kiln/shapes';
import { getOp } from '@kiln/tensor';
import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';

/**
 * Dead-code elimination: removes call and constant nodes nobody reads. Ops that mutate an input, draw
 * random numbers or may raise on their input values are kept even when unused: removing them would change what the program does. So is a
 * data-dependent op (nonzero, item) whose unbacked symbol is still needed though its value is not: by a
 * runtime assert (which runs where the symbol is bound), or by a size anything live uses — the frame's
 * outputs (`return idx.shape[0] + 1`) or another node's arguments and shape.
 */
export function dce(graph: Graph): boolean {
  let changed = false;
  const needed = new Set(graph.asserts.flatMap((a) => a.symbols ?? []));
  // Reverse order: a node's readers come after it, so the symbols they need are known when it is reached.
  for (const node of [...graph.nodes].reverse()) {
    const live = !(node.kind === 'call' || node.kind === 'constant') || node.users.size > 0 || keptAnyway(node, needed);
    if (live) {
      collectSymbols([node.args, node.kwargs, node.kind === 'output' ? undefined : node.meta.val], needed);
      continue;
    }
    graph.erase(node);
    changed = true;
  }
  return changed;
}

/**
 * Ops whose eager kernel raises on some values (an index out of range, an integer remainder by zero): an
 * unused one still raises in eager code, so removing it would make the compiled program return instead.
 */
const RAISES_ON_VALUES: Record<string, (node: Node) => boolean> = {
  indexSelect: () => true,
  gather: () => true,
  oneHot: () => true,
  embedding: () => true,
  remainder: (node) => (node.meta.val as { dtype?: string } | undefined)?.dtype !== 'float32' && (node.meta.val as { dtype?: string } | undefined)?.dtype !== 'float64',
};

function keptAnyway(node: Node, needed: ReadonlySet<string>): boolean {
  const op = node.kind === 'call' ? getOp(node.target) : undefined;
  if (op && (op.mutatesSelf || op.random)) return true;
  if (op && RAISES_ON_VALUES[op.name]?.(node)) return true;
  return !!op?.dataDependent && [...collectSymbols([node.meta.val], new Set())].some((s) => needed.has(s));
}

/** Adds the free symbols of every SymInt / SymFloat inside `values` (nested arrays, objects, tensor shapes). */
function collectSymbols(values: unknown, into: Set<string>): Set<string> {
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || depth > 6) return;
    if ('isSymInt' in v || 'isSymFloat' in v) {
      for (const s of shapesExpr.freeSymbols((v as unknown as { expr: Parameters<typeof shapesExpr.freeSymbols>[0] }).expr)) into.add(s);
      return;
    }
    if (Array.isArray(v)) return v.forEach((x) => visit(x, depth + 1));
    const shape = (v as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return shape.forEach((x) => visit(x, depth + 1));
    if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) visit(x, depth + 1);
  };
  visit(values, 0);
  return into;
}
