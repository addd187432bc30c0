import type { DType, TypedArray } from '../dtype.js';
import { allocate, castScalar, defaultFloat, isSymbolicScalar, scalarCategory } from '../dtype.js';
import type { ScalarLike } from '../dtype.js';
import { KilnTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { Generator, defaultGenerator } from '../random.js';
import { defineOp } from '../registry/registry.js';
import type { MetaTensor } from '../registry/registry.js';
import { arg, opt } from '../registry/schema.js';
import type { NestedData } from '../registry/schema.js';
import type { Size } from '../size.js';
import { sizeAdd, sizeFloorDiv, sizeMax, sizeSub } from '../size.js';
import { Tensor } from '../tensor.js';

/** Kernels index storage with int32 offsets, and V8 cannot allocate typed arrays much larger anyway. */
const MAX_NUMEL = 2 ** 31 - 1;

function checkShape(op: string, shape: readonly Size[]): Size[] {
  let numel = 1;
  for (const s of shape) {
    if (typeof s === 'number' && (!Number.isInteger(s) || s < 0)) {
      throw new ShapeError(`${op}: sizes must be non-negative integers, got ${fmtShape(shape)}`);
    }
    if (typeof s === 'number') numel *= s;
  }
  if (numel > MAX_NUMEL) {
    throw new ValueError(`${op}: shape ${fmtShape(shape)} has ${numel} elements, more than the ${MAX_NUMEL} a tensor can hold`);
  }
  return [...shape];
}

const filled = (shape: readonly number[], dtype: DType, value: number) => {
  const t = Tensor.empty(shape, dtype);
  (t.storage.data as TypedArray).fill(castScalar(value, dtype));
  return t;
};

/** The dtype `tensor()` infers: bool for booleans, int32 for integral numbers, float32 otherwise. */
function inferDType(flat: ArrayLike<number | boolean>, source: unknown): DType {
  if (source instanceof Float64Array) return 'float64';
  if (source instanceof Float32Array) return 'float32';
  if (source instanceof Int32Array || source instanceof Int16Array || source instanceof Int8Array) return 'int32';
  if (source instanceof Uint8Array) return 'int32';
  let allBool = flat.length > 0;
  let allInt = true;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'boolean') allBool = false;
    if (typeof v === 'number' && !Number.isInteger(v)) allInt = false;
  }
  return allBool ? 'bool' : allInt && flat.length > 0 ? 'int32' : defaultFloat;
}

/** Flattens nested arrays, checking that they are rectangular and hold only numbers or booleans. */
function flattenData(data: unknown): { flat: (number | boolean)[]; shape: number[] } {
  if (ArrayBuffer.isView(data)) return { flat: Array.from(data as unknown as ArrayLike<number>), shape: [(data as unknown as ArrayLike<number>).length] };
  const shape: number[] = [];
  for (let d: unknown = data; Array.isArray(d); d = d[0]) shape.push(d.length);
  const flat: (number | boolean)[] = [];
  const walk = (x: unknown, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new KilnTypeError(`tensor: element ${path || '(root)'} must be a number or boolean, got ${x === null ? 'null' : typeof x}`);
      }
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new ShapeError(`tensor: nested arrays are ragged at ${path || '(root)'}: expected length ${shape[dim]}`, 'every row must have the same length');
    }
    x.forEach((v, i) => walk(v, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return { flat, shape };
}

/** int32 data outside the int32 range would wrap silently: refuse it, as PyTorch refuses an overflowing cast. */
function checkInt32Range(op: string, flat: ArrayLike<number | boolean>): void {
  for (let i = 0; i < flat.length; i++) {
    const v = Number(flat[i]);
    if (v > 2147483647 || v < -2147483648) {
      throw new ValueError(`${op}: value ${v} at flat index ${i} does not fit in int32`, "pass { dtype: 'float64' } to keep it (exact up to 2^53)");
    }
  }
}

/** `requiresGrad: true` makes the new tensor a leaf that requires grad (autograd applies it after the kernel). */
const requiresGradOption = opt('requiresGrad', 'bool', false);

export const tensor = defineOp({
  name: 'tensor',
  category: 'creation',
  method: false,
  positional: [arg('data', 'data')],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  kernel: ([data, dtype]): Tensor => {
    const { flat, shape } = flattenData(data);
    const dt = dtype ?? inferDType(flat, data);
    if (dt === 'int32') checkInt32Range('tensor', flat);
    const out = allocate(dt, flat.length);
    for (let i = 0; i < flat.length; i++) out[i] = castScalar(flat[i]!, dt);
    return Tensor.fromData(out, shape, dt);
  },
});

export const full = defineOp({
  name: 'full',
  category: 'creation',
  method: false,
  positional: [arg('size', 'ints'), arg('fillValue', 'Scalar')],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  meta: ([size, value, dtype]): MetaTensor => ({
    shape: checkShape('full', size),
    dtype: dtype ?? (['bool', 'int32', defaultFloat] as const)[scalarCategory(value)],
  }),
  kernel: ([, value], out: MetaTensor): Tensor => {
    if (out.dtype === 'int32') checkInt32Range('full', [value]);
    return filled(out.shape as number[], out.dtype, Number(value));
  },
});

function constantCreation<const N extends string>(name: N, value: number) {
  return defineOp({
    name,
    category: 'creation',
    method: false,
    positional: [arg('size', 'ints')],
    keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
    meta: ([size, dtype]): MetaTensor => ({ shape: checkShape(name, size), dtype: dtype ?? defaultFloat }),
    kernel: (_args, out: MetaTensor): Tensor => filled(out.shape as number[], out.dtype, value),
  });
}
export const zeros = constantCreation('zeros', 0);
export const ones = constantCreation('ones', 1);

function likeCreation<const N extends string>(name: N, value: number) {
  return defineOp({
    name,
    category: 'creation',
    method: false,
    positional: [arg('self', 'Tensor')],
    keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
    meta: ([x, dtype]): MetaTensor => ({ shape: [...x.shape], dtype: dtype ?? x.dtype }),
    kernel: (_args, out: MetaTensor): Tensor => filled(out.shape as number[], out.dtype, value),
    derivative: 'nonDifferentiable',
  });
}
export const zerosLike = likeCreation('zerosLike', 0);
export const onesLike = likeCreation('onesLike', 1);

export const fullLike = defineOp({
  name: 'fullLike',
  category: 'creation',
  method: false,
  positional: [arg('self', 'Tensor'), arg('fillValue', 'Scalar')],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  meta: ([x, , dtype]): MetaTensor => ({ shape: [...x.shape], dtype: dtype ?? x.dtype }),
  kernel: ([, value], out: MetaTensor): Tensor => filled(out.shape as number[], out.dtype, Number(value)),
  derivative: 'nonDifferentiable',
});

export const arange = defineOp({
  name: 'arange',
  category: 'creation',
  method: false,
  // Scalar, not float: while tracing a bound may be a size (`arange(x.shape[1])`), as in PyTorch.
  positional: [arg('start', 'Scalar'), opt('end', 'Scalar?', null), opt('step', 'Scalar', 1)],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  meta: ([start, end, step, dtype]): MetaTensor => {
    const [lo, hi] = end === null ? [0, start] : [start, end];
    for (const [name, v] of [['start', start], ['end', end], ['step', step]] as const) {
      if (typeof v === 'boolean') throw new KilnTypeError(`arange: ${name} must be a number, got boolean ${v}`);
    }
    if (isSymbolicScalar(lo) || isSymbolicScalar(hi) || isSymbolicScalar(step)) return symbolicArange(lo, hi, step, dtype);
    if (typeof lo !== 'number' || typeof hi !== 'number' || typeof step !== 'number') throw new KilnTypeError('arange: bounds must be numbers');
    if (step === 0) throw new ValueError('arange: step must not be zero');
    if (![lo, hi, step].every(Number.isFinite)) {
      throw new ValueError(`arange: start, end and step must be finite, got start=${lo}, end=${hi}, step=${step}`);
    }
    const n = Math.max(0, Math.ceil((hi - lo) / step));
    checkShape('arange', [n]);
    const integral = [lo, hi, step].every(Number.isInteger);
    return { shape: [n], dtype: dtype ?? (integral ? 'int32' : defaultFloat) };
  },
  kernel: ([start, end, step], out: MetaTensor): Tensor => {
    const lo = end === null ? 0 : Number(start);
    const n = out.shape[0] as number;
    const data = allocate(out.dtype, n);
    for (let i = 0; i < n; i++) data[i] = castScalar(lo + i * Number(step), out.dtype);
    return Tensor.fromData(data, [n], out.dtype);
  },
});

/**
 * arange with a symbolic bound (traced code): integer bounds and a constant integer step, so the length is
 * an integer size expression; `max(·, 0)` makes a reversed range empty, as eagerly.
 */
function symbolicArange(lo: ScalarLike, hi: ScalarLike, step: ScalarLike, dtype: DType | null): MetaTensor {
  const isIntegral = (v: ScalarLike) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'object' && 'isSymInt' in v);
  if (typeof step !== 'number' || !Number.isInteger(step) || step === 0 || !isIntegral(lo) || !isIntegral(hi)) {
    throw new ValueError(
      'arange: with a symbolic bound, start and end must be integers (sizes) and step a nonzero integer constant',
      'compute float ranges as arange(n).mul(step).add(start)',
    );
  }
  const [a, b] = [lo as Size, hi as Size];
  const span = step > 0 ? sizeSub(b, a) : sizeSub(a, b);
  const stride = Math.abs(step);
  const n = sizeMax(stride === 1 ? span : sizeFloorDiv(sizeAdd(span, stride - 1), stride), 0);
  return { shape: [n], dtype: dtype ?? 'int32' };
}

export const linspace = defineOp({
  name: 'linspace',
  category: 'creation',
  method: false,
  positional: [arg('start', 'float'), arg('end', 'float'), arg('steps', 'int')],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  meta: ([, , steps, dtype]): MetaTensor => {
    if (typeof steps !== 'number' || steps < 0) throw new ValueError(`linspace: steps must be non-negative, got ${String(steps)}`);
    checkShape('linspace', [steps]);
    return { shape: [steps], dtype: dtype ?? defaultFloat };
  },
  kernel: ([start, end, steps], out: MetaTensor): Tensor => {
    const n = steps;
    const data = allocate(out.dtype, n);
    const step = n > 1 ? (end - start) / (n - 1) : 0;
    // Fill from both ends, as PyTorch does, so the last element is exactly `end`.
    for (let i = 0; i < n; i++) data[i] = castScalar(i < n / 2 ? start + i * step : end - (n - 1 - i) * step, out.dtype);
    return Tensor.fromData(data, [n], out.dtype);
  },
});

export const eye = defineOp({
  name: 'eye',
  category: 'creation',
  method: false,
  positional: [arg('n', 'int'), opt('m', 'int?', null)],
  keywordOnly: [opt('dtype', 'dtype?', null), requiresGradOption],
  meta: ([n, m, dtype]): MetaTensor => ({ shape: checkShape('eye', [n, m ?? n]), dtype: dtype ?? defaultFloat }),
  kernel: (_args, out: MetaTensor): Tensor => {
    const [rows, cols] = out.shape as number[];
    const t = Tensor.empty([rows!, cols!], out.dtype);
    const data = t.storage.data;
    for (let i = 0; i < Math.min(rows!, cols!); i++) data[i * cols! + i] = 1;
    return t;
  },
});

function randomCreation<const N extends string>(name: N, sample: (g: Generator) => number) {
  return defineOp({
    name,
    category: 'random',
    method: false,
    random: true,
    positional: [arg('size', 'ints')],
    keywordOnly: [opt('dtype', 'dtype?', null), opt('generator', 'Generator?', null), requiresGradOption],
    meta: ([size, dtype]): MetaTensor => {
      const dt = dtype ?? defaultFloat;
      if (dt !== 'float32' && dt !== 'float64') throw new KilnTypeError(`${name}: dtype must be float32 or float64, got ${dt}`);
      return { shape: checkShape(name, size), dtype: dt };
    },
    kernel: ([, , generator], out: MetaTensor): Tensor => {
      const g = (generator as Generator | null) ?? defaultGenerator;
      const t = Tensor.empty(out.shape as number[], out.dtype);
      const data = t.storage.data;
      for (let i = 0; i < data.length; i++) data[i] = sample(g);
      return t;
    },
  });
}
export const rand = randomCreation('rand', (g) => g.next());
export const randn = randomCreation('randn', (g) => g.normal());

function randomLike<const N extends string>(name: N, of: typeof rand | typeof randn) {
  return defineOp({
    name,
    category: 'random',
    method: false,
    random: true,
    positional: [arg('self', 'Tensor')],
    keywordOnly: [opt('dtype', 'dtype?', null), opt('generator', 'Generator?', null), requiresGradOption],
    derivative: 'nonDifferentiable',
    decompose: ([x, dtype, generator]): Tensor =>
      of([...x.shape], { dtype: dtype ?? (x.dtype === 'float64' ? 'float64' : 'float32'), generator }),
  });
}
export const randLike = randomLike('randLike', rand);
export const randnLike = randomLike('randnLike', randn);
