// Pointwise formulas, defined once in the op registry: a small expression over primitive scalar ops
// (`scalar.mul(x, scalar.sigmoid(x))`). The eager kernel is derived from it (kernels/formula.ts) and so is
// the loop-IR lowering (@kiln/lower), so an op defined with only a formula runs eagerly and compiles on every
// backend that consumes the loop IR. Each primitive has exactly one eager definition, here (float64 JS math,
// as the eager kernels have always computed); the loop IR has an op of the same name.
import { KilnError } from '../errors.js';
import * as special from '../math/special.js';

/** Primitive unary scalar ops, with their eager (float64) definitions. */
export const SCALAR_UNARY = {
  neg: (v: number) => -v,
  abs: Math.abs,
  sqrt: Math.sqrt,
  rsqrt: (v: number) => 1 / Math.sqrt(v),
  reciprocal: (v: number) => 1 / v,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  tanh: Math.tanh,
  sigmoid: special.sigmoid,
  erf: special.erf,
  sin: Math.sin,
  cos: Math.cos,
  floor: Math.floor,
  ceil: Math.ceil,
  round: special.roundHalfEven,
  trunc: Math.trunc,
  sign: special.sign,
  relu: (v: number) => (v > 0 ? v : Number.isNaN(v) ? v : 0),
} as const;
export type ScalarUnaryOp = keyof typeof SCALAR_UNARY;

/**
 * Primitive binary scalar ops. `max`/`min` propagate NaN (as `maximum`/`minimum`), `mod` takes the sign of
 * the divisor (as `remainder`), comparisons give 1 or 0.
 */
export const SCALAR_BINARY = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: Math.pow,
  atan2: Math.atan2,
  mod: special.remainder,
  max: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  eq: (a: number, b: number) => (a === b ? 1 : 0),
  ne: (a: number, b: number) => (a !== b ? 1 : 0),
  lt: (a: number, b: number) => (a < b ? 1 : 0),
  le: (a: number, b: number) => (a <= b ? 1 : 0),
  gt: (a: number, b: number) => (a > b ? 1 : 0),
  ge: (a: number, b: number) => (a >= b ? 1 : 0),
} as const;
export type ScalarBinaryOp = keyof typeof SCALAR_BINARY;

/**
 * A formula's expression: plain data, so eager code generation and lowering both walk it. `input` is the
 * i-th tensor operand (a `Tensor` or `TensorOrScalar` argument, in schema order), `arg` the i-th numeric
 * argument after them (beta, alpha: a kernel parameter when it is symbolic), `select` is `c != 0 ? a : b`.
 */
export type ScalarExpr =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'arg'; readonly index: number }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly op: ScalarUnaryOp; readonly x: ScalarExpr }
  | { readonly kind: 'binary'; readonly op: ScalarBinaryOp; readonly a: ScalarExpr; readonly b: ScalarExpr }
  | { readonly kind: 'select'; readonly cond: ScalarExpr; readonly a: ScalarExpr; readonly b: ScalarExpr };

/** What formulas are written with: numbers become constants. */
export type ScalarLikeExpr = ScalarExpr | number;

const lift = (v: ScalarLikeExpr): ScalarExpr => {
  if (typeof v !== 'number') return v;
  return { kind: 'const', value: v };
};
const unary = (op: ScalarUnaryOp) => (x: ScalarLikeExpr): ScalarExpr => ({ kind: 'unary', op, x: lift(x) });
const binary = (op: ScalarBinaryOp) => (a: ScalarLikeExpr, b: ScalarLikeExpr): ScalarExpr => ({ kind: 'binary', op, a: lift(a), b: lift(b) });

type ScalarBuilders = { readonly [K in ScalarUnaryOp]: (x: ScalarLikeExpr) => ScalarExpr } & {
  readonly [K in ScalarBinaryOp]: (a: ScalarLikeExpr, b: ScalarLikeExpr) => ScalarExpr;
} & { readonly select: (cond: ScalarLikeExpr, a: ScalarLikeExpr, b: ScalarLikeExpr) => ScalarExpr };

/** The builders formulas are written with: `scalar.mul(x, scalar.sigmoid(x))`. */
export const scalar: ScalarBuilders = {
  ...(Object.fromEntries(Object.keys(SCALAR_UNARY).map((op) => [op, unary(op as ScalarUnaryOp)])) as { [K in ScalarUnaryOp]: (x: ScalarLikeExpr) => ScalarExpr }),
  ...(Object.fromEntries(Object.keys(SCALAR_BINARY).map((op) => [op, binary(op as ScalarBinaryOp)])) as { [K in ScalarBinaryOp]: (a: ScalarLikeExpr, b: ScalarLikeExpr) => ScalarExpr }),
  select: (cond, a, b) => ({ kind: 'select', cond: lift(cond), a: lift(a), b: lift(b) }),
};

/**
 * A formula's non-tensor arguments as it sees them: a numeric one (number or symbolic size) is an `arg`
 * leaf, so one expression serves every value; anything else (a choice such as gelu's `approximate`, a
 * boolean, null) is the value itself and may pick the expression's shape.
 */
export type FormulaArg = ScalarExpr | string | boolean | null | undefined;

/** `(tensor operands, other arguments) → expression`, written with `scalar`. */
export type FormulaFn = (x: readonly ScalarExpr[], args: readonly FormulaArg[]) => ScalarLikeExpr;

/** Whether a non-tensor argument takes part as a number (an `arg` leaf) rather than by its value. */
export const isNumericArg = (a: unknown): boolean => typeof a === 'number' || (typeof a === 'object' && a !== null && !Array.isArray(a));

/** A registry op's formula, with its expressions cached per argument structure. */
export interface PointwiseFormula {
  /** How many leading positional arguments are tensor operands (`input` leaves). */
  readonly arity: number;
  /** The expression for these non-tensor arguments (the same object for the same structure). */
  expression(args: readonly unknown[]): ScalarExpr;
}

export function makeFormula(op: string, arity: number, fn: FormulaFn): PointwiseFormula {
  const cache = new Map<string, ScalarExpr>();
  const x = Array.from({ length: arity }, (_, index): ScalarExpr => ({ kind: 'input', index }));
  return {
    arity,
    expression(args) {
      const key = args.map((a) => (isNumericArg(a) ? '#' : JSON.stringify(a) ?? 'undefined')).join(',');
      let expr = cache.get(key);
      if (!expr) {
        const seen = args.map((a, index): FormulaArg => (isNumericArg(a) ? { kind: 'arg', index } : (a as FormulaArg)));
        expr = lift(fn(x, seen));
        checkExpression(op, expr, arity, args.length);
        cache.set(key, expr);
      }
      return expr;
    },
  };
}

/** A formula is data from plugin code: check it once, so code generation never meets a malformed tree. */
function checkExpression(op: string, e: ScalarExpr, arity: number, nArgs: number): void {
  const bad = (what: string) => new KilnError(`op '${op}': its formula ${what}`, 'write formulas with the `scalar` builders of @kiln/tensor');
  switch (e?.kind) {
    case 'input': if (!(Number.isInteger(e.index) && e.index >= 0 && e.index < arity)) throw bad(`reads tensor operand ${String(e.index)}, but the op has ${arity}`); return;
    case 'arg': if (!(Number.isInteger(e.index) && e.index >= 0 && e.index < nArgs)) throw bad(`reads argument ${String(e.index)}, which does not exist`); return;
    case 'const': if (typeof e.value !== 'number') throw bad('has a constant that is not a number'); return;
    case 'unary': if (!Object.hasOwn(SCALAR_UNARY, e.op)) throw bad(`uses an unknown unary op '${String(e.op)}'`); return checkExpression(op, e.x, arity, nArgs);
    case 'binary': if (!Object.hasOwn(SCALAR_BINARY, e.op)) throw bad(`uses an unknown binary op '${String(e.op)}'`); checkExpression(op, e.a, arity, nArgs); return checkExpression(op, e.b, arity, nArgs);
    case 'select': checkExpression(op, e.cond, arity, nArgs); checkExpression(op, e.a, arity, nArgs); return checkExpression(op, e.b, arity, nArgs);
    default: throw bad('returned something that is not a scalar expression');
  }
}
