// Nested ints (`j0`) stand for ragged dimensions. One equals itself (with the same coefficient) and nothing
// else, has no free symbols and no runtime value, and only supports scaling by a constant (`2*j0`).
// Orderings against constants are answered as if a ragged size were at least 2, as size checks expect.
import type { CompareOp } from './expr/bool.js';
import { asConstant, scale, sub } from './expr/poly.js';
import type { Expr } from './expr/types.js';
import { NestedIntError } from './errors.js';
import { rangeOf, sizeRange } from './ranges.js';

export type ArithOp = 'add' | 'sub' | 'mul' | 'floorDiv' | 'mod' | 'min' | 'max' | 'truediv';

export function nestedArith(op: ArithOp, a: Expr, b: Expr, location: string | undefined): Expr {
  if (op === 'mul') {
    const ca = asConstant(a);
    const cb = asConstant(b);
    if (cb !== undefined && Number.isInteger(cb)) return scale(a, cb);
    if (ca !== undefined && Number.isInteger(ca)) return scale(b, ca);
  }
  const nested = a.hasNested ? a : b;
  throw new NestedIntError(nested.key, `${op} with ${(a.hasNested ? b : a).key}`, location);
}

export function nestedCompare(op: CompareOp, a: Expr, b: Expr, location: string | undefined): boolean {
  if (op === '==') return a.key === b.key;
  if (op === '!=') return a.key !== b.key;
  const diff = sub(a, b);
  const r = rangeOf(diff, () => sizeRange);
  const decided =
    op === '<' ? (r.hi < 0 ? true : r.lo >= 0 ? false : undefined)
    : op === '<=' ? (r.hi <= 0 ? true : r.lo > 0 ? false : undefined)
    : op === '>' ? (r.lo > 0 ? true : r.hi <= 0 ? false : undefined)
    : r.lo >= 0 ? true : r.hi < 0 ? false : undefined;
  if (decided === undefined) throw new NestedIntError((a.hasNested ? a : b).key, `${op} ${(a.hasNested ? b : a).key}`, location);
  return decided;
}
