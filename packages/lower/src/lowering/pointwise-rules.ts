// Pointwise ops as value expressions: one rule per registry op that lowers to loop-IR arithmetic. An op
// missing here is not lowered; the graph lowering then runs it with its eager kernel (a visible fallback).
import type { LoopDType, ValueExpr } from '../loop-ir/loop-ir.js';
import { add, binary, cast, div, mul, sub, unary, where } from '../loop-ir/build.js';

/** Operands already read at the output index and cast to the op's computation dtype. */
export interface PointwiseContext {
  readonly x: ValueExpr[];
  /** Non-tensor arguments after the tensor operands, in schema order (e.g. alpha, min, max). */
  readonly args: readonly unknown[];
  readonly dtype: LoopDType;
  /** A scalar argument (alpha, min, max) as a value: a constant, or a kernel parameter when symbolic. */
  readonly scalar: (v: unknown, dtype: LoopDType) => ValueExpr;
}

/** A pointwise op's formula over its operands, read at one output index. */
export type PointwiseRule = (c: PointwiseContext) => ValueExpr;
type Rule = PointwiseRule;

/**
 * Pointwise ops whose lowering depends on more than a scalar formula: an `alpha` or optional bounds, integer
 * semantics, computation in bool or in the promoted input dtype. Ops with a registry formula (`@kiln/tensor`'s
 * `formula`: unary math, silu, gelu…) are not here: formula-rules.ts lowers them from that one definition.
 */
export const pointwiseRules: Readonly<Record<string, Rule>> = {
  logicalNot: ({ x }) => unary('not', x[0]!),
  add: ({ x, args, dtype, scalar }) => add(x[0]!, (args[0] ?? 1) === 1 ? x[1]! : mul(scalar(args[0], dtype), x[1]!)),
  sub: ({ x, args, dtype, scalar }) => sub(x[0]!, (args[0] ?? 1) === 1 ? x[1]! : mul(scalar(args[0], dtype), x[1]!)),
  mul: ({ x }) => mul(x[0]!, x[1]!),
  div: ({ x }) => div(x[0]!, x[1]!),
  pow: ({ x }) => binary('pow', x[0]!, x[1]!),
  atan2: ({ x }) => binary('atan2', x[0]!, x[1]!),
  remainder: ({ x }) => binary('mod', x[0]!, x[1]!),
  maximum: ({ x }) => binary('max', x[0]!, x[1]!),
  minimum: ({ x }) => binary('min', x[0]!, x[1]!),
  eq: ({ x }) => binary('eq', x[0]!, x[1]!),
  ne: ({ x }) => binary('ne', x[0]!, x[1]!),
  lt: ({ x }) => binary('lt', x[0]!, x[1]!),
  le: ({ x }) => binary('le', x[0]!, x[1]!),
  gt: ({ x }) => binary('gt', x[0]!, x[1]!),
  ge: ({ x }) => binary('ge', x[0]!, x[1]!),
  logicalAnd: ({ x }) => binary('and', x[0]!, x[1]!),
  logicalOr: ({ x }) => binary('or', x[0]!, x[1]!),
  where: ({ x }) => where(x[0]!, x[1]!, x[2]!),
  // max first, then min, as eager: with min > max every element becomes max (PyTorch's rule too).
  clamp: ({ x, args, dtype, scalar }) => {
    let v = x[0]!;
    if (args[0] !== null && args[0] !== undefined) v = binary('max', v, scalar(args[0], dtype));
    if (args[1] !== null && args[1] !== undefined) v = binary('min', v, scalar(args[1], dtype));
    return v;
  },
};

/**
 * Operand dtype handling: comparisons and logical ops compute in the promoted input dtype (logical ops in
 * bool); everything else computes in the output dtype. `where`'s condition stays bool.
 */
export function computeDtype(op: string, outDtype: LoopDType, promoted: LoopDType): LoopDType {
  if (op === 'logicalAnd' || op === 'logicalOr' || op === 'logicalNot') return 'bool';
  if (['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op)) return promoted;
  return outDtype;
}

/** Ops whose integer semantics differ from the float formula (C-style vs floor division): eager handles them. */
export function lowersForDtype(op: string, dtype: LoopDType): boolean {
  // Integer pow and remainder differ from the float formulas (and eager raises on a zero divisor).
  if (dtype === 'int32' && (op === 'pow' || op === 'div' || op === 'remainder')) return false;
  if (dtype === 'bool' && !['logicalNot', 'logicalAnd', 'logicalOr', 'where', 'eq', 'ne'].includes(op)) return false;
  return true;
}

export { cast };
