// A graph as the picture needs it: boxes with short labels and the edges between them. Taken when the graph
// is seen (the passes edit the captured graph in place afterwards), so it holds only plain strings.
import type { Graph, Node } from '@kiln/graph';
import { formatArgument, formatValue } from '@kiln/graph';

export type PictureNodeKind = Node['kind'];

export interface PictureNode {
  readonly id: string;
  readonly kind: PictureNodeKind;
  /** First label line: `%3 = matmul`, `%x = input L['x']`, `output`. */
  readonly title: string;
  /** Second label line: the value's type (`f32[2, 64]`) and the user's source line. */
  readonly detail: string;
  /** The node's full printed form, shown as the box's tooltip. */
  readonly full: string;
  /** Set on core-graph nodes the backend runs on their eager kernel (a step of the program, not generated code). */
  readonly eager?: boolean;
}

export interface GraphPicture {
  readonly nodes: readonly PictureNode[];
  /** [from, to] node ids: `to` reads `from`. */
  readonly edges: readonly (readonly [string, string])[];
}

function titleOf(node: Node): string {
  switch (node.kind) {
    case 'placeholder':
      return `%${node.name} = input${node.meta.inputSource ? ` ${node.meta.inputSource}` : ''}`;
    case 'constant':
      return `%${node.name} = constant ${formatArgument(node.args[0])}`;
    case 'call':
      return `%${node.name} = ${node.target}`;
    case 'output':
      return 'output';
    default:
      return node.kind satisfies never;
  }
}

function detailOf(node: Node): string {
  if (node.kind === 'output') return `${node.inputs().length} value${node.inputs().length === 1 ? '' : 's'}`;
  const src = node.meta.source;
  return `${formatValue(node.meta.val)}${src ? `  ${src.file}:${src.line}` : ''}`;
}

function fullOf(node: Node): string {
  if (node.kind !== 'call') return titleOf(node);
  const args = node.args.map(formatArgument);
  for (const [k, v] of Object.entries(node.kwargs)) args.push(`${k}=${formatArgument(v)}`);
  return `%${node.name} = ${node.target}(${args.join(', ')})`;
}

/** `eagerNodes`: names of the nodes the backend runs as eager steps (marked in the picture). */
export function snapshotGraph(graph: Graph, eagerNodes: ReadonlySet<string> = new Set()): GraphPicture {
  const ids = new Map<Node, string>(graph.nodes.map((n, i) => [n, `n${i}`]));
  const nodes = graph.nodes.map((n) => ({
    id: ids.get(n)!, kind: n.kind, title: titleOf(n), detail: detailOf(n), full: fullOf(n), ...(eagerNodes.has(n.name) ? { eager: true } : {}),
  }));
  const edges = graph.nodes.flatMap((n) => n.inputs().flatMap((input) => (ids.has(input) ? [[ids.get(input)!, ids.get(n)!] as const] : [])));
  return { nodes, edges };
}
