// Substitution of atoms (replacements `s1 -> s0`, specialization `s0 -> 4`) and numeric evaluation.
import { and, not, or, relFromDiff } from './bool.js';
import { applyCall, pythonMod, type SimplifyContext } from './functions.js';
import { add, atomExpr, constant, freeSymbols, mul, pow } from './poly.js';
import type { Atom, BoolExpr, Expr } from './types.js';

export type AtomReplacement = (atom: Atom) => Expr | undefined;

/** `e` with atoms replaced; call arguments are rewritten too and their calls re-simplified. */
export function substitute(e: Expr, replace: AtomReplacement, ctx: SimplifyContext): Expr {
  let changed = false;
  const rewrittenAtom = new Map<string, Expr>();
  const rewrite = (atom: Atom): Expr => {
    let out = rewrittenAtom.get(atom.key);
    if (out !== undefined) return out;
    out = replace(atom);
    if (out === undefined && atom.kind === 'call') {
      const args = atom.args.map((a) => substitute(a, replace, ctx));
      out = args.some((a, i) => a !== atom.args[i]) ? applyCall(atom.fn, args, ctx) : undefined;
    }
    if (out !== undefined) changed = true;
    out ??= atomExpr(atom);
    rewrittenAtom.set(atom.key, out);
    return out;
  };
  let result = constant(e.constant);
  for (const t of e.terms) {
    let term = constant(t.coeff);
    for (const f of t.mono.factors) term = mul(term, pow(rewrite(f.atom), f.power));
    result = add(result, term);
  }
  return changed ? result : e;
}

export function substituteBool(e: BoolExpr, replace: AtomReplacement, ctx: SimplifyContext): BoolExpr {
  switch (e.kind) {
    case 'bool':
      return e;
    case 'rel': {
      const diff = substitute(e.diff, replace, ctx);
      return diff === e.diff ? e : relFromDiff(e.op, diff);
    }
    case 'not':
      return not(substituteBool(e.arg, replace, ctx));
    case 'and':
      return and(...e.args.map((a) => substituteBool(a, replace, ctx)));
    case 'or':
      return or(...e.args.map((a) => substituteBool(a, replace, ctx)));
    default:
      return e satisfies never;
  }
}

export type SymbolValue = (symbol: string) => number | undefined;

/** The value of `e` given symbol values, or undefined when a symbol (or a nested int) has none. */
export function evaluate(e: Expr, value: SymbolValue): number | undefined {
  let total = e.constant;
  for (const t of e.terms) {
    let v = t.coeff;
    for (const f of t.mono.factors) {
      const a = evaluateAtom(f.atom, value);
      if (a === undefined) return undefined;
      v *= a ** f.power;
    }
    total += v;
  }
  return total;
}

function evaluateAtom(atom: Atom, value: SymbolValue): number | undefined {
  if (atom.kind === 'symbol') return value(atom.name);
  if (atom.kind === 'nested') return undefined;
  const x = evaluate(atom.args[0]!, value);
  const y = evaluate(atom.args[1]!, value);
  if (x === undefined || y === undefined) return undefined;
  switch (atom.fn) {
    case 'FloorDiv':
      return Math.floor(x / y);
    case 'Mod':
      return pythonMod(x, y);
    case 'Min':
      return Math.min(x, y);
    case 'Max':
      return Math.max(x, y);
    case 'TrueDiv':
      return x / y;
    default:
      return atom.fn satisfies never;
  }
}

export function evaluateBool(e: BoolExpr, value: SymbolValue): boolean | undefined {
  switch (e.kind) {
    case 'bool':
      return e.value;
    case 'rel': {
      const d = evaluate(e.diff, value);
      if (d === undefined) return undefined;
      return e.op === '==' ? d === 0 : e.op === '!=' ? d !== 0 : e.op === '<' ? d < 0 : d <= 0;
    }
    case 'not': {
      const v = evaluateBool(e.arg, value);
      return v === undefined ? undefined : !v;
    }
    case 'and':
    case 'or': {
      const vs = e.args.map((a) => evaluateBool(a, value));
      if (vs.some((v) => v === undefined)) return undefined;
      return e.kind === 'and' ? vs.every(Boolean) : vs.some(Boolean);
    }
    default:
      return e satisfies never;
  }
}

/** Symbol names of a boolean expression, at any depth. */
export function boolFreeSymbols(e: BoolExpr, into: Set<string> = new Set()): Set<string> {
  if (e.kind === 'rel') freeSymbols(e.diff, into);
  else if (e.kind === 'not') boolFreeSymbols(e.arg, into);
  else if (e.kind === 'and' || e.kind === 'or') for (const a of e.args) boolFreeSymbols(a, into);
  return into;
}
