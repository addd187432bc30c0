// FloorDiv, Mod, Min, Max and TrueDiv over canonical expressions. The common cases (constant divisors,
// monomial divisors, comparisons decided by ranges) are rewritten here without a symbolic engine; what is
// left becomes a call atom, after an optional (memoized) attempt by the engine to find an exact quotient.
import type { ValueRange } from '../ranges.js';
import { add, asConstant, atomExpr, callAtom, constant, makeExpr, monomial, mul, neg, scale, sub } from './poly.js';
import type { CallFn, Expr, Monomial, Term } from './types.js';

export interface SimplifyContext {
  /** A sound range for `e`; unknown symbols get (-inf, inf). */
  range(e: Expr): ValueRange;
  /** Proposes `q` with `q * b == a`; the proposal is verified here in canonical form before use. */
  exactQuotient?(a: Expr, b: Expr): Expr | undefined;
}

export class SymbolicArithmeticError extends Error {
  override name = 'SymbolicArithmeticError';
}

export function pythonMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r + 0;
}

function callExpr(fn: CallFn, args: readonly Expr[]): Expr {
  return atomExpr(callAtom(fn, args));
}

function excludesZero(r: ValueRange): boolean {
  return r.lo > 0 || r.hi < 0;
}

/** Splits `a` into `c*q + r` with the constant part of `r` in [0, c) and no term of `r` divisible by `c`. */
function splitByConstant(a: Expr, c: number): { q: Expr; r: Expr } {
  const qTerms: Term[] = [];
  const rTerms: Term[] = [];
  for (const t of a.terms) {
    const k = t.coeff / c;
    if (Number.isInteger(k)) qTerms.push({ coeff: k, mono: t.mono });
    else rTerms.push(t);
  }
  const qc = Math.floor(a.constant / c);
  return { q: makeExpr(qTerms, qc), r: makeExpr(rTerms, a.constant - qc * c) };
}

/** `a / mono` when every term of `a` is divisible by the monomial and `a` has no constant. */
function divideByMonomial(a: Expr, mono: Monomial): Expr | undefined {
  if (a.constant !== 0) return undefined;
  const terms: Term[] = [];
  let constantPart = 0;
  for (const t of a.terms) {
    const powers = new Map(t.mono.factors.map((f) => [f.atom.key, f] as const));
    for (const f of mono.factors) {
      const have = powers.get(f.atom.key);
      if (!have || have.power < f.power) return undefined;
      if (have.power === f.power) powers.delete(f.atom.key);
      else powers.set(f.atom.key, { atom: f.atom, power: have.power - f.power });
    }
    const rest = [...powers.values()].sort((x, y) => (x.atom.order < y.atom.order ? -1 : 1));
    if (rest.length === 0) constantPart += t.coeff;
    else terms.push({ coeff: t.coeff, mono: monomial(rest) });
  }
  return makeExpr(terms, constantPart);
}

function singleMonomial(b: Expr): Term | undefined {
  return b.constant === 0 && b.terms.length === 1 ? b.terms[0] : undefined;
}

/**
 * Exact multivariate division by repeatedly cancelling leading terms (degree first). The term order is not
 * guaranteed to be a monomial order, so the result is only trusted after `q * b == a` is checked.
 */
export function exactDivide(a: Expr, b: Expr): Expr | undefined {
  if (b.terms.length === 0) return undefined;
  const lead = b.terms[0]!;
  let q = constant(0);
  let r = a;
  for (let step = 0; step < 64 && (r.terms.length > 0 || r.constant !== 0); step++) {
    const head = r.terms[0];
    if (head === undefined) return undefined;
    const c = head.coeff / lead.coeff;
    const m = divideByMonomial(makeExpr([{ coeff: 1, mono: head.mono }], 0), lead.mono);
    if (m === undefined || !Number.isInteger(c)) return undefined;
    const quotientTerm = scale(m, c);
    q = add(q, quotientTerm);
    r = sub(r, mul(quotientTerm, b));
  }
  return r.terms.length === 0 && r.constant === 0 && mul(q, b).key === a.key ? q : undefined;
}

function verifiedQuotient(a: Expr, b: Expr, ctx: SimplifyContext): Expr | undefined {
  const own = exactDivide(a, b);
  if (own !== undefined) return own;
  const q = ctx.exactQuotient?.(a, b);
  return q !== undefined && mul(q, b).key === a.key ? q : undefined;
}

export function floorDiv(a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  const ca = asConstant(a);
  const cb = asConstant(b);
  if (cb === 0) throw new SymbolicArithmeticError(`division by zero in FloorDiv(${a.key}, 0)`);
  if (ca !== undefined && cb !== undefined) return constant(Math.floor(ca / cb));
  if (ca === 0) return constant(0);
  if (a.key === b.key && excludesZero(ctx.range(b))) return constant(1);
  if (cb !== undefined && Number.isInteger(cb)) {
    if (cb === 1) return a;
    if (cb === -1) return neg(a);
    if (cb > 0) return floorDivByPositive(a, cb, ctx);
  }
  const mono = singleMonomial(b);
  if (mono && Number.isInteger(mono.coeff)) {
    const divided = divideByMonomial(a, mono.mono);
    if (divided) return floorDiv(divided, constant(mono.coeff), ctx);
  }
  return verifiedQuotient(a, b, ctx) ?? callExpr('FloorDiv', [a, b]);
}

function floorDivByPositive(a: Expr, c: number, ctx: SimplifyContext): Expr {
  const { q, r } = splitByConstant(a, c);
  const rc = asConstant(r);
  if (rc !== undefined) return q;
  const rr = ctx.range(r);
  if (rr.lo >= 0 && rr.hi < c) return q;
  // FloorDiv(FloorDiv(x, c1), c2) == FloorDiv(x, c1*c2) for positive integer divisors.
  const inner = r.terms.length === 1 && r.constant === 0 && r.terms[0]!.coeff === 1 ? r.terms[0]!.mono : undefined;
  const innerAtom = inner && inner.factors.length === 1 && inner.factors[0]!.power === 1 ? inner.factors[0]!.atom : undefined;
  if (innerAtom?.kind === 'call' && innerAtom.fn === 'FloorDiv') {
    const innerDivisor = asConstant(innerAtom.args[1]!);
    if (innerDivisor !== undefined && innerDivisor > 0)
      return add(q, floorDiv(innerAtom.args[0]!, constant(innerDivisor * c), ctx));
  }
  return add(q, callExpr('FloorDiv', [r, constant(c)]));
}

export function mod(a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  const ca = asConstant(a);
  const cb = asConstant(b);
  if (cb === 0) throw new SymbolicArithmeticError(`division by zero in Mod(${a.key}, 0)`);
  if (ca !== undefined && cb !== undefined) return constant(pythonMod(ca, cb));
  if (ca === 0 || a.key === b.key) return constant(0);
  if (cb !== undefined && Number.isInteger(cb) && cb > 0) {
    if (cb === 1) return constant(0);
    const { r } = splitByConstant(a, cb);
    if (asConstant(r) !== undefined) return r;
    const rr = ctx.range(r);
    if (rr.lo >= 0 && rr.hi < cb) return r;
    return callExpr('Mod', [r, b]);
  }
  const mono = singleMonomial(b);
  if (mono && Number.isInteger(mono.coeff)) {
    const divided = divideByMonomial(a, mono.mono);
    if (divided && splitByConstant(divided, mono.coeff).r.key === '0') return constant(0);
  }
  if (verifiedQuotient(a, b, ctx) !== undefined) return constant(0);
  return callExpr('Mod', [a, b]);
}

function ordered(a: Expr, b: Expr): [Expr, Expr] {
  return a.key <= b.key ? [a, b] : [b, a];
}

function minMax(fn: 'Min' | 'Max', a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  const ca = asConstant(a);
  const cb = asConstant(b);
  if (ca !== undefined && cb !== undefined) return constant(fn === 'Min' ? Math.min(ca, cb) : Math.max(ca, cb));
  if (a.key === b.key) return a;
  const diff = sub(a, b);
  const dc = asConstant(diff);
  const d = dc !== undefined ? { lo: dc, hi: dc } : ctx.range(diff);
  if (d.hi <= 0) return fn === 'Min' ? a : b;
  if (d.lo >= 0) return fn === 'Min' ? b : a;
  return callExpr(fn, ordered(a, b));
}

export function min(a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  return minMax('Min', a, b, ctx);
}

export function max(a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  return minMax('Max', a, b, ctx);
}

export function trueDiv(a: Expr, b: Expr, ctx: SimplifyContext): Expr {
  const cb = asConstant(b);
  if (cb === 0) throw new SymbolicArithmeticError(`division by zero in TrueDiv(${a.key}, 0)`);
  if (cb !== undefined) return scale(a, 1 / cb);
  if (a.key === b.key && excludesZero(ctx.range(b))) return constant(1);
  return verifiedQuotient(a, b, ctx) ?? callExpr('TrueDiv', [a, b]);
}

/** Rebuilds a call with (possibly substituted) arguments through the simplifying constructors. */
export function applyCall(fn: CallFn, args: readonly Expr[], ctx: SimplifyContext): Expr {
  const [a, b] = args as [Expr, Expr];
  switch (fn) {
    case 'FloorDiv':
      return floorDiv(a, b, ctx);
    case 'Mod':
      return mod(a, b, ctx);
    case 'Min':
      return min(a, b, ctx);
    case 'Max':
      return max(a, b, ctx);
    case 'TrueDiv':
      return trueDiv(a, b, ctx);
    default:
      return fn satisfies never;
  }
}
