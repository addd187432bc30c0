// Core op → ONNX (opset 17), one rule per op: the table is the ONNX mapping the audit lists. An op missing
// here is an OnnxExportError naming it. Rules see typed operands (`ctx.input(arg, dtype)` casts a tensor or
// makes a scalar constant of that dtype) and the node's output dtype and shape; sizes that are symbolic
// become int64 arithmetic on Shape (`ctx.shape`). Semantics follow the eager kernels: Python-style remainder,
// round half to even, gelu with erf (or tanh), reductions over all dims when `dim` is null.
import type { Argument, Node } from '@kiln/graph';
import type { SymInt } from '@kiln/shapes';
import type { DType } from '@kiln/tensor';
import { ONNX_TYPE } from './builder.js';
import type { AttrValue, OnnxBuilder, OnnxDType } from './builder.js';

export interface OnnxContext {
  readonly b: OnnxBuilder;
  /** The ONNX value of a tensor argument (cast to `dtype` when given), or a constant of `dtype` for a scalar. */
  input(a: Argument, dtype?: DType): string;
  dtypeOf(a: Argument): DType | undefined;
  /** The node's output dtype and shape (from its fake tensor). */
  out(node: Node): { dtype: DType; shape: readonly (number | SymInt)[] };
  /** A shape / one size as 1-D int64, symbolic sizes computed from Shape at run time. */
  shape(sizes: readonly (number | SymInt)[]): string;
  size(s: number | SymInt): string;
  /** Says where a data-dependent size (`item()`'s value) is read at run time: `value` is 1-D int64 [1]. */
  bindSymbol(size: unknown, value: string): void;
  /** The promoted dtype of operands, as eager promotes them (tensors and Python-style scalars). */
  promote(args: readonly Argument[]): DType;
}

export type OnnxRule = (ctx: OnnxContext, node: Node) => string | string[];

const arg = (node: Node, i: number, name: string, fallback?: unknown): unknown => (node.args.length > i ? node.args[i] : node.kwargs[name] ?? fallback);
const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** dim list of a reduction as axes (null: every dim), normalized to non-negative. */
function axes(dims: unknown, rank: number): number[] {
  if (dims === null || dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(dims) ? (dims as number[]) : [dims as number];
  return list.map((d) => (d < 0 ? d + rank : d));
}
const rankOf = (ctx: OnnxContext, a: Argument): number => (((a as Node).meta?.val as { shape?: unknown[] })?.shape?.length ?? 0);

/** An op over its operands, each cast to the node's output dtype (ONNX ops take one type). */
const pointwise = (opType: string, attrs: Record<string, AttrValue> = {}): OnnxRule => (ctx, node) => {
  const { dtype } = ctx.out(node);
  return ctx.b.op1(opType, node.args.map((a) => ctx.input(a, dtype)), attrs);
};

/** A comparison: operands cast to their promoted dtype, a bool result. */
const compare = (opType: string, negate = false): OnnxRule => (ctx, node) => {
  const dtype = ctx.promote(node.args.slice(0, 2));
  const r = ctx.b.op1(opType, node.args.slice(0, 2).map((a) => ctx.input(a, dtype)));
  return negate ? ctx.b.op1('Not', [r]) : r;
};

const logical = (opType: string): OnnxRule => (ctx, node) => ctx.b.op1(opType, node.args.slice(0, 2).map((a) => ctx.input(a, 'bool')));

/** `op(x, alpha * y)` for add / sub with an alpha other than 1. */
const withAlpha = (opType: string): OnnxRule => (ctx, node) => {
  const { dtype } = ctx.out(node);
  const x = ctx.input(node.args[0]!, dtype);
  let y = ctx.input(node.args[1]!, dtype);
  const alpha = node.kwargs.alpha;
  if (alpha !== undefined && alpha !== 1) y = ctx.b.op1('Mul', [y, ctx.input(alpha as Argument, dtype)]);
  return ctx.b.op1(opType, [x, y]);
};

function reduce(opType: string, viaInt = false): OnnxRule {
  return (ctx, node) => {
    const { dtype } = ctx.out(node);
    const x = node.args[0]!;
    const keepdims = arg(node, 2, 'keepdim', false) ? 1 : 0;
    const ax = axes(arg(node, 1, 'dim', null), rankOf(ctx, x));
    let input = ctx.input(x, viaInt ? 'int32' : (node.kwargs.dtype as DType | undefined) ?? (dtype === 'bool' ? 'int32' : dtype));
    if (ax.length === 0) input = ctx.b.op1('Identity', [input]);
    // Opset 13+ ReduceSum takes axes as an input; the others still take an attribute at opset 17.
    const r = opType === 'ReduceSum' ? ctx.b.op1(opType, [input, ctx.b.int64s(ax)], { keepdims }) : ctx.b.op1(opType, [input], { axes: ax, keepdims });
    return ctx.b.cast(r, viaInt ? 'int32' : (node.kwargs.dtype as DType | undefined) ?? (dtype === 'bool' ? 'int32' : dtype), dtype);
  };
}

/**
 * A 1-D operand is made 2-D and the extra dim squeezed after, as numpy's matmul defines it: ONNX Runtime
 * 1.30's optimizer fuses Transpose into a MatMul with a 1-D operand wrongly (onnx-corpus.test.ts found it).
 */
function matmul(ctx: OnnxContext, n: Node): string {
  const { dtype } = ctx.out(n);
  const [a, b] = [n.args[0]!, n.args[1]!];
  const [ra, rb] = [rankOf(ctx, a), rankOf(ctx, b)];
  let x = ctx.input(a, dtype);
  let y = ctx.input(b, dtype);
  if (ra === 1) x = ctx.b.op1('Unsqueeze', [x, ctx.b.int64s([0])]);
  if (rb === 1) y = ctx.b.op1('Unsqueeze', [y, ctx.b.int64s([1])]);
  let r = ctx.b.op1('MatMul', [x, y]);
  if (rb === 1) r = ctx.b.op1('Squeeze', [r, ctx.b.int64s([-1])]);
  if (ra === 1) r = ctx.b.op1('Squeeze', [r, ctx.b.int64s([rb === 1 ? -1 : -2])]);
  return r;
}

/**
 * float → int32 as eager casts (JavaScript's ToInt32): NaN and ±Infinity give 0, others truncate and wrap
 * modulo 2^32. ONNX's Cast leaves out-of-range values undefined, so the wrap is computed in float64.
 */
function floatToInt32(ctx: OnnxContext, x: string, from: DType): string {
  const b = ctx.b;
  const t = b.cast(x, from, 'float64');
  const c = (v: number) => b.scalar(v, 'float64');
  const finite = b.op1('Where', [b.op1('Or', [b.op1('IsNaN', [t]), b.op1('IsInf', [t])]), c(0), t]);
  const truncated = b.op1('Mul', [b.op1('Sign', [finite]), b.op1('Floor', [b.op1('Abs', [finite])])]);
  const wraps = b.op1('Floor', [b.op1('Div', [b.op1('Add', [truncated, c(2 ** 31)]), c(2 ** 32)])]);
  return b.cast(b.op1('Sub', [truncated, b.op1('Mul', [wraps, c(2 ** 32)])]), 'float64', 'int32');
}

/** argmax / argmin (and the index half of max / min with a dim): int64 → int32, over the flattened input when dim is null. */
function argReduce(ctx: OnnxContext, node: Node, opType: 'ArgMax' | 'ArgMin'): string {
  const x = node.args[0]!;
  const dim = arg(node, 1, 'dim', null) as number | null;
  const keepdims = arg(node, 2, 'keepdim', false) ? 1 : 0;
  let input = ctx.input(x);
  const dtype = ctx.dtypeOf(x);
  if (dtype === 'bool') input = ctx.b.cast(input, 'bool', 'int32');
  if (dim === null) input = ctx.b.op1('Reshape', [input, ctx.b.int64s([-1])]);
  const attrs = { axis: dim ?? 0, keepdims: dim === null ? 0 : keepdims, select_last_index: 0 };
  let r = ctx.b.op1(opType, [input], attrs);
  if (dtype !== undefined && isFloat(dtype)) {
    // Eager (as PyTorch) answers the first NaN's index wherever a NaN is; ONNX's ArgMax skips NaNs.
    const nan = ctx.b.cast(ctx.b.op1('IsNaN', [input]), 'bool', 'int32');
    const firstNan = ctx.b.op1('ArgMax', [nan], attrs);
    const hasNan = ctx.b.cast(ctx.b.op1('ReduceMax', [nan], { axes: [attrs.axis], keepdims: attrs.keepdims }), 'int32', 'bool');
    r = ctx.b.op1('Where', [hasNan, firstNan, r]);
  }
  return ctx.b.cast(r, 'int64', 'int32');
}

const valuesAndIndices = (reduceOp: string, argOp: 'ArgMax' | 'ArgMin'): OnnxRule => (ctx, node) => {
  const dim = arg(node, 1, 'dim', null);
  if (dim === null) return reduce(reduceOp)(ctx, node);
  const keepdims = arg(node, 2, 'keepdim', false) ? 1 : 0;
  const { dtype } = ctx.out(node);
  const x = ctx.input(node.args[0]!, dtype === 'bool' ? 'int32' : undefined);
  const values = ctx.b.cast(ctx.b.op1(reduceOp, [x], { axes: [dim as number], keepdims }), dtype === 'bool' ? 'int32' : dtype, dtype);
  return [values, argReduce(ctx, node, argOp)];
};

function gelu(ctx: OnnxContext, node: Node): string {
  const { dtype } = ctx.out(node);
  const x = ctx.input(node.args[0]!, dtype);
  const c = (v: number) => ctx.b.scalar(v, dtype);
  if (node.kwargs.approximate === 'tanh') {
    // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
    const cube = ctx.b.op1('Mul', [ctx.b.op1('Mul', [x, x]), x]);
    const inner = ctx.b.op1('Mul', [c(Math.sqrt(2 / Math.PI)), ctx.b.op1('Add', [x, ctx.b.op1('Mul', [c(0.044715), cube])])]);
    return ctx.b.op1('Mul', [ctx.b.op1('Mul', [c(0.5), x]), ctx.b.op1('Add', [c(1), ctx.b.op1('Tanh', [inner])])]);
  }
  const erf = ctx.b.op1('Erf', [ctx.b.op1('Mul', [x, c(Math.SQRT1_2)])]);
  return ctx.b.op1('Mul', [ctx.b.op1('Mul', [c(0.5), x]), ctx.b.op1('Add', [c(1), erf])]);
}

/** Python-style remainder: the sign of the divisor (ONNX Mod fmod=0 for ints; floats by x - floor(x/y)·y). */
function remainder(ctx: OnnxContext, node: Node): string {
  const { dtype } = ctx.out(node);
  const [x, y] = [ctx.input(node.args[0]!, dtype), ctx.input(node.args[1]!, dtype)];
  if (!isFloat(dtype)) return ctx.b.op1('Mod', [x, y], { fmod: 0 });
  return ctx.b.op1('Sub', [x, ctx.b.op1('Mul', [ctx.b.op1('Floor', [ctx.b.op1('Div', [x, y])]), y])]);
}

function creation(ctx: OnnxContext, node: Node, fill: number): string {
  const { dtype, shape } = ctx.out(node);
  return ctx.b.op1('Expand', [ctx.b.scalar(fill, dtype), ctx.shape(shape)]);
}

function slice(ctx: OnnxContext, node: Node, dim: number, start: number | SymInt | null, end: number | SymInt | null, step: number): string {
  const big = Number.MAX_SAFE_INTEGER;
  const s = start === null ? ctx.b.int64s([step > 0 ? 0 : -1]) : ctx.size(start);
  const e = end === null ? ctx.b.int64s([step > 0 ? big : -big]) : ctx.size(end);
  return ctx.b.op1('Slice', [ctx.input(node.args[0]!), s, e, ctx.b.int64s([dim]), ctx.b.int64s([step])]);
}

/**
 * atan2(y, x) as eager computes it (Math.atan2 in float64, then rounded): ONNX has no Atan2, so atan(y/x)
 * with the quadrant fixed from the signs — signed zeros included (`1/x < 0` finds -0), and the
 * both-zero and both-infinite cases that y/x turns into NaN.
 */
function atan2(ctx: OnnxContext, node: Node): string {
  const b = ctx.b;
  const [y, x] = [ctx.input(node.args[0]!, 'float64'), ctx.input(node.args[1]!, 'float64')];
  const c = (v: number) => b.scalar(v, 'float64');
  const negative = (v: string) => b.op1('Or', [b.op1('Less', [v, c(0)]), b.op1('Less', [b.op1('Reciprocal', [v]), c(0)])]);
  const isZero = (v: string) => b.op1('Equal', [v, c(0)]);
  // Both zero: y / 1 keeps y's signed zero (ONNX Runtime's Where returned +0 for a selected -0).
  const bothZero = b.op1('And', [isZero(y), isZero(x)]);
  const ratio = b.op1('Div', [y, b.op1('Where', [bothZero, c(1), x])]);
  // ONNX Runtime's Atan has no float64 kernel: the ratio goes through float32 (within an ulp of float32).
  const atanOfRatio = b.cast(b.op1('Atan', [b.cast(ratio, 'float64', 'float32')]), 'float32', 'float64');
  const bothInf = b.op1('And', [b.op1('IsInf', [y]), b.op1('IsInf', [x])]);
  const diagonal = b.op1('Mul', [b.op1('Mul', [b.op1('Sign', [y]), b.op1('Sign', [x])]), c(Math.PI / 4)]);
  const base = b.op1('Where', [bothInf, diagonal, atanOfRatio]);
  const turn = b.op1('Where', [negative(y), c(-Math.PI), c(Math.PI)]);
  return b.cast(b.op1('Where', [negative(x), b.op1('Add', [base, turn]), base]), 'float64', ctx.out(node).dtype);
}

/** eye(n, m): EyeLike over zeros of the output's shape (either size may be symbolic). */
function eye(ctx: OnnxContext, node: Node): string {
  const { dtype } = ctx.out(node);
  return ctx.b.op1('EyeLike', [creation(ctx, node, 0)], { dtype: ONNX_TYPE[dtype] });
}

/**
 * linspace(start, end, steps) as the eager kernel fills it — from both ends, so the last value is exactly
 * `end` — in float64, then cast: start + i·step for i < steps/2, end - (steps-1-i)·step after.
 */
function linspace(ctx: OnnxContext, node: Node): string {
  const b = ctx.b;
  const c = (v: number) => b.scalar(v, 'float64');
  const [start, end] = [ctx.input(arg(node, 0, 'start') as Argument, 'float64'), ctx.input(arg(node, 1, 'end') as Argument, 'float64')];
  const n = b.cast(b.op1('Reshape', [ctx.size(ctx.out(node).shape[0]!), b.int64s([])]), 'int64', 'float64');
  const i = b.op1('Range', [c(0), n, c(1)]);
  const last = b.op1('Sub', [n, c(1)]);
  const step = b.op1('Where', [b.op1('Greater', [n, c(1)]), b.op1('Div', [b.op1('Sub', [end, start]), b.op1('Max', [last, c(1)])]), c(0)]);
  const fromStart = b.op1('Add', [start, b.op1('Mul', [i, step])]);
  const fromEnd = b.op1('Sub', [end, b.op1('Mul', [b.op1('Sub', [last, i]), step])]);
  const firstHalf = b.op1('Less', [i, b.op1('Div', [n, c(2)])]);
  const values = b.op1('Where', [firstHalf, fromStart, fromEnd]);
  const { dtype } = ctx.out(node);
  return dtype === 'int32' ? floatToInt32(ctx, values, 'float64') : b.cast(values, 'float64', dtype);
}

const unary = (opType: string): OnnxRule => pointwise(opType);

export const ONNX_RULES: Readonly<Record<string, OnnxRule>> = {
  neg: unary('Neg'), abs: unary('Abs'), exp: unary('Exp'), log: unary('Log'), sqrt: unary('Sqrt'), sin: unary('Sin'), cos: unary('Cos'),
  tanh: unary('Tanh'), sigmoid: unary('Sigmoid'), relu: unary('Relu'), erf: unary('Erf'), floor: unary('Floor'), ceil: unary('Ceil'),
  round: unary('Round'), sign: unary('Sign'), reciprocal: unary('Reciprocal'),
  log1p: (ctx, n) => ctx.b.op1('Log', [ctx.b.op1('Add', [ctx.input(n.args[0]!, ctx.out(n).dtype), ctx.b.scalar(1, ctx.out(n).dtype)])]),
  rsqrt: (ctx, n) => ctx.b.op1('Reciprocal', [ctx.b.op1('Sqrt', [ctx.input(n.args[0]!, ctx.out(n).dtype)])]),
  silu: (ctx, n) => {
    const x = ctx.input(n.args[0]!, ctx.out(n).dtype);
    return ctx.b.op1('Mul', [x, ctx.b.op1('Sigmoid', [x])]);
  },
  logicalNot: (ctx, n) => ctx.b.op1('Not', [ctx.input(n.args[0]!, 'bool')]),
  gelu,
  add: withAlpha('Add'), sub: withAlpha('Sub'), mul: pointwise('Mul'), div: pointwise('Div'), pow: pointwise('Pow'),
  maximum: pointwise('Max'), minimum: pointwise('Min'), remainder, atan2,
  eq: compare('Equal'), ne: compare('Equal', true), lt: compare('Less'), le: compare('LessOrEqual'), gt: compare('Greater'), ge: compare('GreaterOrEqual'),
  logicalAnd: logical('And'), logicalOr: logical('Or'),
  where: (ctx, n) => {
    const { dtype } = ctx.out(n);
    return ctx.b.op1('Where', [ctx.input(n.args[0]!, 'bool'), ctx.input(n.args[1]!, dtype), ctx.input(n.args[2]!, dtype)]);
  },
  clamp: (ctx, n) => {
    const { dtype } = ctx.out(n);
    const [lo, hi] = [arg(n, 1, 'min', null), arg(n, 2, 'max', null)];
    let x = ctx.input(n.args[0]!, dtype);
    // Max then Min, as eager clamps (min wins when min > max), rather than Clip.
    if (lo !== null) x = ctx.b.op1('Max', [x, ctx.input(lo as Argument, dtype)]);
    if (hi !== null) x = ctx.b.op1('Min', [x, ctx.input(hi as Argument, dtype)]);
    return x;
  },
  cat: (ctx, n) => {
    const { dtype } = ctx.out(n);
    const rank = ctx.out(n).shape.length;
    const dim = arg(n, 1, 'dim', 0) as number;
    const parts = (n.args[0] as Argument[]).filter((t) => rankOf(ctx, t) === rank);
    return ctx.b.op1('Concat', parts.map((t) => ctx.input(t, dtype)), { axis: dim < 0 ? dim + rank : dim });
  },
  reshape: (ctx, n) => ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  view: (ctx, n) => ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  flatten: (ctx, n) => ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  squeeze: (ctx, n) => ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  unsqueeze: (ctx, n) => ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  expand: (ctx, n) => ctx.b.op1('Expand', [ctx.input(n.args[0]!), ctx.shape(ctx.out(n).shape)]),
  permute: (ctx, n) => {
    const rank = rankOf(ctx, n.args[0]!);
    return ctx.b.op1('Transpose', [ctx.input(n.args[0]!)], { perm: (n.args[1] as number[]).map((d) => (d < 0 ? d + rank : d)) });
  },
  transpose: (ctx, n) => {
    const rank = rankOf(ctx, n.args[0]!);
    const [a, b] = [n.args[1] as number, n.args[2] as number].map((d) => (d < 0 ? d + rank : d)) as [number, number];
    const perm = Array.from({ length: rank }, (_, i) => (i === a ? b : i === b ? a : i));
    return ctx.b.op1('Transpose', [ctx.input(n.args[0]!)], { perm });
  },
  slice: (ctx, n) => slice(ctx, n, arg(n, 1, 'dim', 0) as number, arg(n, 2, 'start', null) as number | null, arg(n, 3, 'end', null) as number | null, arg(n, 4, 'step', 1) as number),
  narrow: (ctx, n) => {
    const start = arg(n, 2, 'start', 0) as number | SymInt;
    const length = arg(n, 3, 'length', 0) as number | SymInt;
    const s = ctx.size(start);
    const e = ctx.b.op1('Add', [s, ctx.size(length)]);
    return ctx.b.op1('Slice', [ctx.input(n.args[0]!), s, e, ctx.b.int64s([arg(n, 1, 'dim', 0) as number]), ctx.b.int64s([1])]);
  },
  select: (ctx, n) => {
    const index = arg(n, 2, 'index', 0) as number | SymInt;
    const i = typeof index === 'number' ? ctx.b.scalar(index, 'int64') : ctx.b.op1('Reshape', [ctx.size(index), ctx.b.int64s([])]);
    return ctx.b.op1('Gather', [ctx.input(n.args[0]!), i], { axis: arg(n, 1, 'dim', 0) as number });
  },
  contiguous: (ctx, n) => ctx.b.op1('Identity', [ctx.input(n.args[0]!)]),
  clone: (ctx, n) => ctx.b.op1('Identity', [ctx.input(n.args[0]!)]),
  to: (ctx, n) => {
    const from = ctx.dtypeOf(n.args[0]!);
    const { dtype } = ctx.out(n);
    if (from !== undefined && isFloat(from) && dtype === 'int32') return floatToInt32(ctx, ctx.input(n.args[0]!), from);
    return ctx.b.op1('Identity', [ctx.input(n.args[0]!, dtype)]);
  },
  indexSelect: (ctx, n) => ctx.b.op1('Gather', [ctx.input(n.args[0]!), ctx.b.cast(ctx.input(n.args[2]!), ctx.dtypeOf(n.args[2]!), 'int64')], { axis: n.args[1] as number }),
  gather: (ctx, n) => ctx.b.op1('GatherElements', [ctx.input(n.args[0]!), ctx.b.cast(ctx.input(n.args[2]!), ctx.dtypeOf(n.args[2]!), 'int64')], { axis: n.args[1] as number }),
  scatterAdd: (ctx, n) => {
    const { dtype } = ctx.out(n);
    const index = ctx.b.cast(ctx.input(n.args[2]!), ctx.dtypeOf(n.args[2]!), 'int64');
    return ctx.b.op1('ScatterElements', [ctx.input(n.args[0]!, dtype), index, ctx.input(n.args[3]!, dtype)], { axis: n.args[1] as number, reduction: 'add' });
  },
  tril: (ctx, n) => ctx.b.op1('Trilu', [ctx.input(n.args[0]!), ctx.b.scalar((arg(n, 1, 'diagonal', 0) as number) ?? 0, 'int64')], { upper: 0 }),
  triu: (ctx, n) => ctx.b.op1('Trilu', [ctx.input(n.args[0]!), ctx.b.scalar((arg(n, 1, 'diagonal', 0) as number) ?? 0, 'int64')], { upper: 1 }),
  oneHot: (ctx, n) => {
    const { shape } = ctx.out(n);
    const depth = ctx.b.op1('Reshape', [ctx.size(shape[shape.length - 1]!), ctx.b.int64s([])]);
    return ctx.b.op1('OneHot', [ctx.input(n.args[0]!), depth, ctx.b.constant([0, 1], 'int32')], { axis: -1 });
  },
  item: (ctx, n) => {
    // An int32 item() is a data-dependent size (u0) that later sizes are computed from.
    const v = ctx.b.cast(ctx.b.op1('Reshape', [ctx.input(n.args[0]!), ctx.b.int64s([1])]), ctx.dtypeOf(n.args[0]!), 'int64');
    ctx.bindSymbol(n.meta.val, v);
    return v;
  },
  nonzero: (ctx, n) => ctx.b.cast(ctx.b.op1('Transpose', [ctx.b.op1('NonZero', [ctx.input(n.args[0]!)])], { perm: [1, 0] }), 'int64', 'int32'),
  sum: reduce('ReduceSum'), prod: reduce('ReduceProd'), amax: reduce('ReduceMax'), amin: reduce('ReduceMin'),
  all: reduce('ReduceMin', true), any: reduce('ReduceMax', true),
  argmax: (ctx, n) => argReduce(ctx, n, 'ArgMax'), argmin: (ctx, n) => argReduce(ctx, n, 'ArgMin'),
  max: valuesAndIndices('ReduceMax', 'ArgMax'), min: valuesAndIndices('ReduceMin', 'ArgMin'),
  cumsum: (ctx, n) => {
    const { dtype } = ctx.out(n);
    return ctx.b.op1('CumSum', [ctx.input(n.args[0]!, dtype), ctx.b.scalar(n.args[1] as number, 'int64')]);
  },
  matmul,
  full: (ctx, n) => {
    const { dtype, shape } = ctx.out(n);
    return ctx.b.op1('Expand', [ctx.input(n.args[1] as Argument, dtype), ctx.shape(shape)]);
  },
  eye, linspace,
  zeros: (ctx, n) => creation(ctx, n, 0), ones: (ctx, n) => creation(ctx, n, 1),
  zerosLike: (ctx, n) => creation(ctx, n, 0), onesLike: (ctx, n) => creation(ctx, n, 1),
  fullLike: (ctx, n) => {
    const { dtype, shape } = ctx.out(n);
    return ctx.b.op1('Expand', [ctx.input(n.args[1] as Argument, dtype), ctx.shape(shape)]);
  },
  arange: (ctx, n) => {
    const { dtype } = ctx.out(n);
    const [a, b, step] = [arg(n, 0, 'start', 0), arg(n, 1, 'end', null), arg(n, 2, 'step', 1)];
    const [start, end] = b === null ? [0, a] : [a, b];
    const scalar = (v: unknown) => (typeof v === 'number' ? ctx.b.scalar(v, dtype) : ctx.b.cast(ctx.b.op1('Reshape', [ctx.size(v as SymInt), ctx.b.int64s([])]), 'int64', dtype));
    return ctx.b.op1('Range', [scalar(start), scalar(end), scalar(step)]);
  },
};

/** The core ops an exported program may contain and still be written as ONNX (the audit's `onnx` column). */
export const ONNX_MAPPED_OPS: readonly string[] = Object.keys(ONNX_RULES).sort();

export type { OnnxDType };
