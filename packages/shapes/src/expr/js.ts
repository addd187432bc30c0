// Plain-JavaScript emission of expressions, guards and asserts. The compiled guard function evaluates these
// strings directly, so nothing symbolic runs at guard time. Only validated accessors are embedded.
import type { Atom, BoolExpr, Expr, Monomial } from './types.js';
import { makeExpr } from './poly.js';

export type SymbolToJs = (symbol: string) => string;

export class JsEmitError extends Error {
  override name = 'JsEmitError';
}

// An identifier followed by `.name`, `[123]` or `['name']` segments: what sources and scratch names look like.
const SAFE_ACCESSOR = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\['[\w$.-]*'\]|\["[\w$.-]*"\])*$/;

export function isSafeAccessor(text: string): boolean {
  return SAFE_ACCESSOR.test(text);
}

function emitNumber(n: number): string {
  if (!Number.isFinite(n)) throw new JsEmitError(`cannot emit non-finite constant ${n}`);
  return Object.is(n, -0) ? '0' : String(n);
}

function emitAtom(atom: Atom, name: SymbolToJs): string {
  switch (atom.kind) {
    case 'symbol': {
      const js = name(atom.name);
      if (!isSafeAccessor(js)) throw new JsEmitError(`unsafe JavaScript name ${JSON.stringify(js)} for ${atom.name}`);
      return js;
    }
    case 'nested':
      throw new JsEmitError(`nested int ${atom.key} has no runtime value and cannot appear in emitted code`);
    case 'call': {
      const [a, b] = atom.args.map((x) => toJs(x, name)) as [string, string];
      switch (atom.fn) {
        case 'FloorDiv':
          return `Math.floor((${a}) / (${b}))`;
        case 'Mod':
          // Python-style modulo (result has the divisor's sign), as FloorDiv's partner.
          return `((((${a}) % (${b})) + (${b})) % (${b}))`;
        case 'Min':
          return `Math.min(${a}, ${b})`;
        case 'Max':
          return `Math.max(${a}, ${b})`;
        case 'TrueDiv':
          return `((${a}) / (${b}))`;
        default:
          return atom.fn satisfies never;
      }
    }
    default:
      return atom satisfies never;
  }
}

function emitMonomial(mono: Monomial, name: SymbolToJs): string {
  const parts: string[] = [];
  // Powers are written as repeated products: `-x**2` is a syntax error in JavaScript.
  for (const f of mono.factors) for (let i = 0; i < f.power; i++) parts.push(emitAtom(f.atom, name));
  return parts.join('*');
}

/** JavaScript source computing `e`, with each symbol written as `name(symbol)`. */
export function toJs(e: Expr, name: SymbolToJs = (s) => s): string {
  if (e.terms.length === 0) return emitNumber(e.constant);
  let out = '';
  e.terms.forEach((t, i) => {
    const c = Math.abs(t.coeff);
    const body = c === 1 ? emitMonomial(t.mono, name) : `${emitNumber(c)}*${emitMonomial(t.mono, name)}`;
    if (i === 0) out = t.coeff < 0 ? `-${body}` : body;
    else out += t.coeff < 0 ? ` - ${body}` : ` + ${body}`;
  });
  if (e.constant > 0) out += ` + ${emitNumber(e.constant)}`;
  else if (e.constant < 0) out += ` - ${emitNumber(-e.constant)}`;
  return out;
}

const jsOp = { '==': '===', '!=': '!==', '<': '<', '<=': '<=' } as const;
const flippedJsOp = { '==': '===', '!=': '!==', '<': '>', '<=': '>=' } as const;

/** JavaScript source for a boolean expression (a guard or a runtime assert). */
export function boolToJs(e: BoolExpr, name: SymbolToJs = (s) => s): string {
  switch (e.kind) {
    case 'bool':
      return e.value ? 'true' : 'false';
    case 'rel': {
      const lhs = makeExpr(e.diff.terms.filter((t) => t.coeff > 0), Math.max(e.diff.constant, 0));
      const rhs = makeExpr(
        e.diff.terms.filter((t) => t.coeff < 0).map((t) => ({ coeff: -t.coeff, mono: t.mono })),
        Math.max(-e.diff.constant, 0),
      );
      // Same orientation as the printed form: a constant left side moves to the right (`u0 >= 0`).
      if (lhs.terms.length === 0 && rhs.terms.length > 0) return `${toJs(rhs, name)} ${flippedJsOp[e.op]} ${toJs(lhs, name)}`;
      return `${toJs(lhs, name)} ${jsOp[e.op]} ${toJs(rhs, name)}`;
    }
    case 'not':
      return `!(${boolToJs(e.arg, name)})`;
    case 'and':
    case 'or':
      return e.args.map((a) => `(${boolToJs(a, name)})`).join(e.kind === 'and' ? ' && ' : ' || ');
    default:
      return e satisfies never;
  }
}
