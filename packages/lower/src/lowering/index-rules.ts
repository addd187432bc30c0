// Ops whose values depend on the element's position: triangular masks, arange, eye. They read the loop
// index, which the loop IR has as a value (`index`), so they fuse like any pointwise op. Positions with a
// symbolic coefficient cannot be spelled as a value expression: those fall back to eager.
import type { LoopDType, ValueExpr } from '../loop-ir/loop-ir.js';
import { add, binary, cast, constant, loopIndex, mul, sub, where } from '../loop-ir/build.js';
import { toSizeExpr } from './sizes-from-shapes.js';
import type { AffineIndex, LoweredValue } from './values.js';
import { readValue } from './values.js';

type FakeLike = { shape: readonly unknown[]; dtype: string };

/** The int32 value of an affine index, when every coefficient is a number. */
export function indexValue(idx: AffineIndex): ValueExpr | undefined {
  if (typeof idx.constant !== 'number' || idx.coeffs.some((c) => typeof c !== 'number')) return undefined;
  let v: ValueExpr = constant(idx.constant, 'int32');
  idx.coeffs.forEach((c, axis) => {
    if (c !== 0) v = add(v, c === 1 ? loopIndex(axis) : mul(constant(c as number, 'int32'), loopIndex(axis)));
  });
  return v;
}

/** A virtual value whose element is `f(row, col, x)`, or undefined when positions are not expressible. */
function positional(dtype: LoopDType, shape: readonly unknown[], f: (index: readonly ValueExpr[], nAxes: number, raw: readonly AffineIndex[]) => ValueExpr): LoweredValue {
  return {
    kind: 'virtual',
    dtype,
    shape: shape.map(toSizeExpr),
    read: (index, nAxes) => {
      const values = index.map(indexValue);
      if (values.some((v) => v === undefined)) throw new PositionNotExpressible();
      return f(values as ValueExpr[], nAxes, index);
    },
  };
}

/** Thrown while building a kernel; lowering turns it into an eager fallback of the op. */
export class PositionNotExpressible extends Error {}

export function lowerIndexOp(op: string, all: unknown[], fake: FakeLike): LoweredValue | undefined {
  if (!fake?.shape) return undefined;
  const dtype = fake.dtype as LoopDType;
  switch (op) {
    case 'tril':
    case 'triu': {
      const x = all[0] as LoweredValue;
      const diagonal = all[1] as number;
      if (x.shape.length < 2) return undefined;
      return positional(dtype, fake.shape, (index, nAxes, raw) => {
        const n = index.length;
        const offset = sub(index[n - 1]!, index[n - 2]!); // col - row
        const keep = binary(op === 'tril' ? 'le' : 'ge', offset, constant(diagonal, 'int32'));
        return where(keep, readValue(x, raw, nAxes), constant(0, dtype));
      });
    }
    case 'arange': {
      const [start, end, step] = all as [unknown, unknown, unknown];
      const lo = end === null ? 0 : start;
      // A symbolic start (arange(a, b) with a size a) has no constant to write: the eager kernel runs it.
      if (typeof lo !== 'number' || typeof step !== 'number') return undefined;
      return positional(dtype, fake.shape, (index) => {
        const position = cast(dtype, index[0]!);
        return add(constant(lo, dtype), mul(constant(step, dtype), position));
      });
    }
    case 'eye':
      return positional(dtype, fake.shape, (index) => cast(dtype, binary('eq', index[0]!, index[1]!)));
    default:
      return undefined;
  }
}

export const INDEX_OPS = new Set(['tril', 'triu', 'arange', 'eye']);
