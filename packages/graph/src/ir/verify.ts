import { getOp } from '@kiln/tensor';
import type { Graph } from './graph.js';
import { GraphError } from './graph.js';
import type { Node } from './node.js';

/**
 * Checks the graph's invariants: every input is defined earlier, users match uses, exactly one output and
 * last, call targets are known ops, and in a core graph only core ops with a fake value on each node.
 */
export function verify(graph: Graph, when = ''): void {
  const fail = (node: Node | null, message: string): never => {
    throw new GraphError(`invalid graph${when ? ` ${when}` : ''}${node ? ` at %${node.name}` : ''}: ${message}`);
  };
  const defined = new Set<Node>();
  const nodes = graph.nodes;
  // Each node's inputs are collected once: asking a user for its inputs once per input it reads made a
  // node with n inputs cost O(n²) (a 5,000-input cat took 26 s to verify).
  const inputSets = new Map<Node, Set<Node>>();
  const inputsOf = (node: Node): Set<Node> => {
    let set = inputSets.get(node);
    if (set === undefined) inputSets.set(node, (set = new Set(node.inputs())));
    return set;
  };
  nodes.forEach((node, i) => {
    if (node.kind === 'output' && i !== nodes.length - 1) fail(node, 'the output node must be last');
    for (const input of inputsOf(node)) {
      if (!defined.has(input)) fail(node, `reads %${input.name} before it is defined`);
      if (!input.users.has(node)) fail(node, `is missing from the users of %${input.name}`);
    }
    for (const user of node.users) {
      if (!inputsOf(user).has(node)) fail(node, `lists %${user.name} as a user, but it does not read this node`);
    }
    if (node.kind === 'call' && node.target !== 'getitem') {
      const op = getOp(node.target);
      if (!op) fail(node, `unknown op '${node.target}'`);
      if (graph.level === 'core' && !op!.isCore) fail(node, `'${node.target}' is not a core op in a core graph`);
    }
    if (graph.level === 'core' && node.kind !== 'output' && node.meta.val === undefined) fail(node, 'has no value (shape/dtype)');
    defined.add(node);
  });
  if (nodes[nodes.length - 1]?.kind !== 'output') fail(null, 'has no output node');
}
