// A rewrite pass: `x.mul(x.mul(beta).sigmoid())` and `x.mul(x.sigmoid())` (in either operand order), as users
// write swish by hand, become one `exampleSwish(x, beta)` node, which the CPU backend lowers to one fused
// expression. It runs after CSE (so `x.sigmoid()` written twice is already one node) and before DCE (which
// removes the sigmoid and mul it leaves dead).
import { Node } from '@kiln/graph';
import type { Argument, Graph } from '@kiln/graph';
import { isFloating } from '@kiln/tensor';
import type { DType } from '@kiln/tensor';
import { SWISH_OP } from './swish.js';

const callOf = (a: Argument | undefined, target: string): Node | undefined => (a instanceof Node && a.kind === 'call' && a.target === target ? a : undefined);

/** `sigmoid(x)` → [x, 1]; `sigmoid(mul(x, beta))` with a constant beta → [x, beta]. */
function sigmoidOperand(sig: Node): [Node, number] | undefined {
  const inner = sig.args[0];
  const scaled = callOf(inner, 'mul');
  if (scaled && scaled.args[0] instanceof Node && typeof scaled.args[1] === 'number') return [scaled.args[0], scaled.args[1]];
  return inner instanceof Node ? [inner, 1] : undefined;
}

const isFloatTensor = (n: Node): boolean => {
  const dtype = (n.meta.val as { dtype?: DType } | undefined)?.dtype;
  return dtype !== undefined && isFloating(dtype);
};

/** Whether the node is `mul(x, sigmoid(beta·x))` or `mul(sigmoid(beta·x), x)` of a float x; gives x and beta. */
function matchSwish(node: Node): [Node, number] | undefined {
  if (node.kind !== 'call' || node.target !== 'mul' || Object.keys(node.kwargs).length) return undefined;
  const [a, b] = node.args;
  for (const [x, other] of [[a, b], [b, a]] as const) {
    const sig = callOf(other, 'sigmoid');
    const operand = sig && sigmoidOperand(sig);
    // Integer inputs promote inside sigmoid; the op takes floats only, so those stay as written.
    if (operand && operand[0] === x && isFloatTensor(x)) return operand;
  }
  return undefined;
}

/** Rewrites every match in place; returns whether it changed the graph. */
export function fuseSwish(graph: Graph): boolean {
  let changed = false;
  for (const node of [...graph.nodes]) {
    const match = matchSwish(node);
    if (!match) continue;
    const [x, beta] = match;
    const fused = graph.insertBefore(node, () => graph.call(SWISH_OP, [x, beta], {}, { ...node.meta }));
    graph.replaceAllUsesWith(node, fused);
    changed = true;
  }
  return changed;
}
