// KILN_LOGS=graph_code: the captured graph as JavaScript over the tensor ops (as PT2's graph_code prints the
// FX graph's Python). A view of the graph IR for reading, never evaluated: strings are JSON-escaped.
import { Tensor } from '@kiln/tensor';
import { Node } from '@kiln/graph';
import type { Argument, Graph } from '@kiln/graph';

const IDENT = /^[A-Za-z_$][\w$]*$/;
const varName = (node: Node): string => (IDENT.test(node.name) ? node.name : `v${node.name.replace(/\W/g, '_')}`);

function argument(a: Argument): string {
  if (a instanceof Node) return varName(a);
  if (Array.isArray(a)) return `[${a.map(argument).join(', ')}]`;
  if (typeof a === 'string') return JSON.stringify(a);
  if (a === null || a === undefined || typeof a !== 'object') return String(a);
  if ('isSymInt' in a) return String(a);
  if (a instanceof Tensor) return `tensor(${JSON.stringify(String(a))})`;
  return `{ ${Object.entries(a).map(([k, v]) => `${IDENT.test(k) ? k : JSON.stringify(k)}: ${argument(v as Argument)}`).join(', ')} }`;
}

export function graphCode(graph: Graph, name: string): string {
  const params = graph.nodes.filter((n) => n.kind === 'placeholder').map(varName);
  const lines = [`function ${IDENT.test(name) ? name : 'graph'}(${params.join(', ')}) {`];
  for (const node of graph.nodes) {
    const src = node.meta.source ? `  // ${node.meta.source.file}:${node.meta.source.line}` : '';
    if (node.kind === 'call') {
      const args = node.args.map(argument);
      if (Object.keys(node.kwargs).length) args.push(argument(node.kwargs as Argument));
      lines.push(`  const ${varName(node)} = ${IDENT.test(node.target) ? node.target : JSON.stringify(node.target)}(${args.join(', ')});${src}`);
    } else if (node.kind === 'constant') {
      lines.push(`  const ${varName(node)} = ${argument(node.args[0])};`);
    } else if (node.kind === 'output') {
      lines.push(`  return ${argument(node.args[0])};`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}
