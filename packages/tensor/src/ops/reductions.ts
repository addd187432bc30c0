import type { DType } from '../dtype.js';
import { isFloating } from '../dtype.js';
import { IndexError, KilnTypeError, ValueError, fmtShape } from '../errors.js';
import { mapUnary } from '../kernels/pointwise.js';
import type { LaneReducer } from '../kernels/reduce.js';
import {
  laneAll, laneAny, laneArgmax, laneArgmin, laneLogSumExp, laneProd, laneSum, laneVar, lanesOf, mapLanes, reduceLanes,
} from '../kernels/reduce.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor, OpDef, TensorMetaLike } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { Shape, Size } from '../size.js';
import { normalizeDim, numelOf, sizeEq } from '../size.js';
import { Tensor } from '../tensor.js';
import { add, clamp, div, eq, mul, sub, where } from './pointwise.js';
import { abs, exp, log, sqrt } from './unary.js';
import { onesLike } from './creation.js';
import { squeeze } from './views.js';
import { allDims, reductionDims } from './reduction-dims.js';
import { cumsumDerivative, extremumDerivative, indexedExtremumDerivative, prodDerivative, sumDerivative } from './reduction-grads.js';

type DimArg = number | readonly number[] | null;


function reducedShape(shape: Shape, dims: readonly number[], keepdim: boolean): Size[] {
  const out: Size[] = [];
  shape.forEach((s, d) => {
    if (!dims.includes(d)) out.push(s);
    else if (keepdim) out.push(1);
  });
  return out;
}

const reducedCount = (shape: Shape, dims: readonly number[]): Size => numelOf(dims.map((d) => shape[d]!));

/** max/min and friends have no identity element: reducing zero elements is an error, not a value. */
function checkNonEmpty(op: string, x: TensorMetaLike, dims: readonly number[], dim: DimArg): void {
  if (!sizeEq(reducedCount(x.shape, dims), 0)) return;
  throw new ValueError(
    `${op}: cannot reduce over zero elements (input shape ${fmtShape(x.shape)}, dim=${dim === null ? 'all' : String(dim)})`,
    `${op} of an empty set is undefined; reduce over a non-empty dim or check numel first`,
  );
}

function requireFloating(op: string, dtype: DType, hint: string): void {
  if (!isFloating(dtype)) throw new KilnTypeError(`${op}: needs a floating-point input, got dtype ${dtype}`, hint);
}

/** Integral sums and products widen to int32 (PyTorch's int64, with int32 being Kiln's widest integer). */
const accumulateDtype = (x: TensorMetaLike, dtype: DType | null): DType => dtype ?? (isFloating(x.dtype) ? x.dtype : 'int32');

/** Casts the input first when a `dtype` is asked for, as PyTorch does (float → int truncates each element). */
const castFor = (x: Tensor, dtype: DType | null): Tensor => (dtype === null || dtype === x.dtype ? x : mapUnary(x, dtype, (v) => v));

/** Divides `total` by the reduced element count minus `correction` (floored at 0); a tensor count if symbolic. */
function divideByCount(total: Tensor, x: Tensor, dims: number[], keepdim: boolean, correction = 0): Tensor {
  const n = reducedCount(x.shape, dims);
  if (typeof n === 'number') return div(total, Math.max(0, n - correction));
  // A symbolic count is not a scalar argument: count the elements as a tensor (the compiler folds it).
  const count = sum(onesLike(x, { dtype: total.dtype }), dims, keepdim);
  return div(total, correction === 0 ? count : clamp(sub(count, correction), 0));
}

const reductionArgs = [arg('self', 'Tensor'), opt('dim', 'dims?', null), opt('keepdim', 'bool', false)] as const;

function accumulation<const N extends string>(name: N, reducer: LaneReducer, derivative: typeof sumDerivative) {
  return defineOp({
    name,
    category: 'reduction',
    method: true,
    positional: reductionArgs,
    keywordOnly: [opt('dtype', 'dtype?', null)],
    meta: ([x, dim, keepdim, dtype]): MetaTensor => ({
      shape: reducedShape(x.shape, reductionDims(name, x, dim), keepdim),
      dtype: accumulateDtype(x, dtype),
    }),
    kernel: ([x, dim, , dtype], out: MetaTensor): Tensor =>
      reduceLanes(castFor(x, dtype), reductionDims(name, x, dim), out.shape as number[], out.dtype, reducer),
    derivative,
  });
}

export const sum = accumulation('sum', laneSum, sumDerivative);
export const prod = accumulation('prod', laneProd, prodDerivative);

/** amax/amin/all/any: the output keeps the input's dtype (or bool) and there is no dtype argument. */
function plainReduction<const N extends string>(name: N, reducer: LaneReducer, outDtype: (x: DType) => DType, nonEmpty: boolean, derivative: ReturnType<typeof extremumDerivative> | 'nonDifferentiable') {
  return defineOp({
    name,
    category: 'reduction',
    method: true,
    positional: reductionArgs,
    meta: ([x, dim, keepdim]): MetaTensor => {
      const dims = reductionDims(name, x, dim);
      if (nonEmpty) checkNonEmpty(name, x, dims, dim);
      return { shape: reducedShape(x.shape, dims, keepdim), dtype: outDtype(x.dtype) };
    },
    kernel: ([x, dim], out: MetaTensor): Tensor =>
      reduceLanes(x, reductionDims(name, x, dim), out.shape as number[], out.dtype, reducer),
    derivative,
  });
}

const laneValueAt = (argReducer: LaneReducer): LaneReducer => (data, base, inner) => data[base + inner[argReducer(data, base, inner)]!]!;

export const amax = plainReduction('amax', laneValueAt(laneArgmax), (d) => d, true, extremumDerivative('amax'));
export const amin = plainReduction('amin', laneValueAt(laneArgmin), (d) => d, true, extremumDerivative('amin'));
export const all = plainReduction('all', laneAll, () => 'bool', false, 'nonDifferentiable');
export const any = plainReduction('any', laneAny, () => 'bool', false, 'nonDifferentiable');

function argReduction<const N extends string>(name: N, reducer: LaneReducer) {
  return defineOp({
    name,
    category: 'reduction',
    method: true,
    positional: [arg('self', 'Tensor'), opt('dim', 'int?', null), opt('keepdim', 'bool', false)],
    meta: ([x, dim, keepdim]): MetaTensor => {
      const dims = reductionDims(name, x, dim);
      checkNonEmpty(name, x, dims, dim);
      return { shape: reducedShape(x.shape, dims, keepdim), dtype: 'int32' };
    },
    // With no dim the index is into the flattened tensor: lanes over all dims are row-major, so it already is.
    kernel: ([x, dim], out: MetaTensor): Tensor =>
      reduceLanes(x, reductionDims(name, x, dim), out.shape as number[], 'int32', reducer),
    derivative: 'nonDifferentiable',
  });
}

export const argmax = argReduction('argmax', laneArgmax);
export const argmin = argReduction('argmin', laneArgmin);

/** `max(x, dim)`'s result, like PyTorch's named tuple: `const [values, indices] = …` or `.values`/`.indices`. */
export type ValuesIndices = readonly [Tensor, Tensor] & { readonly values: Tensor; readonly indices: Tensor };

// A type alias, not an interface: only aliases satisfy MetaResult's index signature for named outputs.
type ValuesIndicesMeta = { values: MetaTensor; indices: MetaTensor };

/** `max`/`min`: a 0-dim tensor with no dim, values and int32 indices with one. */
export interface ReduceWithIndicesMethod {
  (dim?: null, keepdim?: boolean): Tensor;
  (dim: number, keepdim?: boolean): ValuesIndices;
  (options: { dim?: number | null; keepdim?: boolean }): Tensor | ValuesIndices;
}
interface ReduceWithIndices {
  (self: Tensor, dim?: null, keepdim?: boolean): Tensor;
  (self: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
  (self: Tensor, options: { dim?: number | null; keepdim?: boolean }): Tensor | ValuesIndices;
  readonly op: OpDef;
  readonly isMethod: true;
}

function withIndices<const N extends string>(name: N, argReducer: LaneReducer): ReduceWithIndices & { readonly opName?: N; readonly isCoreOp?: true } {
  return defineOp({
    name,
    category: 'reduction',
    method: true,
    positional: [arg('self', 'Tensor'), opt('dim', 'int?', null), opt('keepdim', 'bool', false)],
    meta: ([x, dim, keepdim]): MetaTensor | ValuesIndicesMeta => {
      const dims = reductionDims(name, x, dim);
      checkNonEmpty(name, x, dims, dim);
      const shape = reducedShape(x.shape, dims, keepdim);
      return dim === null ? { shape, dtype: x.dtype } : { values: { shape, dtype: x.dtype }, indices: { shape: [...shape], dtype: 'int32' } };
    },
    kernel: ([x, dim], out: MetaTensor | ValuesIndicesMeta): Tensor | ValuesIndices => {
      const dims = reductionDims(name, x, dim);
      if (!('values' in out)) return reduceLanes(x, dims, out.shape as number[], x.dtype, laneValueAt(argReducer));
      const shape = out.values.shape as number[];
      const { data, outer, inner } = lanesOf(x, dims);
      const values = Tensor.empty(shape, x.dtype);
      const indices = Tensor.empty(shape, 'int32');
      const [v, ix] = [values.storage.data, indices.storage.data];
      for (let i = 0; i < outer.length; i++) {
        const r = argReducer(data, outer[i]!, inner);
        ix[i] = r;
        v[i] = data[outer[i]! + inner[r]!]!;
      }
      return Object.assign([values, indices] as const, { values, indices });
    },
    derivative: indexedExtremumDerivative(name),
  }) as unknown as ReduceWithIndices & { readonly opName?: N; readonly isCoreOp?: true };
}

export const max = withIndices('max', laneArgmax);
export const min = withIndices('min', laneArgmin);

export const mean = defineOp({
  name: 'mean',
  category: 'reduction',
  method: true,
  positional: reductionArgs,
  keywordOnly: [opt('dtype', 'dtype?', null)],
  meta: ([x, dim, keepdim, dtype]): MetaTensor => {
    const outDtype = dtype ?? x.dtype;
    requireFloating('mean', outDtype, "pass { dtype: 'float32' } or convert the input to a float dtype first");
    return { shape: reducedShape(x.shape, reductionDims('mean', x, dim), keepdim), dtype: outDtype };
  },
  kernel: ([x, dim, , dtype], out: MetaTensor): Tensor => {
    const dims = reductionDims('mean', x, dim);
    const n = reducedCount(x.shape, dims) as number;
    return reduceLanes(castFor(x, dtype), dims, out.shape as number[], out.dtype, (d, b, inner) => laneSum(d, b, inner) / n);
  },
  decompose: ([x, dim, keepdim, dtype]): Tensor => {
    const dims = reductionDims('mean', x, dim);
    requireFloating('mean', dtype ?? x.dtype, "pass { dtype: 'float32' } or convert the input to a float dtype first");
    return divideByCount(sum(x, dims, keepdim, { dtype }), x, dims, keepdim);
  },
});

const varianceArgs = {
  positional: [arg('self', 'Tensor'), opt('dim', 'dims?', null)],
  keywordOnly: [opt('correction', 'float', 1), opt('keepdim', 'bool', false)],
} as const;

function varianceMeta(op: string, x: TensorMetaLike, dim: DimArg, keepdim: boolean): MetaTensor {
  requireFloating(op, x.dtype, `${op} is only defined for float tensors; convert the input to float32 first`);
  return { shape: reducedShape(x.shape, reductionDims(op, x, dim), keepdim), dtype: x.dtype };
}

// `var` is a reserved word: the binding has another name, the export (and the op) is `var`.
const variance = defineOp({
  name: 'var',
  category: 'reduction',
  method: true,
  ...varianceArgs,
  meta: ([x, dim, , keepdim]) => varianceMeta('var', x, dim, keepdim),
  kernel: ([x, dim, correction], out: MetaTensor): Tensor =>
    reduceLanes(x, reductionDims('var', x, dim), out.shape as number[], out.dtype, laneVar(correction)),
  decompose: ([x, dim, correction, keepdim]): Tensor => {
    varianceMeta('var', x, dim, keepdim);
    const dims = reductionDims('var', x, dim);
    const centered = sub(x, mean(x, dims, true));
    return divideByCount(sum(mul(centered, centered), dims, keepdim), x, dims, keepdim, correction);
  },
});
export { variance as var };

export const std = defineOp({
  name: 'std',
  category: 'reduction',
  method: true,
  ...varianceArgs,
  meta: ([x, dim, , keepdim]) => varianceMeta('std', x, dim, keepdim),
  kernel: ([x, dim, correction], out: MetaTensor): Tensor => {
    const v = laneVar(correction);
    return reduceLanes(x, reductionDims('std', x, dim), out.shape as number[], out.dtype, (d, b, inner) => Math.sqrt(v(d, b, inner)));
  },
  decompose: ([x, dim, correction, keepdim]): Tensor => {
    varianceMeta('std', x, dim, keepdim);
    return sqrt(variance(x, dim, { correction, keepdim }));
  },
});

export const logsumexp = defineOp({
  name: 'logsumexp',
  category: 'reduction',
  method: true,
  positional: reductionArgs,
  meta: ([x, dim, keepdim]): MetaTensor => ({
    shape: reducedShape(x.shape, reductionDims('logsumexp', x, dim), keepdim),
    dtype: isFloating(x.dtype) ? x.dtype : 'float32',
  }),
  kernel: ([x, dim], out: MetaTensor): Tensor =>
    reduceLanes(x, reductionDims('logsumexp', x, dim), out.shape as number[], out.dtype, laneLogSumExp),
  decompose: ([x, dim, keepdim]): Tensor => {
    const dims = reductionDims('logsumexp', x, dim);
    // Zero elements: no maximum to shift by, and log(0) = -inf is already the answer.
    if (sizeEq(reducedCount(x.shape, dims), 0)) return log(sum(exp(x), dims, keepdim));
    // An infinite maximum shifts by 0 instead (inf - inf would be NaN); see laneLogSumExp.
    const m = amax(x, dims, true);
    const shift = where(eq(abs(m), Infinity), 0, m);
    const total = add(log(sum(exp(sub(x, shift)), dims, true)), shift);
    return keepdim ? total : squeeze(total, dims);
  },
});

export const cumsum = defineOp({
  name: 'cumsum',
  category: 'reduction',
  method: true,
  positional: [arg('self', 'Tensor'), arg('dim', 'int')],
  keywordOnly: [opt('dtype', 'dtype?', null)],
  meta: ([x, dim, dtype]): MetaTensor => {
    normalizeDim(dim, x.ndim, 'cumsum');
    return { shape: [...x.shape], dtype: accumulateDtype(x, dtype) };
  },
  kernel: ([x, dim, dtype], out: MetaTensor): Tensor => {
    const dims = x.ndim === 0 ? [] : [normalizeDim(dim, x.ndim, 'cumsum')];
    return mapLanes(castFor(x, dtype), dims, out.dtype, (src, sb, si, dst, db, di) => {
      let s = 0;
      for (let r = 0; r < si.length; r++) {
        s += src[sb + si[r]!]!;
        dst[db + di[r]!] = s;
      }
    });
  },
  derivative: cumsumDerivative,
});
