// cat and stack: the output is one buffer, and each input is written into its slot along `dim` by a
// pointwise kernel over the input's own shape (the input's producer chain fuses into that kernel). Every
// output element is thus written once and no input is copied anywhere else. A consumer reads the joined
// buffer like any other; a piecewise read (select the input by range in every consumer) would need masked
// loads of every input per element, which costs more than the one write it saves.
import { normalizeDim } from '@kiln/tensor';
import type { LoopDType, SizeExpr } from '../loop-ir/loop-ir.js';
import { cast, constant } from '../loop-ir/build.js';
import { contiguousStrides, sizeAdd, sizeMul } from '../loop-ir/sizes.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, loopDtype, paramsOf } from './builder.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { LoweredValue } from './values.js';
import { axisIndex, readValue, viewValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

export const JOIN_OPS = new Set(['cat', 'stack']);

export function lowerJoin(b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (!fake?.shape) return undefined;
  const tensors = all[0] as LoweredValue[];
  if (!Array.isArray(tensors)) return undefined;
  const outShape = fake.shape.map(toSizeExpr);
  if (op === 'stack') {
    // stack = cat of the inputs unsqueezed at `dim` (a view each, no copy).
    const dim = normalizeDim(all[1] as number, outShape.length, op);
    const parts = tensors.map((t) => {
      const shape = [...t.shape.slice(0, dim), 1, ...t.shape.slice(dim)];
      return viewValue(t, shape, (o) => o.filter((_, d) => d !== dim));
    });
    return writeParts(b, parts, dim, outShape, loopDtype(fake.dtype));
  }
  // PyTorch's legacy rule, as eager's catLayout: 1-D inputs of size 0 are skipped whatever the others' rank.
  const parts = tensors.filter((t) => !(t.shape.length === 1 && t.shape[0] === 0));
  if (parts.length === 0) {
    // Only empty 1-D inputs: an empty result no kernel needs to write.
    const dtype = loopDtype(fake.dtype);
    return { kind: 'virtual', dtype, shape: outShape, read: () => constant(0, dtype) };
  }
  const dim = normalizeDim(all[1] as number, parts[0]!.shape.length, op);
  return writeParts(b, parts, dim, outShape, loopDtype(fake.dtype));
}

/** One pointwise kernel per part, storing it at its running offset along `dim` of a fresh output. */
function writeParts(b: ProgramBuilder, parts: readonly LoweredValue[], dim: number, outShape: readonly SizeExpr[], dtype: LoopDType): LoweredValue {
  const out = b.newBuffer(dtype, outShape);
  const strides = contiguousStrides(outShape);
  let start: SizeExpr = 0;
  for (const part of parts) {
    const n = part.shape.length;
    const loaded = readValue(part, part.shape.map((_, d) => axisIndex(d, n)), n);
    const value = part.dtype === dtype ? loaded : cast(dtype, loaded);
    const kernel = {
      kind: 'pointwise' as const,
      name: b.kernelName('cat'),
      params: [] as string[],
      inputs: buffersRead(b, value),
      outputs: [{ name: out.buffer, dtype }],
      sizes: part.shape,
      stores: [{ buffer: out.buffer, access: { offset: sizeMul(start, strides[dim]!), strides }, value }],
    };
    b.addKernel({ ...kernel, params: paramsOf(kernel) });
    start = sizeAdd(start, part.shape[dim]!);
  }
  return out;
}
