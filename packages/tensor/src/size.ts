import { IndexError, ShapeError, fmtShape } from './errors.js';

/**
 * Sizes in meta functions are plain numbers in eager mode and symbolic integers (`SymInt` from
 * `@kiln/shapes`) while tracing. Only the structural interface is imported (a type: no runtime dependency).
 * Comparisons may return a `SymBoolLike`; the `size*` helpers turn it into a JS boolean through
 * `guardBool()`, which records a guard on the traced graph.
 */
import type { Size, SymBoolLike, SymIntLike } from '@kiln/shapes';
export type { Size, SymBoolLike, SymIntLike };
export type Shape = readonly Size[];

export const isSymbolic = (s: Size): s is SymIntLike => typeof s !== 'number';
export const isStaticShape = (shape: Shape): shape is readonly number[] => shape.every((s) => typeof s === 'number');

const toBool = (b: boolean | SymBoolLike) => (typeof b === 'boolean' ? b : b.guardBool());

function lift(a: Size, b: Size): [SymIntLike, Size] | null {
  if (typeof a !== 'number') return [a, b];
  if (typeof b !== 'number') return null;
  return null;
}

export const sizeAdd = (a: Size, b: Size): Size =>
  typeof a === 'number' && typeof b === 'number' ? a + b : typeof a !== 'number' ? a.add(b) : (b as SymIntLike).add(a);
export const sizeMul = (a: Size, b: Size): Size =>
  typeof a === 'number' && typeof b === 'number' ? a * b : typeof a !== 'number' ? a.mul(b) : (b as SymIntLike).mul(a);
export const sizeSub = (a: Size, b: Size): Size =>
  typeof a === 'number' && typeof b === 'number' ? a - b : typeof a !== 'number' ? a.sub(b) : sizeAdd((b as SymIntLike).neg(), a);
export function sizeFloorDiv(a: Size, b: Size): Size {
  if (typeof a === 'number' && typeof b === 'number') return Math.floor(a / b);
  const l = lift(a, b);
  if (l) return l[0].floorDiv(l[1]);
  throw new ShapeError(`floor division of a constant by a symbolic size (${String(a)} // ${String(b)}) is not supported`);
}
export const sizeMin = (a: Size, b: Size): Size =>
  typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : typeof a !== 'number' ? a.min(b) : (b as SymIntLike).min(a);
export const sizeMax = (a: Size, b: Size): Size =>
  typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : typeof a !== 'number' ? a.max(b) : (b as SymIntLike).max(a);

/** `a == b` as a JS boolean; on symbolic sizes this guards. */
export const sizeEq = (a: Size, b: Size): boolean =>
  typeof a === 'number' && typeof b === 'number' ? a === b : toBool(typeof a !== 'number' ? a.eq(b) : (b as SymIntLike).eq(a));
export const sizeLt = (a: Size, b: Size): boolean =>
  typeof a === 'number' && typeof b === 'number' ? a < b : toBool(typeof a !== 'number' ? a.lt(b) : (b as SymIntLike).gt(a));
export const sizeLe = (a: Size, b: Size): boolean =>
  typeof a === 'number' && typeof b === 'number' ? a <= b : toBool(typeof a !== 'number' ? a.le(b) : (b as SymIntLike).ge(a));

export function numelOf(shape: Shape): Size {
  let n: Size = 1;
  for (const s of shape) n = sizeMul(n, s);
  return n;
}

/** Contiguous (row-major) strides for a shape. */
export function contiguousStrides(shape: Shape): Size[] {
  const strides: Size[] = new Array(shape.length);
  let acc: Size = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc = sizeMul(acc, shape[i]!);
  }
  return strides;
}

/**
 * Whether strides are the contiguous ones for `shape`, compared by printed form so that asking records no
 * guard on symbolic sizes (a size-1 dim's stride is free, as in Tensor.isContiguous).
 */
export function hasContiguousStrides(shape: Shape, strides: Shape): boolean {
  let expected: Size = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (String(shape[i]) !== '1' && String(strides[i]) !== String(expected)) return false;
    expected = sizeMul(expected, shape[i]!);
  }
  return true;
}

/** Wraps a possibly negative dim into [0, ndim), with an error naming the op and argument. */
export function normalizeDim(dim: number, ndim: number, op: string, arg = 'dim'): number {
  const rank = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new IndexError(
      `${op}: ${arg}=${dim} is out of range for a tensor of rank ${ndim}`,
      `use a dim in [${-rank}, ${rank - 1}]`,
    );
  }
  return dim < 0 ? dim + rank : dim;
}

/** NumPy/PyTorch broadcasting of several shapes, with an error naming the op and all shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): Size[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out: Size[] = new Array(ndim).fill(1);
  for (const shape of shapes) {
    const lead = ndim - shape.length;
    for (let i = 0; i < shape.length; i++) {
      const s = shape[i]!;
      const o = out[lead + i]!;
      if (sizeEq(s, 1)) continue;
      if (sizeEq(o, 1)) out[lead + i] = s;
      else if (!sizeEq(o, s)) {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${i - shape.length}: ${String(o)} vs ${String(s)})`,
          'sizes must match or be 1 in every trailing dimension',
        );
      }
    }
  }
  return out;
}
