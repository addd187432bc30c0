// What a known fact (a recorded guard or runtime assert) teaches the ShapeEnv: a tighter range for one
// symbol, or a replacement that eliminates a symbol (`s1 -> s0` after `s0 == s1`).
import { atomExpr, constant, freeSymbols, scale, sub } from './expr/poly.js';
import type { BoolExpr, Expr, SymbolAtom, Term } from './expr/types.js';
import { range, type ValueRange } from './ranges.js';

export type Narrowing =
  | { readonly kind: 'range'; readonly symbol: string; readonly range: ValueRange }
  | { readonly kind: 'replace'; readonly symbol: string; readonly value: Expr };

export interface SymbolFacts {
  isUnbacked(symbol: string): boolean;
  rangeOf(symbol: string): ValueRange;
}

/** `c*s + k` with one symbol `s` of degree one, else undefined. */
function singleSymbolLinear(e: Expr): { symbol: string; c: number; k: number } | undefined {
  if (e.terms.length !== 1) return undefined;
  const t = e.terms[0]!;
  const f = t.mono.factors;
  if (f.length !== 1 || f[0]!.power !== 1 || f[0]!.atom.kind !== 'symbol') return undefined;
  return { symbol: f[0]!.atom.name, c: t.coeff, k: e.constant };
}

function symbolIndex(name: string): number {
  return Number(/\d+$/.exec(name)?.[0] ?? 0);
}

/** The symbol an equality should eliminate: unbacked before backed, then the newest (highest index). */
function eliminationCandidate(diff: Expr, facts: SymbolFacts): Term | undefined {
  const candidates = diff.terms.filter((t) => {
    const f = t.mono.factors;
    return f.length === 1 && f[0]!.power === 1 && f[0]!.atom.kind === 'symbol' && Math.abs(t.coeff) === 1;
  });
  const rank = (t: Term): number => {
    const name = (t.mono.factors[0]!.atom as SymbolAtom).name;
    return (facts.isUnbacked(name) ? 1e9 : 0) + symbolIndex(name);
  };
  candidates.sort((a, b) => rank(b) - rank(a));
  for (const t of candidates) {
    const name = (t.mono.factors[0]!.atom as SymbolAtom).name;
    const rest = freeSymbols(sub(diff, scale(atomExpr(t.mono.factors[0]!.atom), t.coeff)));
    if (rest.has(name)) continue;
    // A backed symbol (with a hint and an input source) is never rewritten in terms of unbacked ones.
    if (!facts.isUnbacked(name) && [...rest].some((s) => facts.isUnbacked(s))) continue;
    return t;
  }
  return undefined;
}

export function narrowingsOf(fact: BoolExpr, facts: SymbolFacts): Narrowing[] {
  if (fact.kind === 'and') return fact.args.flatMap((a) => narrowingsOf(a, facts));
  if (fact.kind !== 'rel') return [];
  const lin = singleSymbolLinear(fact.diff);
  if (lin) return linearNarrowing(fact.op, lin, facts);
  if (fact.op !== '==') return [];
  const t = eliminationCandidate(fact.diff, facts);
  if (!t) return [];
  const atom = t.mono.factors[0]!.atom as SymbolAtom;
  // diff = c*s + rest == 0  =>  s = -rest / c, with c = +-1.
  const rest = sub(fact.diff, scale(atomExpr(atom), t.coeff));
  const value = scale(rest, -1 / t.coeff);
  // A symbol is an integer: only replace it by an expression with integer coefficients.
  const integral = Number.isInteger(value.constant) && value.terms.every((x) => Number.isInteger(x.coeff));
  return integral ? [{ kind: 'replace', symbol: atom.name, value }] : [];
}

function linearNarrowing(op: string, { symbol, c, k }: { symbol: string; c: number; k: number }, facts: SymbolFacts): Narrowing[] {
  const bound = -k / c; // c*s + k op 0  <=>  s op' bound
  switch (op) {
    case '==':
      if (!Number.isInteger(bound)) return [];
      return [
        { kind: 'range', symbol, range: range(bound, bound) },
        { kind: 'replace', symbol, value: constant(bound) },
      ];
    case '<=':
      // c*s + k <= 0 with s an integer (c, k may be fractional when the relation came from a SymFloat).
      return [{ kind: 'range', symbol, range: c > 0 ? range(-Infinity, Math.floor(bound)) : range(Math.ceil(bound), Infinity) }];
    case '<':
      return [{ kind: 'range', symbol, range: c > 0 ? range(-Infinity, Math.ceil(bound) - 1) : range(Math.floor(bound) + 1, Infinity) }];
    case '!=': {
      const r = facts.rangeOf(symbol);
      if (bound === r.lo) return [{ kind: 'range', symbol, range: range(r.lo + 1, Infinity) }];
      if (bound === r.hi) return [{ kind: 'range', symbol, range: range(-Infinity, r.hi - 1) }];
      return [];
    }
    default:
      return [];
  }
}
