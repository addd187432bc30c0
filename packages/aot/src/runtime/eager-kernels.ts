// The eager kernels an AOT module can carry for the steps its backend's code generator leaves to eager code
// (`nonzero`, `item`, float64 math). Each is written here over plain typed arrays, with the eager kernels'
// own scalar definitions (@kiln/tensor's SCALAR_UNARY / SCALAR_BINARY, float64 JS math), so it computes what
// eager Kiln computes. aotCompile imports only the kernels a program's eager steps use, so a module without
// eager steps carries none of this (compile/eager-ops.ts lists which op runs on which kernel; any other op
// left to eager code stays an AotCompileError). Nothing at the top level runs code, so the bundler can drop
// every kernel a module does not import.
import { SCALAR_BINARY, SCALAR_UNARY } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';

type Data = Float32Array | Int32Array | Uint8Array | Float64Array;

/** A tensor argument of an eager step: its buffer's elements and the view the step reads. */
export interface HostTensor {
  readonly data: Data;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** A kernel's result: values (any numeric array) and shape, or a number (`item`). */
export type EagerResult = { readonly values: ArrayLike<number>; readonly shape: readonly number[] } | number;
export type EagerKernel = (op: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>) => EagerResult;

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The elements `t` shows at each index of `shape` (broadcast from the right, as eager broadcasts), row-major. */
function read(t: HostTensor | number, shape: readonly number[]): Float64Array {
  const out = new Float64Array(numel(shape));
  if (typeof t === 'number') return out.fill(t);
  const lead = shape.length - t.shape.length;
  const strides = shape.map((n, d) => (d < lead || t.shape[d - lead] === 1 ? 0 : t.strides[d - lead]!));
  const index = shape.map(() => 0);
  for (let i = 0, at = t.offset; i < out.length; i++) {
    out[i] = t.data[at]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      at += strides[d]!;
      if (++index[d]! < shape[d]!) break;
      at -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

function broadcastShape(parts: readonly (HostTensor | number)[]): number[] {
  const shapes = parts.flatMap((p) => (typeof p === 'number' ? [] : [p.shape]));
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, d) => Math.max(1, ...shapes.map((s) => s[d - rank + s.length] ?? 1)));
}

/** `exp`, `neg`, `sigmoid`, … : the op's eager scalar definition over every element. */
export const unary: EagerKernel = (op, [x]) => {
  const f = SCALAR_UNARY[op as keyof typeof SCALAR_UNARY];
  const t = x as HostTensor;
  return { values: read(t, t.shape).map(f), shape: t.shape };
};

/** Binary ops and the eager scalar primitive each applies. */
export const BINARY_PRIMITIVES: Readonly<Record<string, keyof typeof SCALAR_BINARY>> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', pow: 'pow', atan2: 'atan2', remainder: 'mod', maximum: 'max', minimum: 'min',
  eq: 'eq', ne: 'ne', lt: 'lt', le: 'le', gt: 'gt', ge: 'ge',
};

/** Two operands (tensors or numbers) broadcast together; add / sub scale the second by `alpha`. */
export const binary: EagerKernel = (op, [a, b], kwargs) => {
  const f = SCALAR_BINARY[BINARY_PRIMITIVES[op]!];
  const shape = broadcastShape([a as HostTensor, b as HostTensor]);
  const [x, y] = [read(a as HostTensor, shape), read(b as HostTensor, shape)];
  const alpha = typeof kwargs.alpha === 'number' ? kwargs.alpha : 1;
  if (alpha !== 1) for (let i = 0; i < y.length; i++) y[i] = y[i]! * alpha;
  return { values: x.map((v, i) => f(v, y[i]!)), shape };
};

/** `to` / `contiguous` / `clone`: the elements as they are; the step's output dtype casts them. */
export const copy: EagerKernel = (_op, [x]) => {
  const t = x as HostTensor;
  return { values: read(t, t.shape), shape: t.shape };
};

/** `sum(x, dim = null, keepdim = false)` in float64, element order row-major. */
export const sum: EagerKernel = (_op, args, kwargs) => {
  const t = args[0] as HostTensor;
  const rank = t.shape.length;
  const dimArg = args[1] ?? kwargs.dim ?? null;
  const keep = (args[2] ?? kwargs.keepdim ?? false) === true;
  const dims = new Set((dimArg === null ? t.shape.map((_, d) => d) : Array.isArray(dimArg) ? dimArg : [dimArg]).map((d: number) => (d < 0 ? d + rank : d)));
  const outShape = t.shape.flatMap((n, d) => (dims.has(d) ? (keep ? [1] : []) : [n]));
  const kept = t.shape.map((n, d) => (dims.has(d) ? 1 : n));
  const values = read(t, t.shape);
  const out = new Float64Array(numel(kept));
  const index = t.shape.map(() => 0);
  for (let i = 0; i < values.length; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) o = o * kept[d]! + (dims.has(d) ? 0 : index[d]!);
    out[o] += values[i]!;
    for (let d = rank - 1; d >= 0 && ++index[d]! >= t.shape[d]!; d--) index[d] = 0;
  }
  return { values: out, shape: outShape };
};

/** `nonzero(x)`: int32 [count, rank], the indices of the nonzero elements in row-major order. */
export const nonzero: EagerKernel = (_op, [x]) => {
  const t = x as HostTensor;
  const values = read(t, t.shape);
  const rows: number[] = [];
  const index = t.shape.map(() => 0);
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0) rows.push(...index);
    for (let d = t.shape.length - 1; d >= 0 && ++index[d]! >= t.shape[d]!; d--) index[d] = 0;
  }
  return { values: rows, shape: [rows.length / Math.max(t.shape.length, 1), t.shape.length] };
};

/** `item(x)`: the one element, as a number. */
export const item: EagerKernel = (_op, [x]) => {
  const t = x as HostTensor;
  return Number(t.data[t.offset]);
};

/** The values in a fresh array of `dtype`, cast as eager casts (bool: nonzero; int32: truncated, wrapped). */
export function castTo(values: ArrayLike<number>, dtype: LoopDType): Data {
  if (dtype === 'bool') return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  return dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values, (v) => Math.trunc(v) | 0) : Float64Array.from(values);
}
