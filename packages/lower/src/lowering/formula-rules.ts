// Pointwise ops lowered from their registry formula (`@kiln/tensor`'s `formula`): the same expression the
// eager kernel is generated from, walked into loop-IR values. No op's formula is written here: a custom op
// with a formula compiles on every backend that consumes the loop IR, with nothing else to write.
import type { OpDef, ScalarBinaryOp, ScalarExpr, ScalarUnaryOp } from '@kiln/tensor';
import type { BinaryOp, LoopDType, UnaryOp, ValueExpr } from '../loop-ir/loop-ir.js';
import { binary, cast, constant, unary, where } from '../loop-ir/build.js';
import type { PointwiseContext, PointwiseRule } from './pointwise-rules.js';


/** Every scalar primitive has a loop-IR op of the same name (a primitive added without one fails to compile). */
const UNARY: { readonly [K in ScalarUnaryOp]: UnaryOp } = {
  neg: 'neg', abs: 'abs', sqrt: 'sqrt', rsqrt: 'rsqrt', reciprocal: 'reciprocal', exp: 'exp', expm1: 'expm1',
  log: 'log', log1p: 'log1p', tanh: 'tanh', sigmoid: 'sigmoid', erf: 'erf', sin: 'sin', cos: 'cos',
  floor: 'floor', ceil: 'ceil', round: 'round', trunc: 'trunc', sign: 'sign', relu: 'relu',
};
const BINARY: { readonly [K in ScalarBinaryOp]: BinaryOp } = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', pow: 'pow', atan2: 'atan2', mod: 'mod', max: 'max', min: 'min',
  eq: 'eq', ne: 'ne', lt: 'lt', le: 'le', gt: 'gt', ge: 'ge',
};
const COMPARISONS: ReadonlySet<ScalarBinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/**
 * Primitives whose int32 loop-IR form is the eager result exactly (eager computes in float64 and the int32
 * output wraps): an int32 formula that uses anything else (a division, a product past 2^53, exp…) runs on
 * its eager kernel instead.
 */
const EXACT_IN_INT32: ReadonlySet<string> = new Set(['neg', 'abs', 'floor', 'ceil', 'round', 'trunc', 'sign', 'relu', 'add', 'sub', 'max', 'min', ...COMPARISONS]);

function exactInInt32(e: ScalarExpr): boolean {
  switch (e.kind) {
    case 'input': case 'arg': return true;
    case 'const': return Number.isInteger(e.value);
    case 'unary': return EXACT_IN_INT32.has(e.op) && exactInInt32(e.x);
    case 'binary': return EXACT_IN_INT32.has(e.op) && exactInInt32(e.a) && exactInInt32(e.b);
    case 'select': return exactInInt32(e.cond) && exactInInt32(e.a) && exactInInt32(e.b);
    default: return e satisfies never;
  }
}

/** The expression as a loop-IR value computed in `c.dtype` (comparisons give 0/1 in it, as eager's do). */
function toValue(e: ScalarExpr, c: PointwiseContext): ValueExpr {
  switch (e.kind) {
    case 'input': return c.x[e.index]!;
    case 'arg': return c.scalar(c.args[e.index], c.dtype);
    case 'const': return constant(e.value, c.dtype);
    case 'unary': return unary(UNARY[e.op], toValue(e.x, c));
    case 'binary': {
      const value = binary(BINARY[e.op], toValue(e.a, c), toValue(e.b, c));
      return COMPARISONS.has(e.op) ? cast(c.dtype, value) : value;
    }
    case 'select': return where(binary('ne', toValue(e.cond, c), constant(0, c.dtype)), toValue(e.a, c), toValue(e.b, c));
    default: return e satisfies never;
  }
}

/** The lowering rule of an op with a registry formula, or undefined when it has none. */
export function formulaRule(op: OpDef | undefined): PointwiseRule | undefined {
  const formula = op?.formula;
  if (!formula) return undefined;
  return (c) => toValue(formula.expression(c.args), c);
}

/**
 * Whether the loop IR computes `op`'s formula in `dtype` exactly as eager does; where not (bool computation,
 * int32 formulas outside `EXACT_IN_INT32`) the node runs on its eager kernel.
 */
export function formulaLowersIn(op: OpDef, dtype: LoopDType, args: readonly unknown[]): boolean {
  if (dtype === 'bool') return false;
  return dtype !== 'int32' || exactInInt32(op.formula!.expression(args));
}
