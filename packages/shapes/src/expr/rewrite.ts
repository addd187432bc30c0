// Rewrites that keep guards small and decidable, all in canonical form (no symbolic engine):
//  - `a - c*FloorDiv(a, c)` becomes `Mod(a, c)`;
//  - a relation whose terms share a positive monomial factor is divided by it (`s0*s1 == s0*s2` is `s1 == s2`);
//  - integer relations are divided by the gcd of their coefficients, which also decides `4*x == 1` (never).
import { relFromDiff } from './bool.js';
import { mod, type SimplifyContext } from './functions.js';
import { add, asConstant, atomExpr, makeExpr, monomial, mul as mulExpr, scale } from './poly.js';
import type { BoolExpr, CallAtom, Expr, Factor, Term } from './types.js';

/** Replaces `k*(a - c*FloorDiv(a, c))` inside `e` by `k*Mod(a, c)` when that shortens `e`. */
export function foldModIdentity(e: Expr, ctx: SimplifyContext): Expr {
  let out = e;
  for (const t of e.terms) {
    const f = t.mono.factors;
    if (f.length !== 1 || f[0]!.power !== 1 || f[0]!.atom.kind !== 'call' || f[0]!.atom.fn !== 'FloorDiv') continue;
    const call = f[0]!.atom as CallAtom;
    const c = asConstant(call.args[1]!);
    if (c === undefined || c <= 0) continue;
    const m = -t.coeff / c;
    if (!Number.isInteger(m)) continue;
    const [a] = call.args as [Expr];
    // a == c*FloorDiv(a, c) + Mod(a, c): substitute m*c*FloorDiv(a,c) = m*a - m*Mod(a,c).
    const candidate = add(add(out, scale(atomExpr(call), -t.coeff)), add(scale(a, -m), scale(mod(a, call.args[1]!, ctx), m)));
    if (candidate.terms.length < out.terms.length) out = candidate;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return Math.abs(a);
}

function commonFactors(terms: readonly Term[]): Factor[] {
  let common = new Map(terms[0]!.mono.factors.map((f) => [f.atom.key, f] as const));
  for (const t of terms.slice(1)) {
    const next = new Map<string, Factor>();
    for (const f of t.mono.factors) {
      const have = common.get(f.atom.key);
      if (have) next.set(f.atom.key, { atom: f.atom, power: Math.min(have.power, f.power) });
    }
    common = next;
  }
  return [...common.values()].sort((x, y) => (x.atom.order < y.atom.order ? -1 : 1));
}

function divideTerms(e: Expr, by: readonly Factor[]): Expr {
  const terms = e.terms.map((t) => {
    const rest = t.mono.factors
      .map((f) => {
        const d = by.find((b) => b.atom.key === f.atom.key);
        return d ? { atom: f.atom, power: f.power - d.power } : f;
      })
      .filter((f) => f.power > 0);
    return { coeff: t.coeff, mono: monomial(rest) };
  });
  let out = makeExpr([], e.constant);
  for (const t of terms) out = add(out, t.mono.factors.length === 0 ? makeExpr([], t.coeff) : makeExpr([t], 0));
  return out;
}

/** A smaller, equivalent relation (or a decided constant). */
export function simplifyRelation(e: BoolExpr, ctx: SimplifyContext): BoolExpr {
  if (e.kind !== 'rel') return e;
  let diff = e.diff;
  let op = e.op;
  if (diff.terms.some((t) => t.mono.factors.some((f) => f.atom.kind === 'call'))) diff = foldModIdentity(diff, ctx);
  if (diff.constant === 0 && diff.terms.length > 0) {
    const common = commonFactors(diff.terms);
    if (common.length > 0 && ctx.range(makeExpr([{ coeff: 1, mono: monomial(common) }], 0)).lo > 0)
      diff = divideTerms(diff, common);
  }
  const integral = Number.isInteger(diff.constant) && diff.terms.every((t) => Number.isInteger(t.coeff));
  if (integral && diff.terms.length > 0) {
    if (op === '<') {
      op = '<=';
      diff = makeExpr(diff.terms, diff.constant + 1); // d < 0  <=>  d + 1 <= 0 over the integers
    }
    const g = diff.terms.reduce((acc, t) => gcd(acc, t.coeff), 0);
    if (g > 1) {
      const terms = diff.terms.map((t) => ({ coeff: t.coeff / g, mono: t.mono }));
      if (op === '==' || op === '!=') {
        // g never divides the constant: the difference is never zero.
        if (diff.constant % g !== 0) return relFromDiff(op, makeExpr([], 1));
        diff = makeExpr(terms, diff.constant / g);
      } else {
        // sum(g*t) + k <= 0  <=>  sum(t) <= floor(-k / g)
        diff = makeExpr(terms, -Math.floor(-diff.constant / g));
      }
    }
    if (op === '<=' && e.op === '<') {
      // Print strict relations as written when nothing else changed.
      const back = makeExpr(diff.terms, diff.constant - 1);
      return relFromDiff('<', back);
    }
  }
  return diff === e.diff && op === e.op ? e : relFromDiff(op, diff);
}

/**
 * `k*c*FloorDiv(a, c)` becomes `k*a` for each `FloorDiv(a, c)` in `exact` (keys of divisions known to be exact,
 * from a guard or assert `Mod(a, c) == 0`).
 */
export function cancelExactFloorDiv(e: Expr, exact: ReadonlySet<string>): Expr {
  if (exact.size === 0) return e;
  let changed = false;
  let out = makeExpr([], e.constant);
  for (const t of e.terms) {
    const i = t.mono.factors.findIndex((f) => f.power === 1 && f.atom.kind === 'call' && exact.has(f.atom.key));
    const call = i >= 0 ? (t.mono.factors[i]!.atom as CallAtom) : undefined;
    const c = call ? asConstant(call.args[1]!) : undefined;
    if (call === undefined || c === undefined || !Number.isInteger(t.coeff / c)) {
      out = add(out, makeExpr([t], 0));
      continue;
    }
    changed = true;
    const rest = t.mono.factors.filter((_, j) => j !== i);
    const restExpr = rest.length === 0 ? makeExpr([], 1) : makeExpr([{ coeff: 1, mono: monomial(rest) }], 0);
    out = add(out, scale(mulExpr(call.args[0]!, restExpr), t.coeff / c));
  }
  return changed ? out : e;
}
