import { Tensor } from '@kiln/tensor';
import { shortNameOf } from './values.js';
import type { Graph } from './graph.js';
import type { Argument } from './node.js';
import { Node } from './node.js';

/** `f32[s0, 64]` for a tensor value, `int s0` / `float` for scalars, a tuple for several outputs. */
export function formatValue(val: unknown): string {
  if (val === undefined) return '?';
  if (Array.isArray(val)) return `(${val.map(formatValue).join(', ')})`;
  if (typeof val === 'number') return Number.isInteger(val) ? `int ${val}` : `float ${val}`;
  if (typeof val === 'boolean') return `bool ${val}`;
  if (typeof val === 'object' && val !== null) {
    const v = val as { shape?: readonly unknown[]; dtype?: string; isSymInt?: true; isSymBool?: true; isSymFloat?: true };
    if (v.shape && v.dtype) return `${shortNameOf(v.dtype)}[${v.shape.map(String).join(', ')}]`;
    if (v.isSymInt) return `int ${String(val)}`;
    if (v.isSymBool) return `bool ${String(val)}`;
    if (v.isSymFloat) return `float ${String(val)}`;
  }
  return typeof val;
}

export function formatArgument(a: Argument): string {
  if (a instanceof Node) return `%${a.name}`;
  if (Array.isArray(a)) return `[${a.map(formatArgument).join(', ')}]`;
  if (typeof a === 'string') return JSON.stringify(a);
  if (a === null || a === undefined || typeof a !== 'object') return String(a);
  if ('isSymInt' in a) return String(a);
  if (a instanceof Tensor) return String(a);
  return `{${Object.entries(a).map(([k, v]) => `${k}: ${formatArgument(v as Argument)}`).join(', ')}}`;
}

/** One node's printed line, without the source comment (used in error messages). */
export function printNodeLine(node: Node): string {
  const lhs = `%${node.name}: ${formatValue(node.meta.val)}`;
  switch (node.kind) {
    case 'placeholder':
      return `${lhs} = placeholder${node.meta.inputSource ? `[${node.meta.inputSource}]` : ''}`;
    case 'constant':
      return `${lhs} = constant(${formatArgument(node.args[0])})`;
    case 'output':
      return `return ${formatArgument(node.args[0])}`;
    case 'call': {
      const args = node.args.map(formatArgument);
      for (const [k, v] of Object.entries(node.kwargs)) args.push(`${k}=${formatArgument(v)}`);
      return `${lhs} = ${node.target}(${args.join(', ')})`;
    }
    default:
      return node.kind satisfies never;
  }
}

/**
 * The one printer of the graph IR: deterministic, one line per node, the user's source location as a
 * trailing comment, then the symbols' ranges and the runtime asserts.
 */
export function printGraph(graph: Graph): string {
  const lines = graph.nodes.map((node) => {
    const text = printNodeLine(node);
    const src = node.meta.source;
    return src ? `${text.padEnd(48)}  # ${src.file}:${src.line}` : text;
  });
  for (const s of graph.symbols) lines.push(`# symbol ${s.name}: ${s.range}${s.source ? ` (${s.source})` : ''}`);
  for (const a of graph.asserts) lines.push(`# assert ${a.expr}${a.source ? `    # ${a.source}` : ''}`);
  return lines.join('\n');
}
