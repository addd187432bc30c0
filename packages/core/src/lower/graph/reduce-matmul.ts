// Reductions (one reduction kernel with the producer chain fused as its prologue) and matmul (the extern
// kernel, operands read in place through their strides: `x @ w.transpose(0, 1)` copies nothing).
import { normalizeDim } from '@kiln/tensor';
import type { LoopDType, ReductionType, SizeExpr } from '../loop-ir.js';
import { acc, cast } from '../build.js';
import { contiguousStrides } from '../sizes.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, loopDtype, paramsOf } from './builder.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { LoweredValue } from './values.js';
import { axisIndex, readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

const REDUCTION_TYPE: Record<string, ReductionType> = {
  sum: 'sum', prod: 'prod', amax: 'max', amin: 'min', argmax: 'argmax', argmin: 'argmin',
};
export const REDUCTIONS = new Set(Object.keys(REDUCTION_TYPE));

export function lowerReduction(b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const x = all[0] as LoweredValue;
  const type = REDUCTION_TYPE[op]!;
  const outDtype = loopDtype(fake.dtype);
  if (outDtype === 'float64' || x.dtype === 'float64') return undefined;
  if ((type === 'prod' || type === 'sum') && outDtype !== 'float32') return undefined;
  const rank = x.shape.length;
  const dimArg = all[1] as number | number[] | null;
  const dims = dimArg === null ? x.shape.map((_, d) => d) : (typeof dimArg === 'number' ? [dimArg] : dimArg).map((d) => normalizeDim(d, rank, op));
  const reduced = new Set(dims);
  const outer = x.shape.filter((_, d) => !reduced.has(d));
  const reduce = x.shape.filter((_, d) => reduced.has(d));
  const nAxes = outer.length + reduce.length;
  let outerPos = 0;
  let reducePos = outer.length;
  const index = x.shape.map((_, d) => axisIndex(reduced.has(d) ? reducePos++ : outerPos++, nAxes));
  const accDtype: LoopDType = type === 'argmax' || type === 'argmin' ? x.dtype : outDtype;
  const loaded = readValue(x, index, nAxes);
  const prologue = loaded && x.dtype !== accDtype ? cast(accDtype, loaded) : loaded;
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
    stores: [{ buffer: out.buffer, access: { offset: 0, strides: contiguousStrides(outer) }, value: acc(0), scope: 'outer' as const }],
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) });
  return out;
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
