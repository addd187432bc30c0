import { KilnError, Tensor, getOp } from '@kiln/tensor';
import { expr as shapesExpr } from '@kiln/shapes';
import type { Expr } from '@kiln/shapes';
import type { Graph } from './graph.js';
import type { Argument } from './node.js';
import { withUserFrame } from './user-frame.js';
import { Node } from './node.js';
import { printNodeLine } from './print.js';
import { assertFailure, evaluateAssert } from './asserts.js';
import type { GraphAssert } from './asserts.js';

/** An error raised while running a node, naming the node, its printed form and the user's source line. */
export class NodeExecutionError extends KilnError {
  constructor(
    readonly node: Node,
    override readonly cause: unknown,
    /** The op itself raised `cause` (eager code calling it would raise the same), not the interpreter. */
    readonly raisedByOp = false,
  ) {
    const src = node.meta.source ? ` (${node.meta.source.file}:${node.meta.source.line})` : '';
    super(`while executing ${printNodeLine(node)}${src}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * The error compiled code raises for a failed node: what the op raised (its class and message, as eager code
 * sees them), with the node's user source as the top stack frame, so `catch (e) { if (e instanceof IndexError) … }`
 * works the same compiled. Errors of the interpreter itself stay NodeExecutionErrors.
 */
export function userFacingError(err: unknown): unknown {
  if (!(err instanceof NodeExecutionError) || !err.raisedByOp || !(err.cause instanceof Error)) return err;
  return withUserFrame(err.cause, `${err.node.target} %${err.node.name}`, err.node.meta.source);
}

export type SymbolicValue = { readonly isSymInt: true; readonly expr: Expr; readonly env?: { normalize(e: Expr): Expr } };
const isSymbolic = (x: unknown): x is SymbolicValue => typeof x === 'object' && x !== null && 'isSymInt' in x;

/**
 * Runs a graph with the eager kernels: the `eager` backend, and the reference every other backend is checked
 * against. Symbols are bound as their values appear (input sizes at the placeholders, data-dependent values
 * at the nodes that produce them), so symbolic arguments such as `zeros([u0])` evaluate to numbers.
 * Methods are per node kind so a subclass can override one (FX's Interpreter does the same).
 */
export class Interpreter {
  protected readonly env = new Map<Node, unknown>();
  protected readonly symbols = new Map<string, number>();

  constructor(readonly graph: Graph) {}

  run(inputs: readonly unknown[]): unknown {
    this.env.clear();
    this.symbols.clear();
    let nextInput = 0;
    const pending = this.graph.asserts.filter((a) => a.cond !== undefined);
    for (const node of this.graph.nodes) {
      try {
        switch (node.kind) {
          case 'placeholder':
            this.env.set(node, this.placeholder(node, inputs[nextInput++]));
            break;
          case 'constant':
            this.env.set(node, node.args[0]);
            break;
          case 'call':
            this.env.set(node, this.call(node));
            break;
          case 'output':
            return this.evalArg(node.args[0]);
          default:
            node.kind satisfies never;
        }
      } catch (err) {
        if (err instanceof NodeExecutionError) throw err;
        throw new NodeExecutionError(node, err);
      }
      // Right after the node that binds their last symbol, before anything sized by it runs.
      if (pending.length) this.checkAsserts(pending);
    }
    throw new KilnError('graph has no output node');
  }

  protected placeholder(node: Node, value: unknown): unknown {
    if (value === undefined) throw new KilnError(`missing input for placeholder %${node.name}`);
    // Input sizes, and an int scalar input's own symbol (a runtime assert may read it).
    this.bind(node.meta.val, value);
    return value;
  }

  protected call(node: Node): unknown {
    const args = node.args.map((a) => this.evalArg(a));
    if (node.target === 'getitem') {
      const [container, key] = args as [Record<string | number, unknown>, string | number];
      const value = container[key];
      this.bind(node.meta.val, value);
      return value;
    }
    const op = getOp(node.target);
    if (!op) throw new KilnError(`unknown op '${node.target}'`);
    const kwargs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node.kwargs)) kwargs[k] = this.evalArg(v);
    let result: unknown;
    try {
      result = Object.keys(kwargs).length ? op.fn(...args, kwargs) : op.fn(...args);
    } catch (err) {
      throw new NodeExecutionError(node, err, true);
    }
    this.bind(node.meta.val, result);
    return result;
  }

  /**
   * Records `symbol = value` for a bare symbol (`s0`, `u1`): a scalar result (`item()`, a bool counts as
   * 0/1) or a dim of a tensor result (`nonzero()`'s row count).
   */
  protected bind(recorded: unknown, actual: unknown): void {
    if (actual instanceof Tensor) {
      const shape = (recorded as { shape?: readonly unknown[] } | undefined)?.shape;
      shape?.forEach((size, d) => this.bind(size, actual.shape[d]));
      return;
    }
    if (!isSymbolic(recorded) || (typeof actual !== 'number' && typeof actual !== 'boolean')) return;
    const text = String(recorded);
    if (/^[su]\d+$/.test(text) && !this.symbols.has(text)) this.symbols.set(text, Number(actual));
  }

  /** Runs (and drops) the asserts whose symbols are all bound; a false one raises CheckFailedError. */
  private checkAsserts(pending: GraphAssert[]): void {
    for (let i = 0; i < pending.length; i++) {
      const ok = evaluateAssert(pending[i]!, (s) => this.symbols.get(s));
      if (ok === undefined) continue;
      if (!ok) throw assertFailure(pending[i]!);
      pending.splice(i--, 1);
    }
  }

  /** The value of a symbolic argument (`reshape(%x, [s0, 4])`) from the symbols bound so far. */
  protected evalSymbolic(a: SymbolicValue): unknown {
    // Normalized first: a symbol specialized after this value was recorded (`s0 - 1 == 1` guarded by a
    // later expand) is no graph input any more, so only its replacement can be evaluated.
    const v = shapesExpr.evaluate(a.env ? a.env.normalize(a.expr) : a.expr, (name) => this.symbols.get(name));
    if (v === undefined) throw new KilnError(`symbolic size ${String(a)} has unbound symbols at run time`);
    return v;
  }

  protected evalArg(a: Argument): unknown {
    if (a instanceof Node) {
      if (!this.env.has(a)) throw new KilnError(`%${a.name} is read before it is computed`);
      return this.env.get(a);
    }
    if (Array.isArray(a)) return a.map((x) => this.evalArg(x));
    if (isSymbolic(a)) return this.evalSymbolic(a);
    if (a !== null && typeof a === 'object' && !(a instanceof Tensor)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(a)) out[k] = this.evalArg(v as Argument);
      return out;
    }
    return a;
  }
}
