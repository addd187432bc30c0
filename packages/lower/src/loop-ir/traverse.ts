// Walking and rewriting value expressions. Expressions are DAGs when lowering shares a node between
// uses (CSE); a rewrite keeps that sharing, so a backend that computes a shared node once still can.
import type { ValueExpr } from './loop-ir.js';

/** The operands of a node, in evaluation order. */
export function operands(e: ValueExpr): ValueExpr[] {
  switch (e.kind) {
    case 'unary':
    case 'cast':
      return [e.x];
    case 'binary':
      return [e.a, e.b];
    case 'where':
      return [e.cond, e.a, e.b];
    case 'gather':
      return [e.position];
    default:
      return [];
  }
}

/** Visits every node, parents first (a shared node once per use). */
export function walk(e: ValueExpr, visit: (e: ValueExpr) => void): void {
  visit(e);
  for (const o of operands(e)) walk(o, visit);
}

/** True if some node satisfies `test`. */
export function someNode(e: ValueExpr, test: (e: ValueExpr) => boolean): boolean {
  return test(e) || operands(e).some((o) => someNode(o, test));
}

/**
 * Rebuilds `e` top-down: where `replace` returns a node it takes the place of the subtree; elsewhere the
 * node is rebuilt over rewritten operands (or kept as is when none changed). Pass one `memo` to several
 * calls to keep nodes shared between the expressions of one kernel shared after the rewrite.
 */
export function mapValue(
  e: ValueExpr,
  replace: (e: ValueExpr) => ValueExpr | undefined,
  memo: Map<ValueExpr, ValueExpr> = new Map(),
): ValueExpr {
  const hit = memo.get(e);
  if (hit) return hit;
  let out = replace(e);
  if (!out) {
    const m = (x: ValueExpr) => mapValue(x, replace, memo);
    switch (e.kind) {
      case 'unary':
      case 'cast': {
        const x = m(e.x);
        out = x === e.x ? e : { ...e, x };
        break;
      }
      case 'binary': {
        const [a, b] = [m(e.a), m(e.b)];
        out = a === e.a && b === e.b ? e : { ...e, a, b };
        break;
      }
      case 'where': {
        const [cond, a, b] = [m(e.cond), m(e.a), m(e.b)];
        out = cond === e.cond && a === e.a && b === e.b ? e : { ...e, cond, a, b };
        break;
      }
      case 'gather': {
        const position = m(e.position);
        out = position === e.position ? e : { ...e, position };
        break;
      }
      default:
        out = e;
    }
  }
  memo.set(e, out);
  return out;
}
