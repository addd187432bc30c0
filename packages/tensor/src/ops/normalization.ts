import type { DType } from '../dtype.js';
import { isFloating } from '../dtype.js';
import { KilnTypeError, ShapeError, fmtShape } from '../errors.js';
import type { LaneMapper } from '../kernels/reduce.js';
import { laneMax, mapLanes } from '../kernels/reduce.js';
import type { InputGrads } from '../registry/derivative.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Size } from '../size.js';
import { normalizeDim, sizeEq } from '../size.js';
import type { Tensor } from '../tensor.js';
import { add, div, mul, sub } from './pointwise.js';
import { exp, log, rsqrt } from './unary.js';
import { amax, mean, sum } from './reductions.js';

function requireFloating(op: string, arg: string, t: TensorMetaLike): DType {
  if (!isFloating(t.dtype)) {
    throw new KilnTypeError(
      `${op}: argument '${arg}' must be a floating-point tensor, got ${t.dtype}${fmtShape(t.shape)}`,
      'convert it to float32 first',
    );
  }
  return t.dtype;
}

/** The one dim softmax-like ops work along; a 0-dim tensor is its own (single-element) lane. */
const laneDims = (op: string, x: TensorMetaLike, dim: number): number[] => {
  const d = normalizeDim(dim, x.ndim, op);
  return x.ndim === 0 ? [] : [d];
};

/**
 * Softmax along a lane, shifted by the lane's maximum so exp never overflows. `scratch` holds exp(v - max)
 * for the second pass, computed once in float64 even for float32 outputs.
 */
function softmaxLanes(scratch: Float64Array, logOutput: boolean): LaneMapper {
  return (src, sb, si, dst, db, di) => {
    const n = si.length;
    if (n === 0) return;
    const max = laneMax(src, sb, si);
    let total = 0;
    for (let r = 0; r < n; r++) total += scratch[r] = Math.exp(src[sb + si[r]!]! - max);
    if (logOutput) {
      const logTotal = Math.log(total);
      for (let r = 0; r < n; r++) dst[db + di[r]!] = src[sb + si[r]!]! - max - logTotal;
    } else {
      for (let r = 0; r < n; r++) dst[db + di[r]!] = scratch[r]! / total;
    }
  };
}

function softmaxLike<const N extends string>(name: N, logOutput: boolean, decompose: (x: Tensor, dim: number) => Tensor) {
  return defineOp({
    name,
    category: 'normalization',
    method: true,
    positional: [arg('self', 'Tensor'), arg('dim', 'int')],
    meta: ([x, dim]): MetaTensor => {
      laneDims(name, x, dim);
      return { shape: [...x.shape], dtype: requireFloating(name, 'self', x) };
    },
    kernel: ([x, dim], out: MetaTensor): Tensor => {
      const dims = laneDims(name, x, dim);
      const scratch = new Float64Array(dims.length ? x.shape[dims[0]!]! : 1);
      return mapLanes(x, dims, out.dtype, softmaxLanes(scratch, logOutput));
    },
    decompose: ([x, dim]): Tensor => {
      laneDims(name, x, dim);
      requireFloating(name, 'self', x);
      // A size-0 lane has no maximum to shift by; the result is empty anyway.
      return x.ndim > 0 && sizeEq(x.shape[normalizeDim(dim, x.ndim, name)]!, 0) ? exp(x) : decompose(x, dim);
    },
    // From the output alone: softmax y·(g - Σ g·y), logSoftmax g - exp(y)·Σ g (sums along dim).
    derivative: ({ grad, output, args: [x, dim] }): InputGrads => {
      const y = output();
      const d = laneDims(name, x, dim);
      if (d.length === 0) return [grad.mul(logOutput ? 0 : y.mul(y.neg().add(1)))];
      return logOutput ? [grad.sub(y.exp().mul(grad.sum(d, true)))] : [y.mul(grad.sub(grad.mul(y).sum(d, true)))];
    },
  });
}

export const softmax = softmaxLike('softmax', false, (x, dim) => {
  const shifted = exp(sub(x, amax(x, dim, true)));
  return div(shifted, sum(shifted, dim, true));
});

// x - max - log Σ exp(x - max), rather than x - logsumexp(x): subtracting the max first keeps the result's
// absolute error small when the logits are large.
export const logSoftmax = softmaxLike('logSoftmax', true, (x, dim) => {
  const shifted = sub(x, amax(x, dim, true));
  return sub(shifted, log(sum(exp(shifted), dim, true)));
});

/** Checks layerNorm's arguments and returns the normalized (trailing) dims of the input. */
function layerNormDims(x: TensorMetaLike, normalizedShape: readonly Size[], weight: TensorMetaLike | null, bias: TensorMetaLike | null): number[] {
  const k = normalizedShape.length;
  const trailing = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || !trailing.every((s, i) => sizeEq(s, normalizedShape[i]!))) {
    throw new ShapeError(
      `layerNorm: normalizedShape ${fmtShape(normalizedShape)} must match the trailing dims of the input shape ${fmtShape(x.shape)}`,
      k === 0 ? 'normalizedShape needs at least one dim' : `pass normalizedShape = the last dims of the input, e.g. ${fmtShape(x.shape.slice(-1))}`,
    );
  }
  const dtype = requireFloating('layerNorm', 'input', x);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t === null) continue;
    if (t.ndim !== k || !t.shape.every((s, i) => sizeEq(s, normalizedShape[i]!))) {
      throw new ShapeError(
        `layerNorm: ${name} has shape ${fmtShape(t.shape)} but normalizedShape is ${fmtShape(normalizedShape)} (input shape ${fmtShape(x.shape)})`,
        `${name} must have exactly the normalized shape`,
      );
    }
    if (t.dtype !== dtype) {
      throw new KilnTypeError(`layerNorm: ${name} has dtype ${t.dtype} but the input has dtype ${dtype}`, `convert ${name} to ${dtype}`);
    }
  }
  return Array.from({ length: k }, (_, i) => x.ndim - k + i);
}

/** (v - mean) / sqrt(biased variance + eps) · weight + bias along a lane; weight/bias indexed row-major. */
function layerNormLanes(eps: number, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null): LaneMapper {
  return (src, sb, si, dst, db, di) => {
    const n = si.length;
    let total = 0;
    for (let r = 0; r < n; r++) total += src[sb + si[r]!]!;
    const mu = total / n;
    let ss = 0;
    for (let r = 0; r < n; r++) {
      const d = src[sb + si[r]!]! - mu;
      ss += d * d;
    }
    const rstd = 1 / Math.sqrt(ss / n + eps);
    for (let r = 0; r < n; r++) {
      let y = (src[sb + si[r]!]! - mu) * rstd;
      if (weight) y *= weight[r]!;
      if (bias) y += bias[r]!;
      dst[db + di[r]!] = y;
    }
  };
}

export const layerNorm = defineOp({
  name: 'layerNorm',
  category: 'normalization',
  method: false,
  positional: [arg('input', 'Tensor'), arg('normalizedShape', 'ints'), opt('weight', 'Tensor?', null), opt('bias', 'Tensor?', null)],
  keywordOnly: [opt('eps', 'float', 1e-5)],
  meta: ([x, normalizedShape, weight, bias]): MetaTensor => {
    layerNormDims(x, normalizedShape, weight, bias);
    return { shape: [...x.shape], dtype: x.dtype };
  },
  kernel: ([x, normalizedShape, weight, bias, eps], out: MetaTensor): Tensor => {
    const dims = layerNormDims(x, normalizedShape, weight, bias);
    return mapLanes(x, dims, out.dtype, layerNormLanes(eps, weight?.toTypedArray() ?? null, bias?.toTypedArray() ?? null));
  },
  decompose: ([x, normalizedShape, weight, bias, eps]): Tensor => {
    const dims = layerNormDims(x, normalizedShape, weight, bias);
    const centered = sub(x, mean(x, dims, true));
    let y = mul(centered, rsqrt(add(mean(mul(centered, centered), dims, true), eps)));
    if (weight) y = mul(y, weight);
    if (bias) y = add(y, bias);
    return y;
  },
});
