// Core op → ONNX (opset 17), one rule per op: the table is the ONNX mapping the audit lists. An op missing
// here is an OnnxExportError naming it. Rules see typed operands (`ctx.input(arg, dtype)` casts a tensor or
// makes a scalar constant of that dtype) and the node's output dtype and shape; sizes that are symbolic
// become int64 arithmetic on Shape (`ctx.shape`). Semantics follow the eager kernels: Python-style remainder,
// round half to even, gelu with erf (or tanh), reductions over all dims when `dim` is null.
import type { Argument } from '@kiln/graph';
import type { SymInt } from '@kiln/shapes';
import type { AttrValue, OnnxDType } from './builder.js';
import { arg, isFloat, rankOf, type OnnxRule } from './rule-context.js';
import {
  argReduce, atan2, creation, eye, floatToInt32, gelu, linspace, matmul, reduce, remainder, slice, valuesAndIndices,
} from './composite-rules.js';

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
