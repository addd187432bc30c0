// Ops that read through an int32 index tensor: gather, indexSelect (and so embedding, which decomposes to
// it) and oneHot. The read is the loop IR's indirect load (`gather`): the source stays a buffer read in
// place, the index tensor's producer chain fuses into the position expression.
//
// Eager raises IndexError on a position outside [0, extent). A wasm load out of range would read another
// buffer's bytes (or trap) instead, so every indirect read is preceded by a small reduction kernel that
// takes the min and max of the positions, and a `check` step that raises before any kernel reads through
// them. The positions are read twice (once by the check, once by the load); index tensors are small next
// to what they select (embedding: B·T positions for B·T·D values).
import { normalizeDim } from '@kiln/tensor';
import type { SizeExpr, ValueExpr } from '../loop-ir/loop-ir.js';
import { acc, binary, cast } from '../loop-ir/build.js';
import type { ProgramBuilder } from './builder.js';
import { buffersRead, paramsOf } from './builder.js';
import { PositionNotExpressible, indexValue } from './index-rules.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { LoweredValue } from './values.js';
import { axisIndex, bufferAccess, constantIndex, readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

export const GATHER_OPS = new Set(['gather', 'indexSelect', 'oneHot']);

export function lowerGatherOp(b: ProgramBuilder, op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (!fake?.shape) return undefined;
  if (op === 'oneHot') return lowerOneHot(b, all, fake);
  const [x, dimArg, index] = all as [LoweredValue, number, LoweredValue];
  if (index.dtype !== 'int32' || x.shape.length === 0) return undefined;
  const rank = x.shape.length;
  const dim = normalizeDim(dimArg, rank, op);
  if (op === 'indexSelect' ? index.shape.length > 1 : index.shape.length !== rank) return undefined;
  const src = b.materialize(x);
  checkPositions(b, op, index, src.shape[dim]!, `dim ${dim} of self`);
  return {
    kind: 'virtual',
    dtype: src.dtype,
    shape: fake.shape.map(toSizeExpr),
    read: (idx, nAxes): ValueExpr => {
      // indexSelect: the position of output row i is index[i]; gather: index has the output's shape.
      const position = op === 'indexSelect' ? readValue(index, index.shape.length ? [idx[dim]!] : [], nAxes) : readValue(index, idx, nAxes);
      const at = idx.map((i, d) => (d === dim ? constantIndex(0, nAxes) : i));
      return { kind: 'gather', buffer: src.buffer, access: bufferAccess(src, at, nAxes), position, stride: src.strides[dim]! };
    },
  };
}

/**
 * `oneHot(x, numClasses)` with a static class count: element [..., c] is `x[...] == c`. Materialized, so the
 * class axis is always a plain loop index (views of it may have symbolic coefficients no value can spell).
 */
function lowerOneHot(b: ProgramBuilder, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  const [x, classes] = all as [LoweredValue, unknown];
  if (typeof classes !== 'number' || classes < 0 || x.dtype !== 'int32') return undefined;
  checkPositions(b, 'oneHot', x, classes, 'numClasses: the classes');
  const rank = x.shape.length;
  return b.materialize({
    kind: 'virtual',
    dtype: 'int32',
    shape: fake.shape.map(toSizeExpr),
    read: (idx, nAxes) => {
      const c = indexValue(idx[rank]!);
      if (!c) throw new PositionNotExpressible();
      return cast('int32', binary('eq', readValue(x, idx.slice(0, rank), nAxes), c));
    },
  });
}

/** Emits the min/max reduction of `index` and the check step that raises when a position is out of range. */
function checkPositions(b: ProgramBuilder, op: string, index: LoweredValue, extent: SizeExpr, what: string): void {
  // A 0-dim index reduces over one point (a reduction needs a reduction axis).
  const reduce = index.shape.length ? index.shape : [1];
  const n = reduce.length;
  const position = readValue(index, index.shape.map((_, d) => axisIndex(d, n)), n);
  const out = b.newBuffer('int32', [2]);
  const kernel = {
    kind: 'reduction' as const,
    name: b.kernelName('check'),
    params: [] as string[],
    inputs: buffersRead(b, position),
    outputs: [{ name: out.buffer, dtype: 'int32' as const }],
    outer: [],
    reduce,
    stages: [{ type: 'min' as const, prologue: position }, { type: 'max' as const, prologue: position }],
    stores: [
      { buffer: out.buffer, access: { offset: 0, strides: [] }, value: acc(0), scope: 'outer' as const },
      { buffer: out.buffer, access: { offset: 1, strides: [] }, value: acc(1), scope: 'outer' as const },
    ],
  };
  b.addKernel({ ...kernel, params: paramsOf(kernel) });
  b.steps.push({ kind: 'check', check: 'indexRange', buffer: out.buffer, extent, op, what });
}
