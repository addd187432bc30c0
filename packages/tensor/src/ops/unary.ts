// Unary pointwise ops: each defined by its scalar formula (the eager kernel and every backend's lowering
// come from it), with its derivative; logicalNot and gelu beside them.
import type { DType } from '../dtype.js';
import { isFloating } from '../dtype.js';
import { KilnTypeError } from '../errors.js';
import { SpecializedLoops, mapUnary } from '../kernels/pointwise.js';
import '../kernels/formula.js';
import { scalar as s } from '../registry/formula.js';
import type { ScalarExpr } from '../registry/formula.js';
import type { Derivative, InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, choice } from '../registry/schema.js';
import type { Tensor } from '../tensor.js';

/** How a unary op's output dtype follows its input: kept, float (ints promote to float32), or bool. */
type UnaryResult = 'same' | 'float' | 'bool';

const unaryOut = (x: TensorMetaLike, result: UnaryResult): DType =>
  result === 'bool' ? 'bool' : result === 'float' && !isFloating(x.dtype) ? 'float32' : x.dtype;

type UnaryDerivative = Derivative<readonly [Tensor]> | 'nonDifferentiable';

/** For ops whose derivative is zero almost everywhere (floor, round, sign): a zero gradient, as PyTorch gives. */
const zeroDerivative: UnaryDerivative = ({ grad }): InputGrads => [grad.mul(0)];

/**
 * A unary op defined by its formula (registry/formula.ts): the eager kernel and the loop-IR lowering both
 * come from it. `logicalNot` alone keeps a kernel: it computes in bool, which formulas do not.
 */
function unary<const N extends string>(name: N, result: UnaryResult, formula: (x: ScalarExpr) => ScalarExpr, derivative: UnaryDerivative) {
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
    formula: ([x]) => formula(x!),
    derivative,
  });
}

const { neg: sNeg, abs: sAbs, exp: sExp, log: sLog, log1p: sLog1p, sqrt: sSqrt, rsqrt: sRsqrt, sin: sSin, cos: sCos } = s;
export const neg = unary('neg', 'same', sNeg, ({ grad }): InputGrads => [grad.neg()]);
export const abs = unary('abs', 'same', sAbs, ({ grad, input }): InputGrads => [grad.mul(input(0).sign())]);
export const exp = unary('exp', 'float', sExp, ({ grad, output }): InputGrads => [grad.mul(output())]);
export const log = unary('log', 'float', sLog, ({ grad, input }): InputGrads => [grad.div(input(0))]);
export const log1p = unary('log1p', 'float', sLog1p, ({ grad, input }): InputGrads => [grad.div(input(0).add(1))]);
export const sqrt = unary('sqrt', 'float', sSqrt, ({ grad, output }): InputGrads => [grad.div(output().mul(2))]);
export const rsqrt = unary('rsqrt', 'float', sRsqrt, ({ grad, output }): InputGrads => [grad.mul(output().pow(3)).mul(-0.5)]);
export const sin = unary('sin', 'float', sSin, ({ grad, input }): InputGrads => [grad.mul(input(0).cos())]);
export const cos = unary('cos', 'float', sCos, ({ grad, input }): InputGrads => [grad.mul(input(0).sin()).neg()]);
export const tanh = unary('tanh', 'float', s.tanh, ({ grad, output }): InputGrads => {
  const y = output();
  return [grad.mul(y.mul(y).neg().add(1))];
});
export const sigmoid = unary('sigmoid', 'float', s.sigmoid, ({ grad, output }): InputGrads => {
  const y = output();
  return [grad.mul(y.mul(y.neg().add(1)))];
});
export const relu = unary('relu', 'same', s.relu, ({ grad, output }): InputGrads => [grad.mul(output().gt(0))]);
export const silu = unary('silu', 'float', (x) => s.mul(x, s.sigmoid(x)), ({ grad, input }): InputGrads => {
  const x = input(0);
  const sig = x.sigmoid();
  return [grad.mul(sig.mul(x.mul(sig.neg().add(1)).add(1)))];
});
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
export const erf = unary('erf', 'float', s.erf, ({ grad, input }): InputGrads => {
  const x = input(0);
  return [grad.mul(x.mul(x).neg().exp().mul(TWO_OVER_SQRT_PI))];
});
export const floor = unary('floor', 'same', s.floor, zeroDerivative);
export const ceil = unary('ceil', 'same', s.ceil, zeroDerivative);
export const round = unary('round', 'same', s.round, zeroDerivative);
export const sign = unary('sign', 'same', s.sign, zeroDerivative);
export const reciprocal = unary('reciprocal', 'float', s.reciprocal, ({ grad, output }): InputGrads => {
  const y = output();
  return [grad.mul(y.mul(y)).neg()];
});
const notLoops = new SpecializedLoops((v: number) => (v === 0 ? 1 : 0));
export const logicalNot = defineOp({
  name: 'logicalNot',
  category: 'pointwise',
  method: true,
  positional: [arg('self', 'Tensor')],
  meta: ([x]): MetaTensor => ({ shape: [...x.shape], dtype: 'bool' }),
  kernel: ([x], out: MetaTensor): Tensor => mapUnary(x, out.dtype, (v) => (v === 0 ? 1 : 0), notLoops),
  derivative: 'nonDifferentiable',
});

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
export const gelu = defineOp({
  name: 'gelu',
  category: 'pointwise',
  method: true,
  positional: [arg('self', 'Tensor')],
  keywordOnly: [choice('approximate', ['none', 'tanh'], 'none')],
  meta: ([x]): MetaTensor => ({ shape: [...x.shape], dtype: unaryOut(x, 'float') }),
  // x·Φ(x) = 0.5·x·(1 + erf(x/√2)), or its tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  formula: ([x], [approximate]) =>
    approximate === 'tanh'
      ? s.mul(s.mul(0.5, x!), s.add(1, s.tanh(s.mul(SQRT_2_OVER_PI, s.add(x!, s.mul(s.mul(s.mul(0.044715, x!), x!), x!))))))
      : s.mul(s.mul(0.5, x!), s.add(1, s.erf(s.mul(x!, SQRT_HALF)))),
  derivative: ({ grad, input, args: [, approximate] }): InputGrads => [grad.mul(approximate === 'tanh' ? geluTanhSlope(input(0)) : geluSlope(input(0)))],
});

/** d/dx of x·Φ(x): Φ(x) + x·φ(x). */
function geluSlope(x: Tensor): Tensor {
  const cdf = x.mul(SQRT_HALF).erf().add(1).mul(0.5);
  const pdf = x.mul(x).mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI));
  return cdf.add(x.mul(pdf));
}

/** d/dx of 0.5·x·(1 + tanh(u)), u = k·(x + 0.044715·x³). */
function geluTanhSlope(x: Tensor): Tensor {
  const x2 = x.mul(x);
  const t = x.mul(x2.mul(0.044715).add(1)).mul(SQRT_2_OVER_PI).tanh();
  const du = x2.mul(3 * 0.044715).add(1).mul(SQRT_2_OVER_PI);
  return t.add(1).mul(0.5).add(x.mul(0.5).mul(t.mul(t).neg().add(1)).mul(du));
}
