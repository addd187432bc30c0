// Reductions (one reduction kernel with the producer chain fused as its prologue) and matmul (the extern
// kernel, operands read in place through their strides: `x @ w.transpose(0, 1)` copies nothing).
import { normalizeDim } from '@kiln/tensor';
import type { LoopDType, ReductionType, SizeExpr } from '../loop-ir/loop-ir.js';
import { acc, binary, cast, constant } from '../loop-ir/build.js';
import { contiguousStrides } from '../loop-ir/sizes.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, loopDtype, paramsOf } from './builder.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { LoweredValue } from './values.js';
import { axisIndex, readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

const REDUCTION_TYPE: Record<string, ReductionType> = {
  sum: 'sum', prod: 'prod', amax: 'max', amin: 'min', argmax: 'argmax', argmin: 'argmin', all: 'min', any: 'max',
};
export const REDUCTIONS = new Set([...Object.keys(REDUCTION_TYPE), 'max', 'min']);

/**
 * Reductions whose result is a truth value: `all`/`any` (and amax/amin of a bool tensor) reduce 0/1 as
 * int32 with min/max, and the result is `acc > 0`. That also gives the empty cases: min of nothing is
 * INT_MAX (all → true), max of nothing is INT_MIN (any → false).
 */
const truthReduction = (op: string, x: LoweredValue) => op === 'all' || op === 'any' || (x.dtype === 'bool' && (op === 'amax' || op === 'amin'));

export function lowerReduction(b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | readonly LoweredValue[] | undefined {
  if (op === 'max' || op === 'min') return lowerWithIndices(b, op, all, fake);
  const x = all[0] as LoweredValue;
  const type = REDUCTION_TYPE[op]!;
  const outDtype = loopDtype(fake.dtype);
  if ((type === 'prod' || type === 'sum') && outDtype !== 'float32') return undefined;
  const rank = x.shape.length;
  const dimArg = all[1] as number | number[] | null;
  // An empty dim list reduces every dim, as in eager.
  const dims = dimArg === null || (Array.isArray(dimArg) && dimArg.length === 0) ? x.shape.map((_, d) => d) : (typeof dimArg === 'number' ? [dimArg] : dimArg).map((d) => normalizeDim(d, rank, op));
  const reduced = new Set(dims);
  const outer = x.shape.filter((_, d) => !reduced.has(d));
  // A 0-d input (sum(x), argmax(x), x.sum(0) of a scalar) reduces over its one element: a size-1 reduction
  // axis that no index reads, since the loop IR's reduction kernel needs at least one.
  const reduced0 = x.shape.filter((_, d) => reduced.has(d));
  const reduce: SizeExpr[] = reduced0.length === 0 ? [1] : reduced0;
  const nAxes = outer.length + reduce.length;
  let outerPos = 0;
  let reducePos = outer.length;
  const index = x.shape.map((_, d) => axisIndex(reduced.has(d) ? reducePos++ : outerPos++, nAxes));
  const loaded = readValue(x, index, nAxes);
  const truth = truthReduction(op, x);
  // argmax of a bool tensor is the argmax of its 0/1 values; the backend folds int32 and float32 only.
  const accDtype: LoopDType = truth || x.dtype === 'bool' ? 'int32' : type === 'argmax' || type === 'argmin' ? x.dtype : outDtype;
  const prologue = truth
    ? cast('int32', x.dtype === 'bool' ? loaded : binary('ne', loaded, constant(0, x.dtype)))
    : x.dtype !== accDtype ? cast(accDtype, loaded) : loaded;
  const out = b.newBuffer(outDtype, fake.shape.map(toSizeExpr));
  const kernel = {
    kind: 'reduction' as const,
    name: b.kernelName('reduce'),
    params: [] as string[],
    inputs: buffersRead(b, prologue),
    outputs: [{ name: out.buffer, dtype: outDtype }],
    outer,
    reduce,
    stages: [{ type, prologue }],
    stores: [{ buffer: out.buffer, access: { offset: 0, strides: contiguousStrides(outer) }, value: storedValue(type, truth, accDtype, outDtype), scope: 'outer' as const }],
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) });
  return out;
}

/** The accumulator as stored: a truth value, or cast when it ran in another dtype (a bool sum counts in int32). */
function storedValue(type: ReductionType, truth: boolean, accDtype: LoopDType, outDtype: LoopDType) {
  if (truth) return binary('gt', acc(0), constant(0, 'int32'));
  const isIndex = type === 'argmax' || type === 'argmin';
  return !isIndex && accDtype !== outDtype ? cast(outDtype, acc(0)) : acc(0);
}

/**
 * `max(x, dim)` / `min(x, dim)`: values and indices, as eager's `[values, indices]` with named fields, from
 * an amax and an argmax kernel over the same space (the fusion pass merges them into one kernel). Without a
 * dim it is a plain amax/amin.
 */
function lowerWithIndices(b: ProgramBuilder, op: 'max' | 'min', all: unknown[], fake: unknown): LoweredValue | readonly LoweredValue[] | undefined {
  const [x, dim, keepdim] = all as [LoweredValue, number | null, boolean];
  const value = op === 'max' ? 'amax' : 'amin';
  if (dim === null) return lowerReduction(b, value, [x, null, keepdim], fake as FakeLike);
  const { values, indices } = fake as { values: FakeLike; indices: FakeLike };
  const v = lowerReduction(b, value, [x, dim, keepdim], values) as LoweredValue | undefined;
  const i = v && (lowerReduction(b, op === 'max' ? 'argmax' : 'argmin', [x, dim, keepdim], indices) as LoweredValue | undefined);
  return v && i ? Object.assign([v, i], { values: v, indices: i }) : undefined;
}

export function lowerMatmul(b: ProgramBuilder, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const [x, y] = all as [LoweredValue, LoweredValue];
  if (x.shape.length < 2 || y.shape.length < 2 || x.dtype !== 'float32' || y.dtype !== 'float32') return undefined;
  const a = b.materialize(x);
  const w = b.materialize(y);
  const outShape = fake.shape.map(toSizeExpr);
  const batch = outShape.slice(0, -2);
  const operand = (v: typeof a) => {
    const lead = batch.length - (v.shape.length - 2);
    return {
      buffer: v.buffer,
      offset: v.offset,
      batchStrides: batch.map((size, i): SizeExpr => (i < lead || (v.shape[i - lead] === 1 && size !== 1) ? 0 : v.strides[i - lead]!)),
      rowStride: v.strides[v.shape.length - 2]!,
      colStride: v.strides[v.shape.length - 1]!,
    };
  };
  const out = b.newBuffer('float32', outShape);
  const kernel = {
    kind: 'extern' as const,
    op: 'matmul' as const,
    name: b.kernelName('matmul'),
    params: [] as string[],
    inputs: [...new Set([a.buffer, w.buffer])].map((name) => ({ name, dtype: 'float32' as const })),
    outputs: [{ name: out.buffer, dtype: 'float32' as const }],
    batch,
    m: outShape[outShape.length - 2]!,
    n: outShape[outShape.length - 1]!,
    k: a.shape[a.shape.length - 1]!,
    a: operand(a),
    b: operand(w),
    out: out.buffer,
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) });
  return out;
}
