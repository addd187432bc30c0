// JSON form of expressions, for export. The form mirrors the canonical structure; reading it back goes
// through the canonical constructors, so `fromJson(toJson(e)).key === e.key`.
import { and, not, or, relFromDiff } from './bool.js';
import { add, callAtom, constant, makeExpr, monomial, nestedIntAtom, symbolAtom } from './poly.js';
import type { Atom, BoolExpr, CallFn, Expr, Factor, Term } from './types.js';

export type AtomJson = { sym: string } | { nested: number } | { call: CallFn; args: ExprJson[] };
/** A plain number, or terms `[coeff, [[atom, power], ...]]` plus a constant. */
export type ExprJson = number | { terms: [number, [AtomJson, number][]][]; constant: number };
export type BoolJson =
  | boolean
  | { rel: '==' | '!=' | '<' | '<='; diff: ExprJson }
  | { not: BoolJson }
  | { and: BoolJson[] }
  | { or: BoolJson[] };

function atomToJson(a: Atom): AtomJson {
  if (a.kind === 'symbol') return { sym: a.name };
  if (a.kind === 'nested') return { nested: a.id };
  return { call: a.fn, args: a.args.map(exprToJson) };
}

export function exprToJson(e: Expr): ExprJson {
  if (e.terms.length === 0) return e.constant;
  return {
    terms: e.terms.map((t) => [t.coeff, t.mono.factors.map((f) => [atomToJson(f.atom), f.power])]),
    constant: e.constant,
  };
}

function atomFromJson(j: AtomJson): Atom {
  if ('sym' in j) return symbolAtom(j.sym);
  if ('nested' in j) return nestedIntAtom(j.nested);
  return callAtom(j.call, j.args.map(exprFromJson));
}

export function exprFromJson(j: ExprJson): Expr {
  if (typeof j === 'number') return constant(j);
  const terms: Term[] = j.terms.map(([coeff, factors]) => {
    const fs: Factor[] = factors.map(([a, power]) => ({ atom: atomFromJson(a), power }));
    fs.sort((x, y) => (x.atom.order < y.atom.order ? -1 : 1));
    return { coeff, mono: monomial(fs) };
  });
  // Re-adding term by term merges duplicates in hand-written JSON.
  return terms.reduce((acc, t) => add(acc, makeExpr([t], 0)), constant(j.constant));
}

export function boolToJson(e: BoolExpr): BoolJson {
  switch (e.kind) {
    case 'bool':
      return e.value;
    case 'rel':
      return { rel: e.op, diff: exprToJson(e.diff) };
    case 'not':
      return { not: boolToJson(e.arg) };
    case 'and':
      return { and: e.args.map(boolToJson) };
    case 'or':
      return { or: e.args.map(boolToJson) };
    default:
      return e satisfies never;
  }
}

export function boolFromJson(j: BoolJson): BoolExpr {
  if (typeof j === 'boolean') return relFromDiff('==', constant(j ? 0 : 1));
  if ('rel' in j) return relFromDiff(j.rel, exprFromJson(j.diff));
  if ('not' in j) return not(boolFromJson(j.not));
  if ('and' in j) return and(...j.and.map(boolFromJson));
  return or(...j.or.map(boolFromJson));
}
