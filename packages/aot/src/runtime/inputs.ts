// Reading and checking the arguments of an AOT module's call. An argument is a typed array (its shape
// inferred where the spec leaves one dim open), `{ data, shape }`, or a Kiln tensor (duck-typed: the
// standalone runtime does not import @kiln/tensor). Every mismatch is an AotInputError naming the input.
import type { LoopDType } from '@kiln/lower';
import type { AotInputSpec, AotSymbolRange } from './plan.js';
import { AotInputError } from './errors.js';

export type AotTypedArray = Float32Array | Int32Array | Uint8Array;

/** An argument once read: its data (contiguous, row-major) and shape. */
export interface AotArgument {
  readonly data: AotTypedArray;
  readonly shape: readonly number[];
  /** The Kiln Tensor class when the argument was a Kiln tensor: outputs are then made as tensors too. */
  readonly tensorClass?: TensorClassLike;
}

/** What the runtime uses of @kiln/tensor's Tensor class when a caller passes tensors. */
export interface TensorClassLike {
  fromData(data: AotTypedArray, shape: readonly number[], dtype: LoopDType): unknown;
}

const ARRAY_OF: Record<string, { name: string; ctor: new (n: number) => AotTypedArray }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
  bool: { name: 'Uint8Array', ctor: Uint8Array },
};

const describe = (v: unknown): string =>
  v === null ? 'null' : ArrayBuffer.isView(v) ? v.constructor.name : Array.isArray(v) ? 'an Array' : typeof v === 'object' ? 'an object' : typeof v;

/** Reads argument `index` for input `spec`: data of the spec's dtype and a shape of its rank. */
export function readArgument(value: unknown, spec: AotInputSpec, index: number, model: string): AotArgument {
  const where = `${model}: input '${spec.name}' (argument ${index})`;
  const want = ARRAY_OF[spec.dtype]!;
  const tensor = value as { shape?: unknown; dtype?: unknown; toTypedArray?: () => unknown; constructor?: unknown } | null;
  let data: unknown, shape: readonly number[] | undefined, tensorClass: TensorClassLike | undefined;
  if (ArrayBuffer.isView(value)) data = value;
  else if (tensor && typeof tensor === 'object' && typeof tensor.toTypedArray === 'function' && Array.isArray(tensor.shape)) {
    if (tensor.dtype !== spec.dtype) throw new AotInputError(`${where} must be a ${spec.dtype} tensor, got a ${String(tensor.dtype)} tensor`, `convert it with .to('${spec.dtype}')`);
    data = tensor.toTypedArray();
    shape = tensor.shape as number[];
    const ctor = tensor.constructor as Partial<TensorClassLike> | undefined;
    if (ctor && typeof ctor.fromData === 'function') tensorClass = ctor as TensorClassLike;
  } else if (tensor && typeof tensor === 'object' && 'data' in tensor) {
    data = (tensor as { data: unknown }).data;
    const s = tensor.shape;
    if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) throw new AotInputError(`${where}: shape must be an array of non-negative integers, got ${describe(s)}`, 'pass { data, shape: [rows, cols, …] }');
    shape = s as number[];
  } else {
    throw new AotInputError(`${where} must be a ${want.name}, { data, shape } or a Kiln tensor, got ${describe(value)}`, `the module was compiled for ${spec.dtype}[${spec.shape.join(', ')}]`);
  }
  if (!(data instanceof want.ctor)) {
    throw new AotInputError(`${where} must hold ${spec.dtype} data (a ${want.name}), got ${describe(data)}`, `convert it, e.g. ${want.name}.from(values)`);
  }
  shape ??= inferShape(data.length, spec, where);
  if (shape.length !== spec.shape.length) {
    throw new AotInputError(`${where} must have rank ${spec.shape.length} [${spec.shape.join(', ')}], got shape [${shape.join(', ')}]`);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  if (data.length !== numel) throw new AotInputError(`${where}: shape [${shape.join(', ')}] holds ${numel} elements, but the data has ${data.length}`);
  return tensorClass ? { data, shape, tensorClass } : { data, shape };
}

/** A bare typed array's shape: the spec's static dims, and the one symbolic dim (if any) from the length. */
function inferShape(length: number, spec: AotInputSpec, where: string): number[] {
  const open = spec.shape.filter((d) => typeof d !== 'number');
  const known = spec.shape.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  if (open.length === 0) return spec.shape as number[];
  if (open.length > 1) throw new AotInputError(`${where}: a bare typed array cannot say its shape, which has ${open.length} symbolic dims [${spec.shape.join(', ')}]`, 'pass { data, shape } or a Kiln tensor');
  const free = known === 0 ? 0 : length / known;
  if (!Number.isInteger(free)) throw new AotInputError(`${where}: ${length} elements do not fill shape [${spec.shape.join(', ')}]`, `the length must be a multiple of ${known}`);
  return spec.shape.map((d) => (typeof d === 'number' ? d : free));
}

/**
 * Binds the specs' symbolic dims from the arguments and checks each against its range and every other
 * use of the same symbol. Returns the symbol values.
 */
export function bindSymbols(args: readonly AotArgument[], specs: readonly AotInputSpec[], ranges: Readonly<Record<string, AotSymbolRange>>, model: string): Record<string, number> {
  const values: Record<string, number> = {};
  const boundBy: Record<string, string> = {};
  specs.forEach((spec, i) => {
    spec.shape.forEach((dim, d) => {
      const actual = args[i]!.shape[d]!;
      const where = `${model}: input '${spec.name}' (argument ${i}) dim ${d}`;
      if (typeof dim === 'number') {
        if (actual !== dim) throw new AotInputError(`${where} is ${actual}, but the module was compiled for ${dim}`, `its shape must be [${spec.shape.join(', ')}]`);
        return;
      }
      if (dim in values) {
        if (values[dim] !== actual) throw new AotInputError(`${where} is ${actual}, but ${boundBy[dim]} set ${dim} = ${values[dim]}`, `dims named ${dim} must be equal`);
        return;
      }
      const range = ranges[dim];
      if (range && (actual < range.min || (range.max !== null && actual > range.max))) {
        throw new AotInputError(`${where} is ${actual}, outside the range of ${dim}: [${range.min}, ${range.max ?? 'inf'}]`, 'the range was declared when the program was exported');
      }
      values[dim] = actual;
      boundBy[dim] = `input '${spec.name}' dim ${d}`;
    });
  });
  return values;
}
