// Small constructors so that lowering (and tests, and benches) build kernels that read like the math.
import type { Access, BinaryOp, LoopDType, SizeExpr, UnaryOp, ValueExpr } from './loop-ir.js';
import { contiguousStrides } from './sizes.js';

/** Row-major access over `sizes` starting at `offset`. */
export function contiguous(sizes: readonly SizeExpr[], offset: SizeExpr = 0): Access {
  return { offset, strides: contiguousStrides(sizes) };
}

/**
 * Access to a buffer of shape `shape` (row-major) broadcast to the iteration space `sizes`, numpy style:
 * trailing axes line up, and an axis of size 1 (or a missing leading axis) gets stride 0.
 */
export function broadcastAccess(shape: readonly number[], sizes: readonly SizeExpr[]): Access {
  const own = contiguousStrides(shape);
  const lead = sizes.length - shape.length;
  const strides = sizes.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
  return { offset: 0, strides };
}

export const load = (buffer: string, access: Access): ValueExpr => ({ kind: 'load', buffer, access });
export const constant = (value: number, dtype: LoopDType = 'float32'): ValueExpr => ({ kind: 'const', value, dtype });
export const loopIndex = (axis: number): ValueExpr => ({ kind: 'index', axis });
export const acc = (stage = 0): ValueExpr => ({ kind: 'acc', stage });
export const unary = (op: UnaryOp, x: ValueExpr): ValueExpr => ({ kind: 'unary', op, x });
export const binary = (op: BinaryOp, a: ValueExpr, b: ValueExpr): ValueExpr => ({ kind: 'binary', op, a, b });
export const where = (cond: ValueExpr, a: ValueExpr, b: ValueExpr): ValueExpr => ({ kind: 'where', cond, a, b });
export const cast = (dtype: LoopDType, x: ValueExpr): ValueExpr => ({ kind: 'cast', dtype, x });

export const add = (a: ValueExpr, b: ValueExpr) => binary('add', a, b);
export const sub = (a: ValueExpr, b: ValueExpr) => binary('sub', a, b);
export const mul = (a: ValueExpr, b: ValueExpr) => binary('mul', a, b);
export const div = (a: ValueExpr, b: ValueExpr) => binary('div', a, b);
