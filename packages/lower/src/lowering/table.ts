// Lowering as a table keyed by core op: every op without a decomposition has an entry, a rule or 'eager'
// (typed over `CoreOpName`, so a new core op without an entry fails to compile). A rule may still answer
// undefined for arguments it does not cover (a dtype, a symbolic coefficient): that node runs eagerly too.
import type { CoreOpName, ScalarLike, Tensor } from '@kiln/tensor';
import { allOps, getOp, resultType } from '@kiln/tensor';
import { cast } from '../loop-ir/build.js';
import type { ProgramBuilder } from './builder.js';
import { loopDtype } from './builder.js';
import { computeDtype, lowersForDtype, pointwiseRules } from './pointwise-rules.js';
import type { PointwiseRule } from './pointwise-rules.js';
import { formulaLowersIn, formulaRule } from './formula-rules.js';
import { lowerGatherOp } from './gather-rules.js';
import { PositionNotExpressible, lowerIndexOp } from './index-rules.js';
import { lowerJoin } from './join-rules.js';
import { lowerMatmul, lowerReduction } from './reduce-matmul.js';
import { scalarOperand } from './scalar-operands.js';
import { lowerCumsum } from './scan-rules.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { LoweredValue } from './values.js';
import { axisIndex, readBroadcast, readValue } from './values.js';
import { lowerView } from './view-rules.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };
export const isTensorValue = (v: unknown): v is LoweredValue =>
  typeof v === 'object' && v !== null && ((v as LoweredValue).kind === 'buffer' || (v as LoweredValue).kind === 'virtual');

/** Lowers one node (normalized arguments, its fake result), or undefined: then it runs as an eager step. */
export type LoweringRule = (b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike) => LoweredValue | readonly LoweredValue[] | undefined;

/** The fill value of each creation op: a number, or a symbolic scalar (`full([n], x.shape[0])`). */
const CREATION_FILL: Record<string, ((args: readonly unknown[]) => unknown) | undefined> = {
  zeros: () => 0, ones: () => 1, zerosLike: () => 0, onesLike: () => 1,
  full: (a) => a[1], fullLike: (a) => a[1],
};

/** An index op whose positions cannot be spelled (a symbolic coefficient) falls back to eager instead. */
function checkedIndexOp(_b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const value = lowerIndexOp(op, all, fake);
  if (value?.kind !== 'virtual') return value;
  try {
    const n = value.shape.length;
    value.read(value.shape.map((_, d) => axisIndex(d, n)), n);
    return value;
  } catch (err) {
    if (err instanceof PositionNotExpressible) return undefined;
    throw err;
  }
}

function lowerPointwise(_b: ProgramBuilder, target: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const rule = pointwiseRules[target];
  return rule ? lowerWithPointwiseRule(rule, target, all, fake) : undefined;
}

/** An op with a registry formula (a built-in such as gelu, or a plugin's op): lowered from that formula. */
export function lowerFormula(_b: ProgramBuilder | undefined, target: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const rule = formulaRule(getOp(target));
  return rule ? lowerWithPointwiseRule(rule, target, all, fake) : undefined;
}

/**
 * A pointwise node lowered with `rule` (a table entry, or a plugin's rule from the lowerOp hook for an op the
 * table does not know): its operands read at the output index, broadcast and cast like any pointwise op.
 */
export function lowerWithPointwiseRule(rule: PointwiseRule, target: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (!fake?.shape) return undefined;
  const op = getOp(target)!;
  const arity = op.formula?.arity ?? op.schema.positional.filter((s) => s.type === 'Tensor' || s.type === 'TensorOrScalar').length;
  const operands = all.slice(0, arity);
  const extras = all.slice(arity);
  const outDtype = loopDtype(fake.dtype);
  // A symbolic size promotes like the integer scalar it stands for.
  // A symbolic scalar promotes like the plain scalar it stands for (a size like an int).
  const promoted = loopDtype(resultType(operands.map((o) => (isTensorValue(o) ? { dtype: o.dtype, ndim: o.shape.length } : (o as ScalarLike)))));
  const compute = computeDtype(target, outDtype, promoted);
  const lowers = op.formula && !pointwiseRules[target] ? formulaLowersIn(op, compute, extras) : lowersForDtype(target, compute);
  if (!lowers) return undefined;
  const shape = fake.shape.map(toSizeExpr);
  return {
    kind: 'virtual',
    dtype: outDtype,
    shape,
    read: (index, nAxes) => {
      const x = operands.map((o, i) => {
        const dtype = target === 'where' && i === 0 ? 'bool' : compute;
        if (isTensorValue(o)) return readBroadcast(o, index, nAxes, dtype);
        return scalarOperand(o, dtype);
      });
      const value = rule({ x, args: extras, dtype: compute, scalar: scalarOperand });
      return compute !== outDtype && !['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot'].includes(target)
        ? cast(outDtype, value)
        : value;
    },
  };
}

/**
 * `to(dtype)` conversions whose rounding the loop IR's cast shares with the eager kernel: same dtype, bool to a
 * number, int32 to float32 (round to nearest). Float to int and anything to bool differ at the edges (NaN,
 * out of range) and stay eager.
 */
const EXACT_CASTS = new Set(['bool>int32', 'bool>float32', 'int32>float32']);
function lowerConversion(_b: ProgramBuilder, _op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (!fake?.shape || !isTensorValue(all[0])) return undefined;
  const x = all[0];
  if (x.dtype === fake.dtype) return x;
  if (!EXACT_CASTS.has(`${x.dtype}>${fake.dtype}`)) return undefined;
  const dtype = loopDtype(fake.dtype);
  return { kind: 'virtual', dtype, shape: x.shape, read: (index, nAxes) => cast(dtype, readValue(x, index, nAxes)) };
}

function lowerCreation(_b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const fill = CREATION_FILL[op];
  if (!fill || !fake?.shape) return undefined;
  const dtype = loopDtype(fake.dtype);
  const value = fill(all);
  return { kind: 'virtual', dtype, shape: fake.shape.map(toSizeExpr), read: () => scalarOperand(value, dtype) };
}

const view: LoweringRule = lowerView;
const reduction: LoweringRule = lowerReduction;
const join: LoweringRule = lowerJoin;
const gather: LoweringRule = lowerGatherOp;
const matmul: LoweringRule = (b, _op, all, fake) => lowerMatmul(b, all, fake);
const cumsum: LoweringRule = (b, _op, all, fake) => lowerCumsum(b, all, fake);

/**
 * Every core op's lowering. 'eager': no loop-IR form (random and data-dependent ops, in-place ops, which
 * core functionalizes before lowering, ops whose eager rounding the loop IR does not share).
 */
export const LOWERING_TABLE: { readonly [K in CoreOpName]: LoweringRule | 'eager' } = {
  abs: lowerFormula,
  add: lowerPointwise,
  all: reduction,
  amax: reduction,
  amin: reduction,
  any: reduction,
  arange: checkedIndexOp,
  argmax: reduction,
  argmin: reduction,
  atan2: lowerPointwise,
  cat: join,
  ceil: lowerFormula,
  clamp: lowerPointwise,
  clone: view,
  contiguous: view,
  copy_: 'eager',
  cos: lowerFormula,
  cumsum: cumsum,
  div: lowerPointwise,
  eq: lowerPointwise,
  erf: lowerFormula,
  exp: lowerFormula,
  expand: view,
  eye: checkedIndexOp,
  flatten: view,
  floor: lowerFormula,
  full: lowerCreation,
  fullLike: lowerCreation,
  gather: gather,
  ge: lowerPointwise,
  gelu: lowerFormula,
  gt: lowerPointwise,
  indexSelect: gather,
  item: 'eager',
  le: lowerPointwise,
  linspace: 'eager',
  log: lowerFormula,
  log1p: lowerFormula,
  logicalAnd: lowerPointwise,
  logicalNot: lowerPointwise,
  logicalOr: lowerPointwise,
  lt: lowerPointwise,
  matmul: matmul,
  max: reduction,
  maximum: lowerPointwise,
  min: reduction,
  minimum: lowerPointwise,
  mul: lowerPointwise,
  narrow: view,
  ne: lowerPointwise,
  neg: lowerFormula,
  nonzero: 'eager',
  oneHot: gather,
  // The adjoint of gather/indexSelect (autograd): several positions may add into one element.
  scatterAdd: 'eager',
  ones: lowerCreation,
  onesLike: lowerCreation,
  permute: view,
  pow: lowerPointwise,
  prod: reduction,
  rand: 'eager',
  randn: 'eager',
  reciprocal: lowerFormula,
  relu: lowerFormula,
  remainder: lowerPointwise,
  reshape: view,
  round: lowerFormula,
  rsqrt: lowerFormula,
  select: view,
  sigmoid: lowerFormula,
  sign: lowerFormula,
  silu: lowerFormula,
  sin: lowerFormula,
  slice: view,
  sqrt: lowerFormula,
  squeeze: view,
  sub: lowerPointwise,
  sum: reduction,
  tanh: lowerFormula,
  tensor: 'eager',
  to: lowerConversion,
  transpose: view,
  tril: checkedIndexOp,
  triu: checkedIndexOp,
  unsqueeze: view,
  view: view,
  where: lowerPointwise,
  zeros: lowerCreation,
  zerosLike: lowerCreation,
};

/** Composite ops whose decomposition is all lowered ops (embedding → flatten, indexSelect, reshape; stack → cat of unsqueezes). */
const LOWERED_BY_DECOMPOSITION = ['embedding', 'stack'];

/**
 * Every registry op that lowering turns into loop-IR kernels (others run as eager steps), a plugin's op with
 * a formula included. Backends that consume the loop IR report this list to the policy audit's
 * backend-coverage column.
 */
export function loweredOps(): string[] {
  const fromTable = Object.entries(LOWERING_TABLE).flatMap(([op, entry]) => (entry === 'eager' ? [] : [op]));
  const byFormula = allOps().flatMap((op) => (op.formula && !(op.name in LOWERING_TABLE) ? [op.name] : []));
  return [...new Set([...fromTable, ...byFormula, ...LOWERED_BY_DECOMPOSITION])].sort();
}
