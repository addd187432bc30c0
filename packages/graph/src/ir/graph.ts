import { KilnError } from '@kiln/tensor';
import type { Argument, NodeKind, NodeMeta } from './node.js';
import { Node, mapArgument } from './node.js';
import type { GraphAssert } from './asserts.js';

export class GraphError extends KilnError {}

/**
 * An FX-like graph: an ordered list of nodes (topological by construction), users kept in sync on every
 * edit. `level` says which guarantees hold (see the package README): the API graph records public calls as
 * written; the core graph holds only core ops with shapes and dtypes on every node.
 */
export class Graph {
  private readonly list: Node[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();
  private readonly members = new Set<Node>();
  /** Symbol ranges and runtime asserts travel with the graph (filled by the tracer's shape env). */
  symbols: { name: string; range: string; source?: string }[] = [];
  asserts: GraphAssert[] = [];

  constructor(public level: 'api' | 'core' = 'api') {}

  get nodes(): readonly Node[] {
    return this.list;
  }

  placeholder(name: string, meta: NodeMeta = {}): Node {
    return this.insert('placeholder', name, 'placeholder', [], {}, meta);
  }

  call(target: string, args: readonly Argument[], kwargs: Record<string, Argument> = {}, meta: NodeMeta = {}): Node {
    return this.insert('call', 'n', target, args, kwargs, meta);
  }

  constant(value: Argument, meta: NodeMeta = {}): Node {
    return this.insert('constant', 'const', 'constant', [value], {}, meta);
  }

  output(value: Argument): Node {
    if (this.outputNode()) throw new GraphError('graph already has an output node');
    return this.insert('output', 'output', 'output', [value], {}, {});
  }

  outputNode(): Node | undefined {
    const last = this.list[this.list.length - 1];
    return last?.kind === 'output' ? last : undefined;
  }

  placeholders(): Node[] {
    return this.list.filter((n) => n.kind === 'placeholder');
  }

  /** Inserts before `anchor` (for passes that expand a node into several). */
  insertBefore(anchor: Node, build: () => Node): Node {
    const node = build();
    const at = this.list.indexOf(anchor);
    this.list.splice(this.list.indexOf(node), 1);
    this.list.splice(at, 0, node);
    return node;
  }

  setArgs(node: Node, args: readonly Argument[], kwargs: Record<string, Argument> = node.kwargs as Record<string, Argument>): void {
    for (const input of node.inputs()) input.users.delete(node);
    node.args = args;
    node.kwargs = kwargs;
    for (const input of node.inputs()) input.users.add(node);
  }

  replaceAllUsesWith(node: Node, replacement: Node): void {
    for (const user of [...node.users]) {
      const swap = (n: Node): Argument => (n === node ? replacement : n);
      this.setArgs(
        user,
        user.args.map((a) => mapArgument(a, swap)),
        mapArgument(user.kwargs as Argument, swap) as Record<string, Argument>,
      );
    }
  }

  erase(node: Node): void {
    if (node.users.size > 0) {
      throw new GraphError(`cannot erase %${node.name}: still used by ${[...node.users].map(String).join(', ')}`);
    }
    for (const input of node.inputs()) input.users.delete(node);
    this.list.splice(this.list.indexOf(node), 1);
    this.names.delete(node.name);
    this.members.delete(node);
  }

  private insert(kind: NodeKind, base: string, target: string, args: readonly Argument[], kwargs: Record<string, Argument>, meta: NodeMeta): Node {
    if (this.outputNode() && kind !== 'output') {
      // Keep the output last: new nodes go before it.
      const node = this.create(kind, base, target, args, kwargs, meta);
      this.list.splice(this.list.length - 1, 0, node);
      return node;
    }
    const node = this.create(kind, base, target, args, kwargs, meta);
    this.list.push(node);
    return node;
  }

  private create(kind: NodeKind, base: string, target: string, args: readonly Argument[], kwargs: Record<string, Argument>, meta: NodeMeta): Node {
    // Placeholders keep a readable name (`x`, `W`); other nodes are numbered, as in the printed form `%3`.
    let name = kind === 'placeholder' ? base.replace(/\W/g, '_') || 'input' : String(this.nextId);
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    const node = new Node(this.nextId++, name, kind, target, args, kwargs);
    node.meta = { ...meta };
    this.members.add(node);
    for (const input of node.inputs()) {
      if (!this.members.has(input)) throw new GraphError(`%${name} reads %${input.name}, which is not in this graph`);
      input.users.add(node);
    }
    return node;
  }
}
