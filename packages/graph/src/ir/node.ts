import type { DType } from '@kiln/tensor';

/** Where a node came from in the user's code. */
export interface SourceLocation {
  /** The file's name, for display (`model.ts`). */
  file: string;
  line: number;
  column?: number;
  /** The file's full path or URL, for stack frames a debugger can open. */
  path?: string;
}

export const NODE_KINDS = ['placeholder', 'call', 'constant', 'output'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/**
 * A node's value as the graph knows it: a fake tensor (shape, strides, dtype; no data), a symbolic or plain
 * number, or a list of those for multi-output ops. Kept loose here so the IR does not depend on the tracer.
 */
export interface NodeMeta {
  val?: unknown;
  source?: SourceLocation;
  /** For placeholders: where the runtime value comes from (`L.x`, `C.weight`). */
  inputSource?: string;
  /** Free-form notes from passes and plugins (FX's `meta` is a dict for the same reason). */
  [key: string]: unknown;
}

/** An argument: a node, a constant, or arrays / plain objects of those. */
export type Argument = Node | number | boolean | string | null | undefined | DType | { readonly isSymInt: true } | readonly Argument[] | { readonly [key: string]: Argument };

/**
 * One operation in a Graph. `target` is an op name from the registry (`add`, `matmul`), or a symbolic-size
 * function (`sym.size`, `sym.item`) — a string so that graphs serialize without code. Users are kept in sync
 * by the Graph: never assign `args` directly, use `graph.setArgs`.
 */
export class Node {
  readonly users = new Set<Node>();
  meta: NodeMeta = {};

  constructor(
    readonly id: number,
    public name: string,
    readonly kind: NodeKind,
    readonly target: string,
    public args: readonly Argument[],
    public kwargs: { readonly [key: string]: Argument },
  ) {}

  /** The nodes this node reads, in argument order. */
  inputs(): Node[] {
    const found: Node[] = [];
    const seen = new Set<Node>();
    const visit = (a: Argument): void => {
      if (a instanceof Node) {
        if (!seen.has(a)) {
          seen.add(a);
          found.push(a);
        }
      } else if (Array.isArray(a)) a.forEach(visit);
      else if (a !== null && typeof a === 'object' && !('isSymInt' in a)) Object.values(a).forEach(visit);
    };
    this.args.forEach(visit);
    Object.values(this.kwargs).forEach(visit);
    return found;
  }

  toString(): string {
    return `%${this.name}`;
  }
}

/** Rebuilds an argument with every node replaced by `f(node)`. */
export function mapArgument(a: Argument, f: (n: Node) => Argument): Argument {
  if (a instanceof Node) return f(a);
  if (Array.isArray(a)) return a.map((x) => mapArgument(x, f));
  if (a !== null && typeof a === 'object' && !('isSymInt' in a)) {
    const out: Record<string, Argument> = {};
    for (const [k, v] of Object.entries(a)) out[k] = mapArgument(v as Argument, f);
    return out;
  }
  return a;
}
