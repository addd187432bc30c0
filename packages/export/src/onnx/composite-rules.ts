// The rules that write one core op as several ONNX nodes, each reproducing the eager kernel's numerics where
// ONNX differs: reductions (and argmax/argmin's NaN handling), matmul of 1-D operands, float → int32 casts,
// gelu, Python-style remainder, atan2, creation ops, linspace and slicing with symbolic bounds.
import type { Argument, Node } from '@kiln/graph';
import type { SymInt } from '@kiln/shapes';
import type { DType } from '@kiln/tensor';
import { ONNX_TYPE } from './builder.js';
import { arg, axes, isFloat, rankOf, type OnnxContext, type OnnxRule } from './rule-context.js';

export function reduce(opType: string, viaInt = false): OnnxRule {
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
export function matmul(ctx: OnnxContext, n: Node): string {
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
export function floatToInt32(ctx: OnnxContext, x: string, from: DType): string {
  const b = ctx.b;
  const t = b.cast(x, from, 'float64');
  const c = (v: number) => b.scalar(v, 'float64');
  const finite = b.op1('Where', [b.op1('Or', [b.op1('IsNaN', [t]), b.op1('IsInf', [t])]), c(0), t]);
  const truncated = b.op1('Mul', [b.op1('Sign', [finite]), b.op1('Floor', [b.op1('Abs', [finite])])]);
  const wraps = b.op1('Floor', [b.op1('Div', [b.op1('Add', [truncated, c(2 ** 31)]), c(2 ** 32)])]);
  return b.cast(b.op1('Sub', [truncated, b.op1('Mul', [wraps, c(2 ** 32)])]), 'float64', 'int32');
}

/** argmax / argmin (and the index half of max / min with a dim): int64 → int32, over the flattened input when dim is null. */
export function argReduce(ctx: OnnxContext, node: Node, opType: 'ArgMax' | 'ArgMin'): string {
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

export const valuesAndIndices = (reduceOp: string, argOp: 'ArgMax' | 'ArgMin'): OnnxRule => (ctx, node) => {
  const dim = arg(node, 1, 'dim', null);
  if (dim === null) return reduce(reduceOp)(ctx, node);
  const keepdims = arg(node, 2, 'keepdim', false) ? 1 : 0;
  const { dtype } = ctx.out(node);
  const x = ctx.input(node.args[0]!, dtype === 'bool' ? 'int32' : undefined);
  const values = ctx.b.cast(ctx.b.op1(reduceOp, [x], { axes: [dim as number], keepdims }), dtype === 'bool' ? 'int32' : dtype, dtype);
  return [values, argReduce(ctx, node, argOp)];
};

export function gelu(ctx: OnnxContext, node: Node): string {
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
export function remainder(ctx: OnnxContext, node: Node): string {
  const { dtype } = ctx.out(node);
  const [x, y] = [ctx.input(node.args[0]!, dtype), ctx.input(node.args[1]!, dtype)];
  if (!isFloat(dtype)) return ctx.b.op1('Mod', [x, y], { fmod: 0 });
  return ctx.b.op1('Sub', [x, ctx.b.op1('Mul', [ctx.b.op1('Floor', [ctx.b.op1('Div', [x, y])]), y])]);
}

export function creation(ctx: OnnxContext, node: Node, fill: number): string {
  const { dtype, shape } = ctx.out(node);
  return ctx.b.op1('Expand', [ctx.b.scalar(fill, dtype), ctx.shape(shape)]);
}

export function slice(ctx: OnnxContext, node: Node, dim: number, start: number | SymInt | null, end: number | SymInt | null, step: number): string {
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
export function atan2(ctx: OnnxContext, node: Node): string {
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
export function eye(ctx: OnnxContext, node: Node): string {
  const { dtype } = ctx.out(node);
  return ctx.b.op1('EyeLike', [creation(ctx, node, 0)], { dtype: ONNX_TYPE[dtype] });
}

/**
 * linspace(start, end, steps) as the eager kernel fills it — from both ends, so the last value is exactly
 * `end` — in float64, then cast: start + i·step for i < steps/2, end - (steps-1-i)·step after.
 */
export function linspace(ctx: OnnxContext, node: Node): string {
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
