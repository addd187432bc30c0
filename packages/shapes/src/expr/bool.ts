// Boolean expressions: relations in the canonical form `diff op 0`, plus and/or/not. A relation prints with
// its positive terms on the left and its negative terms on the right (`s0 == s1`, `s0 + 1 <= s1`), and a
// constant left side is flipped to the right (`s0 >= 2`), so printing is deterministic and readable.
import { asConstant, exprKey, neg, sub } from './poly.js';
import type { BoolConst, BoolExpr, Expr, RelExpr, RelOp, Term } from './types.js';

export type CompareOp = RelOp | '>' | '>=';

export const TRUE: BoolConst = { kind: 'bool', value: true, key: 'True' };
export const FALSE: BoolConst = { kind: 'bool', value: false, key: 'False' };

export function boolConst(value: boolean): BoolConst {
  return value ? TRUE : FALSE;
}

function decideConstant(op: RelOp, d: number): boolean {
  switch (op) {
    case '==':
      return d === 0;
    case '!=':
      return d !== 0;
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    default:
      return op satisfies never;
  }
}

function leadingSign(e: Expr): number {
  return e.terms.length > 0 ? Math.sign(e.terms[0]!.coeff) : Math.sign(e.constant);
}

const flipped: Record<RelOp, string> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=' };

function relKey(op: RelOp, diff: Expr): string {
  // Split the (already sorted) terms by sign without rebuilding expressions: this runs for every comparison.
  const pos: Term[] = [];
  const neg: Term[] = [];
  for (const t of diff.terms) (t.coeff > 0 ? pos : neg).push(t.coeff > 0 ? t : { coeff: -t.coeff, mono: t.mono });
  const left = exprKey(pos, Math.max(diff.constant, 0));
  const right = exprKey(neg, Math.max(-diff.constant, 0));
  if (pos.length === 0 && neg.length > 0) return `${right} ${flipped[op]} ${left}`;
  return `${left} ${op} ${right}`;
}

/** `diff op 0` in canonical form; constant relations fold to True or False. */
export function relFromDiff(op: RelOp, diff: Expr): RelExpr | BoolConst {
  const c = asConstant(diff);
  if (c !== undefined) return boolConst(decideConstant(op, c));
  const d = (op === '==' || op === '!=') && leadingSign(diff) < 0 ? neg(diff) : diff;
  return { kind: 'rel', op, diff: d, key: relKey(op, d) };
}

export function compare(op: CompareOp, lhs: Expr, rhs: Expr): RelExpr | BoolConst {
  if (op === '>') return relFromDiff('<', sub(rhs, lhs));
  if (op === '>=') return relFromDiff('<=', sub(rhs, lhs));
  return relFromDiff(op, sub(lhs, rhs));
}

export function not(e: BoolExpr): BoolExpr {
  switch (e.kind) {
    case 'bool':
      return boolConst(!e.value);
    case 'not':
      return e.arg;
    case 'rel':
      if (e.op === '==') return relFromDiff('!=', e.diff);
      if (e.op === '!=') return relFromDiff('==', e.diff);
      // not (d < 0) is (-d <= 0); not (d <= 0) is (-d < 0).
      return relFromDiff(e.op === '<' ? '<=' : '<', neg(e.diff));
    case 'and':
    case 'or':
      return { kind: 'not', arg: e, key: `Not(${e.key})` };
    default:
      return e satisfies never;
  }
}

function junction(kind: 'and' | 'or', args: readonly BoolExpr[]): BoolExpr {
  const absorbing = kind === 'and' ? false : true;
  const seen = new Map<string, BoolExpr>();
  for (const a of args) {
    const parts = a.kind === kind ? a.args : [a];
    for (const p of parts) {
      if (p.kind === 'bool') {
        if (p.value === absorbing) return boolConst(absorbing);
        continue;
      }
      seen.set(p.key, p);
    }
  }
  const kept = [...seen.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  if (kept.length === 0) return boolConst(!absorbing);
  if (kept.length === 1) return kept[0]!;
  const name = kind === 'and' ? 'And' : 'Or';
  return { kind, args: kept, key: `${name}(${kept.map((k) => k.key).join(', ')})` };
}

export function and(...args: BoolExpr[]): BoolExpr {
  return junction('and', args);
}

export function or(...args: BoolExpr[]): BoolExpr {
  return junction('or', args);
}
