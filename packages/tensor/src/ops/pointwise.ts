// Binary pointwise ops (arithmetic with broadcasting and type promotion, comparisons, logical ops), where,
// and clamp. Unary ops are in unary.ts.
import { isFloating, isSymbolicScalar, isTensorOperand, resultType, scalarCategory } from '../dtype.js';
import type { ScalarLike } from '../dtype.js';
import { KilnTypeError, ValueError } from '../errors.js';
import { SpecializedLoops, mapBinary, mapTernary, mapUnary } from '../kernels/pointwise.js';
import * as scalar from '../math/special.js';
import { SCALAR_BINARY } from '../registry/formula.js';
import type { Derivative, GradContext, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import { broadcastShapes } from '../size.js';
import { Tensor } from '../tensor.js';

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

type BinaryDerivative = Derivative<readonly [Tensor, Tensor | number | boolean]> | 'nonDifferentiable';

/** The second operand's value: the saved tensor (checked), or the scalar. */
const otherOf = (ctx: GradContext<readonly [Tensor, Tensor | number | boolean, ...unknown[]]>): Tensor | number =>
  typeof ctx.args[1] === 'object' && !isSymbolicScalar(ctx.args[1]) ? ctx.input(1) : Number(ctx.args[1]);

/**
 * The same, keeping a symbolic scalar (a scalar graph input while a joint graph is traced) symbolic: `mul`
 * and `div` take one as it is, where `Number()` would specialize it to its example value. (The ops' schemas
 * take any ScalarLike; the methods' declared types name only plain numbers.)
 */
const otherOrSymbolic = (ctx: GradContext<readonly [Tensor, Tensor | number | boolean, ...unknown[]]>): Tensor | number =>
  isSymbolicScalar(ctx.args[1]) ? (ctx.args[1] as unknown as number) : otherOf(ctx);

/** A binary op with a broadcasting kernel. `fInt`, when given, computes in int32: a product of two int32 values
 * can pass 2^53, where a float64 multiply loses the low bits that the wrap to int32 keeps.
 */
function binary<const N extends string>(
  name: N,
  result: BinaryResult,
  derivative: BinaryDerivative,
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
    derivative,
  });
}

function withAlpha<const N extends string>(name: N, sign: 1 | -1, f: (x: number, y: number) => number) {
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
    derivative: ({ grad, args: [, , alpha] }): InputGrads => {
      const k = sign * Number(alpha);
      return [grad, k === 1 ? grad : grad.mul(k)];
    },
  });
}

export const add = withAlpha('add', 1, (x, y) => x + y);
export const sub = withAlpha('sub', -1, (x, y) => x - y);
export const mul = binary('mul', 'promote', (ctx): InputGrads => [ctx.grad.mul(otherOrSymbolic(ctx)), ctx.needsGrad(1) ? ctx.grad.mul(ctx.input(0)) : null], (x, y) => x * y, Math.imul);
export const div = binary('div', 'float', (ctx): InputGrads => {
  const b = otherOrSymbolic(ctx);
  const gb = b instanceof Tensor && ctx.needsGrad(1) ? ctx.grad.mul(ctx.input(0)).div(b.mul(b)).neg() : null;
  return [ctx.grad.div(b), gb];
}, (x, y) => x / y);
export const pow = binary('pow', 'promote', (ctx): InputGrads => {
  const a = ctx.input(0);
  const b = otherOf(ctx);
  // b·a^(b-1), and 0 where b = 0 (not 0·a^-1, which is NaN at a = 0), as in PyTorch.
  const ga =
    typeof b === 'number'
      ? b === 0 ? ctx.grad.mul(0) : ctx.grad.mul(a.pow(b - 1).mul(b))
      : ctx.grad.mul(where(b.eq(0), 0, a.pow(b.sub(1)).mul(b)));
  // d/db a^b = a^b·log(a); where a^b is 0 (a = 0, b > 0) the term is 0, not 0·(-inf).
  const gb = ctx.needsGrad(1) ? ctx.grad.mul(where(a.eq(0), 0, ctx.output().mul(a.log()))) : null;
  return [ga, gb];
}, Math.pow, scalar.powInt);
/** maximum/minimum: the gradient goes to the chosen operand, split evenly on ties (as PyTorch does). */
const pickDerivative = (wins: 'gt' | 'lt'): BinaryDerivative => (ctx): InputGrads => {
  const a = ctx.input(0);
  const b = otherOf(ctx);
  const half = ctx.grad.mul(0.5);
  const tie = a.eq(b);
  const toA = where(a[wins](b), ctx.grad, where(tie, half, 0));
  const toB = typeof b === 'number' ? null : where(b[wins](a), ctx.grad, where(tie, half, 0));
  return [toA, toB];
};
export const maximum = binary('maximum', 'promote', pickDerivative('gt'), SCALAR_BINARY.max);
export const minimum = binary('minimum', 'promote', pickDerivative('lt'), SCALAR_BINARY.min);
// An int32 has no NaN to return for x % 0: PyTorch raises, and so does Kiln (before the result is visible).
export const remainder = binary('remainder', 'promote', (ctx): InputGrads => {
  const b = otherOf(ctx);
  return [ctx.grad, typeof b === 'number' ? null : ctx.grad.mul(ctx.input(0).div(b).floor()).neg()];
}, scalar.remainder, (x, y) => {
  if (y === 0) throw new ValueError('remainder: integer division by zero', 'use a float dtype to get NaN instead');
  return scalar.remainder(x, y);
});
export const atan2 = binary('atan2', 'float', (ctx): InputGrads => {
  const a = ctx.input(0);
  const b = otherOf(ctx);
  const denom = a.mul(a).add(typeof b === 'number' ? b * b : b.mul(b));
  return [ctx.grad.mul(b).div(denom), typeof b === 'number' ? null : ctx.grad.mul(a).div(denom).neg()];
}, Math.atan2);
export const eq = binary('eq', 'bool', 'nonDifferentiable', (x, y) => (x === y ? 1 : 0));
export const ne = binary('ne', 'bool', 'nonDifferentiable', (x, y) => (x !== y ? 1 : 0));
export const lt = binary('lt', 'bool', 'nonDifferentiable', (x, y) => (x < y ? 1 : 0));
export const le = binary('le', 'bool', 'nonDifferentiable', (x, y) => (x <= y ? 1 : 0));
export const gt = binary('gt', 'bool', 'nonDifferentiable', (x, y) => (x > y ? 1 : 0));
export const ge = binary('ge', 'bool', 'nonDifferentiable', (x, y) => (x >= y ? 1 : 0));
export const logicalAnd = binary('logicalAnd', 'bool', 'nonDifferentiable', (x, y) => (x !== 0 && y !== 0 ? 1 : 0));
export const logicalOr = binary('logicalOr', 'bool', 'nonDifferentiable', (x, y) => (x !== 0 || y !== 0 ? 1 : 0));

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
  derivative: ({ grad, input }): InputGrads => [null, where(input(0), grad, 0), where(input(0), 0, grad)],
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
  derivative: clampDerivative,
});

/** clamp passes the gradient where the input is inside [min, max] (bounds included, as in PyTorch). */
function clampDerivative({ grad, input, args: [, lo, hi] }: GradContext<readonly [Tensor, ScalarLike | null, ScalarLike | null]>): InputGrads {
  const x = input(0);
  const aboveMin = lo === null ? null : x.ge(lo as number);
  const belowMax = hi === null ? null : x.le(hi as number);
  const inside = aboveMin && belowMax ? aboveMin.logicalAnd(belowMax) : (aboveMin ?? belowMax)!;
  return [grad.mul(inside)];
}
