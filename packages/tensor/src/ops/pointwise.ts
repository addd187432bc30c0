import type { DType } from '../dtype.js';
import { isFloating, isTensorOperand, resultType, scalarCategory } from '../dtype.js';
import type { ScalarLike } from '../dtype.js';
import { KilnTypeError, ValueError } from '../errors.js';
import { SpecializedLoops, mapBinary, mapTernary, mapUnary } from '../kernels/pointwise.js';
import * as scalar from '../math/special.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, choice, opt } from '../registry/schema.js';
import { broadcastShapes } from '../size.js';
import { Tensor } from '../tensor.js';

/** How a unary op's output dtype follows its input: kept, float (ints promote to float32), or bool. */
type UnaryResult = 'same' | 'float' | 'bool';

const unaryOut = (x: TensorMetaLike, result: UnaryResult): DType =>
  result === 'bool' ? 'bool' : result === 'float' && !isFloating(x.dtype) ? 'float32' : x.dtype;

function unary<const N extends string>(name: N, result: UnaryResult, f: (v: number) => number) {
  const loops = new SpecializedLoops(f);
  return defineOp({
    name,
    category: 'pointwise',
    method: true,
    positional: [arg('self', 'Tensor')],
    meta: ([x]): MetaTensor => {
      if (name === 'neg' && x.dtype === 'bool') {
        throw new KilnTypeError('neg: negation of a bool tensor is not supported', 'use logicalNot() to invert a mask');
      }
      return { shape: [...x.shape], dtype: unaryOut(x, result) };
    },
    kernel: ([x], out: MetaTensor): Tensor => mapUnary(x, out.dtype, f, loops),
  });
}

export const neg = unary('neg', 'same', (v) => -v);
export const abs = unary('abs', 'same', Math.abs);
export const exp = unary('exp', 'float', Math.exp);
export const log = unary('log', 'float', Math.log);
export const log1p = unary('log1p', 'float', Math.log1p);
export const sqrt = unary('sqrt', 'float', Math.sqrt);
export const rsqrt = unary('rsqrt', 'float', (v) => 1 / Math.sqrt(v));
export const sin = unary('sin', 'float', Math.sin);
export const cos = unary('cos', 'float', Math.cos);
export const tanh = unary('tanh', 'float', Math.tanh);
export const sigmoid = unary('sigmoid', 'float', scalar.sigmoid);
export const relu = unary('relu', 'same', (v) => (v > 0 ? v : Number.isNaN(v) ? v : 0));
export const silu = unary('silu', 'float', (v) => v * scalar.sigmoid(v));
export const erf = unary('erf', 'float', scalar.erf);
export const floor = unary('floor', 'same', Math.floor);
export const ceil = unary('ceil', 'same', Math.ceil);
export const round = unary('round', 'same', scalar.roundHalfEven);
export const sign = unary('sign', 'same', scalar.sign);
export const reciprocal = unary('reciprocal', 'float', (v) => 1 / v);
export const logicalNot = unary('logicalNot', 'bool', (v) => (v === 0 ? 1 : 0));

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
export const gelu = defineOp({
  name: 'gelu',
  category: 'pointwise',
  method: true,
  positional: [arg('self', 'Tensor')],
  keywordOnly: [choice('approximate', ['none', 'tanh'], 'none')],
  meta: ([x]): MetaTensor => ({ shape: [...x.shape], dtype: unaryOut(x, 'float') }),
  kernel: ([x, approximate], out: MetaTensor): Tensor =>
    mapUnary(
      x,
      out.dtype,
      approximate === 'tanh'
        ? (v) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))
        : (v) => 0.5 * v * (1 + scalar.erf(v * SQRT_HALF)),
    ),
});

/** How a binary op's output dtype follows the promoted input dtype. */
type BinaryResult = 'promote' | 'float' | 'bool';

function binaryMeta(name: string, a: TensorMetaLike, b: TensorMetaLike | ScalarLike, result: BinaryResult): MetaTensor {
  checkIntScalarFits(name, a, b);
  const shape = isTensorOperand(b) ? broadcastShapes(name, a.shape, b.shape) : [...a.shape];
  const promoted = resultType([a, b]);
  const dtype = result === 'bool' ? 'bool' : result === 'float' && !isFloating(promoted) ? 'float32' : promoted;
  return { shape, dtype };
}

/**
 * An integral number meets an integer or bool tensor in int32 (as a Python int meets an int tensor). One
 * outside int32 would silently wrap (x.div(1e30) would divide by 0), so it raises, as PyTorch's overflow
 * check does.
 */
function checkIntScalarFits(name: string, a: TensorMetaLike, b: TensorMetaLike | ScalarLike): void {
  if (typeof b !== 'number' || !Number.isInteger(b) || isFloating(a.dtype) || (b >= -(2 ** 31) && b < 2 ** 31)) return;
  throw new ValueError(`${name}: the integer ${b} does not fit in int32, the dtype it takes next to a ${a.dtype} tensor`, `convert the tensor first (x.to('float32').${name}(${b}))`);
}

/** Computation dtype: comparisons compute in the promoted dtype, not in bool. */
const computeDtype = (a: TensorMetaLike, b: TensorMetaLike | ScalarLike) => resultType([a, b]);

/**
 * `fInt`, when given, computes in int32: a product of two int32 values can pass 2^53, where a float64
 * multiply loses the low bits that the wrap to int32 keeps.
 */
function binary<const N extends string>(
  name: N,
  result: BinaryResult,
  f: (x: number, y: number) => number,
  fInt?: (x: number, y: number) => number,
) {
  const loops = new SpecializedLoops(f);
  const intLoops = fInt && new SpecializedLoops(fInt);
  return defineOp({
    name,
    category: 'pointwise',
    method: true,
    positional: [arg('self', 'Tensor'), arg('other', 'TensorOrScalar')],
    meta: ([a, b]): MetaTensor => binaryMeta(name, a, b, result),
    kernel: ([a, b], out: MetaTensor): Tensor => {
      const compute = computeDtype(a, b);
      const int = fInt && compute === 'int32';
      return mapBinary(a, b, out.shape as number[], out.dtype, compute, int ? fInt : f, int ? intLoops : loops);
    },
  });
}

function withAlpha<const N extends string>(name: N, f: (x: number, y: number) => number) {
  const loops = new SpecializedLoops(f);
  return defineOp({
    name,
    category: 'pointwise',
    method: true,
    positional: [arg('self', 'Tensor'), arg('other', 'TensorOrScalar')],
    keywordOnly: [opt('alpha', 'Scalar', 1)],
    meta: ([a, b, alpha]): MetaTensor => {
      if (!isFloating(resultType([a, b])) && scalarCategory(alpha) === 2) {
        throw new KilnTypeError(`${name}: alpha=${String(alpha)} must be an integer for integral tensors`);
      }
      return binaryMeta(name, a, b, 'promote');
    },
    kernel: ([a, b, alpha], out: MetaTensor): Tensor => {
      const k = Number(alpha);
      // In int32, alpha·y wraps like the rest of the arithmetic (and stays exact, unlike a float64 product).
      const scaled = out.dtype === 'int32' ? (x: number, y: number) => f(x, Math.imul(k, y)) : (x: number, y: number) => f(x, k * y);
      return k === 1 ? mapBinary(a, b, out.shape as number[], out.dtype, out.dtype, f, loops) : mapBinary(a, b, out.shape as number[], out.dtype, out.dtype, scaled);
    },
  });
}

export const add = withAlpha('add', (x, y) => x + y);
export const sub = withAlpha('sub', (x, y) => x - y);
export const mul = binary('mul', 'promote', (x, y) => x * y, Math.imul);
export const div = binary('div', 'float', (x, y) => x / y);
export const pow = binary('pow', 'promote', Math.pow, scalar.powInt);
export const maximum = binary('maximum', 'promote', (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y)));
export const minimum = binary('minimum', 'promote', (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y)));
// An int32 has no NaN to return for x % 0: PyTorch raises, and so does Kiln (before the result is visible).
export const remainder = binary('remainder', 'promote', scalar.remainder, (x, y) => {
  if (y === 0) throw new ValueError('remainder: integer division by zero', 'use a float dtype to get NaN instead');
  return scalar.remainder(x, y);
});
export const atan2 = binary('atan2', 'float', Math.atan2);
export const eq = binary('eq', 'bool', (x, y) => (x === y ? 1 : 0));
export const ne = binary('ne', 'bool', (x, y) => (x !== y ? 1 : 0));
export const lt = binary('lt', 'bool', (x, y) => (x < y ? 1 : 0));
export const le = binary('le', 'bool', (x, y) => (x <= y ? 1 : 0));
export const gt = binary('gt', 'bool', (x, y) => (x > y ? 1 : 0));
export const ge = binary('ge', 'bool', (x, y) => (x >= y ? 1 : 0));
export const logicalAnd = binary('logicalAnd', 'bool', (x, y) => (x !== 0 && y !== 0 ? 1 : 0));
export const logicalOr = binary('logicalOr', 'bool', (x, y) => (x !== 0 || y !== 0 ? 1 : 0));

export const where = defineOp({
  name: 'where',
  category: 'pointwise',
  method: false,
  positional: [arg('condition', 'Tensor'), arg('input', 'TensorOrScalar'), arg('other', 'TensorOrScalar')],
  meta: ([cond, a, b]): MetaTensor => {
    const shapes = [cond.shape, ...[a, b].filter((x) => isTensorOperand(x)).map((x) => x.shape)];
    const dtype = resultType([a, b]);
    return { shape: broadcastShapes('where', ...shapes), dtype };
  },
  kernel: ([cond, a, b], out: MetaTensor): Tensor =>
    mapTernary(cond, a, b, out.shape as number[], out.dtype, (c, x, y) => (c !== 0 ? x : y)),
});

export const clamp = defineOp({
  name: 'clamp',
  category: 'pointwise',
  method: true,
  positional: [arg('self', 'Tensor'), opt('min', 'Scalar?', null), opt('max', 'Scalar?', null)],
  meta: ([x, lo, hi]): MetaTensor => {
    if (lo === null && hi === null) throw new KilnTypeError('clamp: at least one of min and max must be given');
    return { shape: [...x.shape], dtype: resultType([x, ...[lo, hi].filter((v): v is ScalarLike => v !== null)]) };
  },
  kernel: ([x, lo, hi], out: MetaTensor): Tensor => {
    const l = lo === null ? -Infinity : Number(lo);
    const h = hi === null ? Infinity : Number(hi);
    return mapUnary(x, out.dtype, (v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, l), h)));
  },
});
