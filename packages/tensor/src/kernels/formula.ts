// The eager kernel of a formula op (registry/formula.ts): the expression becomes one JS function of the
// operands, compiled once per expression, run by the specialized element loops like any pointwise kernel.
// Values are JS numbers (float64), rounded once when stored, as the hand-written kernels always computed.
import type { DType, ScalarLike } from '../dtype.js';
import { allocate, isFloating, isTensorOperand, resultType } from '../dtype.js';
import type { PointwiseFormula, ScalarExpr } from '../registry/formula.js';
import { SCALAR_BINARY, SCALAR_UNARY } from '../registry/formula.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { setFormulaLayer } from '../registry/registry.js';
import { broadcastShapes } from '../size.js';
import { Tensor } from '../tensor.js';
import { SpecializedLoops, mapGeneric, mapUnary, operandArgs } from './pointwise.js';
import type { Operand } from './pointwise.js';

/** Arithmetic written inline (as the hand-written kernels did); every other primitive is a call. */
const INFIX: Partial<Record<keyof typeof SCALAR_BINARY, string>> = { add: '+', sub: '-', mul: '*', div: '/' };

/** A number as JS source that reads back as the same float64 (-0 and the non-finite values included). */
function numberSource(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (Object.is(v, -0)) return '(-0)';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '(-Infinity)';
  return v < 0 ? `(${String(v)})` : String(v);
}

/**
 * The expression as JS source over `x0…` (operands) and `a0…` (numeric arguments). Op names come from the
 * fixed primitive tables and constants are checked numbers (registry/formula.ts): no other text is embedded.
 */
function source(e: ScalarExpr): string {
  switch (e.kind) {
    case 'input': return `x${e.index}`;
    case 'arg': return `a${e.index}`;
    case 'const': return numberSource(e.value);
    case 'unary': return `U.${e.op}(${source(e.x)})`;
    case 'binary': {
      const infix = INFIX[e.op];
      return infix ? `(${source(e.a)} ${infix} ${source(e.b)})` : `B.${e.op}(${source(e.a)}, ${source(e.b)})`;
    }
    case 'select': return `(${source(e.cond)} !== 0 ? ${source(e.a)} : ${source(e.b)})`;
    default: return e satisfies never;
  }
}

interface CompiledFormula {
  readonly f: Function;
  readonly loops: SpecializedLoops;
}

const compiled = new WeakMap<ScalarExpr, CompiledFormula>();

/**
 * The expression's scalar function `(x0…, a_i…) → number` (one parameter per numeric argument, by its index
 * among the arguments) and its element loops, made once per expression.
 */
function compileFormula(e: ScalarExpr, arity: number, numeric: readonly number[]): CompiledFormula {
  let c = compiled.get(e);
  if (c) return c;
  const params = [...Array(arity).keys()].map((i) => `x${i}`).concat(numeric.map((i) => `a${i}`));
  // A single primitive of the operand is that primitive itself: `exp`'s kernel calls Math.exp directly.
  const f: Function =
    e.kind === 'unary' && e.x.kind === 'input' && params.length === 1
      ? SCALAR_UNARY[e.op]
      : (new Function('U', 'B', `return function formula(${params.join(', ')}) { return ${source(e)}; };`)(SCALAR_UNARY, SCALAR_BINARY) as Function);
  c = { f, loops: new SpecializedLoops(f) };
  compiled.set(e, c);
  return c;
}

/**
 * Runs a formula op eagerly on normalized arguments: tensor operands broadcast to `out`'s shape, numeric
 * arguments passed as scalars (others only chose the expression). Operands are read as stored (an int32 is
 * exact in float64) and the result is rounded by the output array, or made 0/1 for a bool output.
 */
export function runFormula(formula: PointwiseFormula, args: readonly unknown[], out: { shape: readonly number[]; dtype: DType }): Tensor {
  const rest = args.slice(formula.arity);
  const expr = formula.expression(rest);
  const numeric = rest.flatMap((a, i) => (typeof a === 'number' ? [i] : []));
  const { f, loops } = compileFormula(expr, formula.arity, numeric);
  const operands = args.slice(0, formula.arity) as Operand[];
  const scalars = numeric.map((i) => rest[i] as number);
  const first = operands[0];
  if (formula.arity === 1 && scalars.length === 0 && first instanceof Tensor) return mapUnary(first, out.dtype, f as (v: number) => number, loops);
  let n = 1;
  for (const s of out.shape) n *= s;
  const all: Operand[] = [...operands, ...scalars];
  if (out.dtype !== 'bool' && n > 0) {
    const reads = all.map((o) => operandArgs(o, out.shape, o instanceof Tensor ? o.dtype : 'float64')!);
    if (reads.some((r) => r.kind !== 's')) {
      const data = allocate(out.dtype, n);
      loops.loop(reads.map((r) => r.kind).join(''))(...reads.flatMap((r) => r.args), data, n);
      return Tensor.fromData(data, out.shape, out.dtype);
    }
  }
  return mapGeneric(all, out.shape, out.dtype, f);
}

/**
 * The meta function of a formula op that gives none: tensor operands broadcast; the dtype is the operands'
 * promoted dtype, integers and bool promoted to float32 (a formula computes in floating point).
 */
function formulaMeta(formula: PointwiseFormula, op: string, args: readonly unknown[]): MetaTensor {
  const operands = args.slice(0, formula.arity) as (TensorMetaLike | ScalarLike)[];
  const tensors = operands.filter((o): o is TensorMetaLike => isTensorOperand(o));
  const promoted = resultType(operands);
  return { shape: broadcastShapes(op, ...tensors.map((t) => t.shape)), dtype: isFloating(promoted) ? promoted : 'float32' };
}

setFormulaLayer({
  kernel: (formula, args, out) => runFormula(formula, args, out as { shape: number[]; dtype: DType }),
  meta: formulaMeta,
});
