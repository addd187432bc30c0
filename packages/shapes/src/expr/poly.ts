// The canonical polynomial form: construction, `+`, `*`, negation and structural queries. Nothing here
// needs ranges or a symbolic engine; every result is already canonical, so equality is key equality.
import type { Atom, CallAtom, CallFn, Expr, Factor, Monomial, NestedIntAtom, SymbolAtom, Term } from './types.js';

const pad = (n: number): string => String(n).padStart(9, '0');

export function symbolAtom(name: string): SymbolAtom {
  const m = /^([A-Za-z_]+)(\d+)$/.exec(name);
  const order = m ? `0${m[1]}${pad(Number(m[2]))}` : `0${name}`;
  return { kind: 'symbol', name, key: name, order };
}

export function nestedIntAtom(id: number): NestedIntAtom {
  return { kind: 'nested', id, key: `j${id}`, order: `1j${pad(id)}` };
}

export function callAtom(fn: CallFn, args: readonly Expr[]): CallAtom {
  const key = `${fn}(${args.map((a) => a.key).join(', ')})`;
  return { kind: 'call', fn, args, key, order: `2${key}` };
}

export function monomial(factors: readonly Factor[]): Monomial {
  let degree = 0;
  let key = '';
  let order = '';
  let hasNested = false;
  for (let i = 0; i < factors.length; i++) {
    const f = factors[i]!;
    degree += f.power;
    const sep = i === 0 ? '' : '*';
    key += f.power === 1 ? sep + f.atom.key : `${sep}${f.atom.key}**${f.power}`;
    order += `${i === 0 ? '' : ','}${f.atom.order}^${f.power}`;
    hasNested ||= atomHasNested(f.atom);
  }
  return { factors, degree, key, order, hasNested };
}

function compareTerms(a: Term, b: Term): number {
  if (a.mono.degree !== b.mono.degree) return b.mono.degree - a.mono.degree;
  return a.mono.order < b.mono.order ? -1 : a.mono.order > b.mono.order ? 1 : 0;
}

function formatNumber(n: number): string {
  return Object.is(n, -0) ? '0' : String(n);
}

function termText(coeff: number, mono: Monomial): string {
  const c = Math.abs(coeff);
  return c === 1 ? mono.key : `${formatNumber(c)}*${mono.key}`;
}

/** The printed form of `terms + constant`; `terms` must already be in canonical order. */
export function exprKey(terms: readonly Term[], constant: number): string {
  if (terms.length === 0) return formatNumber(constant);
  let out = '';
  terms.forEach((t, i) => {
    const text = termText(t.coeff, t.mono);
    if (i === 0) out = t.coeff < 0 ? `-${text}` : text;
    else out += t.coeff < 0 ? ` - ${text}` : ` + ${text}`;
  });
  if (constant > 0) out += ` + ${formatNumber(constant)}`;
  else if (constant < 0) out += ` - ${formatNumber(-constant)}`;
  return out;
}

function atomHasNested(atom: Atom): boolean {
  if (atom.kind === 'nested') return true;
  if (atom.kind === 'call') return atom.args.some((a) => a.hasNested);
  return false;
}

/** Builds an expression from unsorted, possibly zero-coefficient terms. */
export function makeExpr(terms: Iterable<Term>, constant: number): Expr {
  const kept: Term[] = [];
  for (const t of terms) if (t.coeff !== 0) kept.push(t);
  kept.sort(compareTerms);
  const hasNested = kept.some((t) => t.mono.hasNested);
  return { kind: 'expr', terms: kept, constant: constant + 0, key: exprKey(kept, constant), hasNested };
}

const constantCache = new Map<number, Expr>();

export function constant(n: number): Expr {
  let e = constantCache.get(n);
  if (e === undefined) {
    e = makeExpr([], n);
    if (constantCache.size < 4096) constantCache.set(n, e);
  }
  return e;
}

export function atomExpr(atom: Atom): Expr {
  return makeExpr([{ coeff: 1, mono: monomial([{ atom, power: 1 }]) }], 0);
}

export function symbolExpr(name: string): Expr {
  return atomExpr(symbolAtom(name));
}

export function asConstant(e: Expr): number | undefined {
  return e.terms.length === 0 ? e.constant : undefined;
}

/** The atom when `e` is exactly one atom (coefficient 1, power 1, no constant). */
export function asAtom(e: Expr): Atom | undefined {
  if (e.terms.length !== 1 || e.constant !== 0) return undefined;
  const t = e.terms[0]!;
  if (t.coeff !== 1 || t.mono.factors.length !== 1 || t.mono.factors[0]!.power !== 1) return undefined;
  return t.mono.factors[0]!.atom;
}

export function add(a: Expr, b: Expr): Expr {
  if (b.terms.length === 0) return b.constant === 0 ? a : makeExpr(a.terms, a.constant + b.constant);
  if (a.terms.length === 0) return a.constant === 0 ? b : makeExpr(b.terms, a.constant + b.constant);
  const merged = new Map<string, Term>();
  for (const t of a.terms) merged.set(t.mono.key, t);
  for (const t of b.terms) {
    const prev = merged.get(t.mono.key);
    merged.set(t.mono.key, prev ? { coeff: prev.coeff + t.coeff, mono: t.mono } : t);
  }
  return makeExpr(merged.values(), a.constant + b.constant);
}

export function scale(a: Expr, c: number): Expr {
  if (c === 1) return a;
  if (c === 0) return constant(0);
  return makeExpr(
    a.terms.map((t) => ({ coeff: t.coeff * c, mono: t.mono })),
    a.constant * c,
  );
}

export function neg(a: Expr): Expr {
  return scale(a, -1);
}

export function sub(a: Expr, b: Expr): Expr {
  return add(a, neg(b));
}

export function mulMonomials(a: Monomial, b: Monomial): Monomial {
  if (a.factors.length === 0) return b;
  if (b.factors.length === 0) return a;
  // Both factor lists are sorted by atom order: merge them.
  const out: Factor[] = [];
  let i = 0;
  let j = 0;
  while (i < a.factors.length || j < b.factors.length) {
    const x = a.factors[i];
    const y = b.factors[j];
    if (y === undefined || (x !== undefined && x.atom.order < y.atom.order)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y.atom.order < x.atom.order) {
      out.push(y);
      j++;
    } else {
      out.push({ atom: x.atom, power: x.power + y.power });
      i++;
      j++;
    }
  }
  return monomial(out);
}

export const unitMonomial = monomial([]);

export function mul(a: Expr, b: Expr): Expr {
  const ca = asConstant(a);
  if (ca !== undefined) return scale(b, ca);
  const cb = asConstant(b);
  if (cb !== undefined) return scale(a, cb);
  const merged = new Map<string, Term>();
  const addTerm = (coeff: number, mono: Monomial): void => {
    const prev = merged.get(mono.key);
    merged.set(mono.key, { coeff: (prev?.coeff ?? 0) + coeff, mono });
  };
  const left: Term[] = [...a.terms, { coeff: a.constant, mono: unitMonomial }];
  const right: Term[] = [...b.terms, { coeff: b.constant, mono: unitMonomial }];
  let constantPart = 0;
  for (const x of left) {
    if (x.coeff === 0) continue;
    for (const y of right) {
      if (y.coeff === 0) continue;
      const mono = mulMonomials(x.mono, y.mono);
      if (mono.factors.length === 0) constantPart += x.coeff * y.coeff;
      else addTerm(x.coeff * y.coeff, mono);
    }
  }
  return makeExpr(merged.values(), constantPart);
}

export function pow(a: Expr, n: number): Expr {
  let out = constant(1);
  for (let i = 0; i < n; i++) out = mul(out, a);
  return out;
}

/** Builds `coeff * mono` as an expression. */
export function termExpr(coeff: number, mono: Monomial): Expr {
  return mono.factors.length === 0 ? constant(coeff) : makeExpr([{ coeff, mono }], 0);
}

/** Every atom of `e`, outermost level only. */
export function atomsOf(e: Expr): Atom[] {
  const out = new Map<string, Atom>();
  for (const t of e.terms) for (const f of t.mono.factors) out.set(f.atom.key, f.atom);
  return [...out.values()];
}

/** Names of the symbols of `e` at any depth. Nested ints are not symbols. */
export function freeSymbols(e: Expr, into: Set<string> = new Set()): Set<string> {
  for (const t of e.terms)
    for (const f of t.mono.factors) {
      if (f.atom.kind === 'symbol') into.add(f.atom.name);
      else if (f.atom.kind === 'call') for (const arg of f.atom.args) freeSymbols(arg, into);
    }
  return into;
}

/** Whether `e` is linear with integer coefficients: the fast path that never needs mathjs. */
export function isIntegerLinear(e: Expr): boolean {
  return Number.isInteger(e.constant) && e.terms.every((t) => t.mono.degree === 1 && Number.isInteger(t.coeff));
}
