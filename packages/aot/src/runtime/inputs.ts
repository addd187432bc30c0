// Reading and checking the arguments of an AOT module's call. An argument is a typed array (its shape
// inferred where the spec leaves one dim open), `{ data, shape }`, or a Kiln tensor (duck-typed: the
// standalone runtime does not import @kiln/tensor). Every mismatch is an AotInputError naming the input.
import type { LoopDType } from '@kiln/lower';
import { evalSize } from '@kiln/lower';
import type { AotDim, AotInputSpec, AotOutputTemplate, AotPrecondition, AotSymbolRange } from './plan.js';
import { conditionHolds } from './asserts.js';
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
export function readArgument(value: unknown, spec: AotInputSpec, names: Names, model: string): AotArgument {
  const where = `${model}: input '${spec.name}'`;
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
    throw new AotInputError(`${where} must be a ${want.name}, { data, shape } or a Kiln tensor, got ${describe(value)}`, `the module was compiled for ${spec.dtype}[${dimsText(spec.shape, names)}]`);
  }
  if (!(data instanceof want.ctor)) {
    throw new AotInputError(`${where} must hold ${spec.dtype} data (a ${want.name}), got ${describe(data)}`, `convert it, e.g. ${want.name}.from(values)`);
  }
  shape ??= inferShape(data.length, spec, names, where);
  if (shape.length !== spec.shape.length) {
    throw new AotInputError(`${where} must have rank ${spec.shape.length} [${dimsText(spec.shape, names)}], got shape [${shape.join(', ')}]`);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  if (data.length !== numel) throw new AotInputError(`${where}: shape [${shape.join(', ')}] holds ${numel} elements, but the data has ${data.length}`);
  return tensorClass ? { data, shape, tensorClass } : { data, shape };
}

type Names = Readonly<Record<string, AotSymbolRange>>;

const dimText = (d: AotDim, names: Names): string => (typeof d === 'number' ? String(d) : 'sym' in d ? names[d.sym]?.name ?? d.sym : d.text);
const dimsText = (shape: readonly AotDim[], names: Names): string => shape.map((d) => dimText(d, names)).join(', ');

/** A bare typed array's shape: the spec's static dims, and the one dynamic dim (if any) from the length. */
function inferShape(length: number, spec: AotInputSpec, names: Names, where: string): number[] {
  const open = spec.shape.filter((d) => typeof d !== 'number');
  const known = spec.shape.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  if (open.length === 0) return spec.shape as number[];
  if (open.length > 1) throw new AotInputError(`${where}: a bare typed array cannot say its shape, which has ${open.length} dynamic dims [${dimsText(spec.shape, names)}]`, 'pass { data, shape } or a Kiln tensor');
  const free = known === 0 ? 0 : length / known;
  if (!Number.isInteger(free)) throw new AotInputError(`${where}: ${length} elements do not fill shape [${dimsText(spec.shape, names)}]`, `the length must be a multiple of ${known}`);
  return spec.shape.map((d) => (typeof d === 'number' ? d : free));
}

/**
 * The tensor arguments in spec order, from the call's arguments walked along the exported argument
 * structure; a constant the program was exported with must be passed as is.
 */
export function flattenArguments(tree: AotOutputTemplate, args: readonly unknown[], model: string): unknown[] {
  const leaves: unknown[] = [];
  const walk = (t: AotOutputTemplate, v: unknown, where: string): void => {
    const fail = (what: string): never => {
      throw new AotInputError(`${model}: ${where || 'the arguments'} must be ${what}, got ${describe(v)}`, 'pass arguments with the structure of the exported example');
    };
    if (Array.isArray(t)) {
      if (!Array.isArray(v) || v.length !== t.length) fail(`an array of ${t.length}`);
      t.forEach((x, i) => walk(x, (v as unknown[])[i], where ? `${where}[${i}]` : `argument ${i}`));
      return;
    }
    const node = t as Exclude<AotOutputTemplate, readonly AotOutputTemplate[]>;
    if ('leaf' in node) {
      leaves[node.leaf] = v;
      return;
    }
    if ('value' in node) {
      if (!Object.is(v, node.value)) fail(`${JSON.stringify(node.value)} (the value it was exported with)`);
      return;
    }
    if (!('object' in node)) return;
    if (v === null || typeof v !== 'object') fail('an object');
    const keys = node.object.map(([k]) => k);
    if (Object.keys(v as object).length !== keys.length || !keys.every((k) => Object.prototype.hasOwnProperty.call(v, k))) fail(`an object with keys ${keys.join(', ')}`);
    for (const [k, x] of node.object) walk(x, (v as Record<string, unknown>)[k], `${where}.${k}`);
  };
  walk(tree, args, '');
  return leaves;
}

/**
 * Binds the dynamic dims' symbols from the arguments and checks each dim: static sizes, equal uses of one
 * symbol, expressions of symbols, ranges, then the preconditions. Returns the symbol values.
 */
export function bindSymbols(args: readonly AotArgument[], specs: readonly AotInputSpec[], names: Names, preconditions: readonly AotPrecondition[], model: string): Record<string, number> {
  const values: Record<string, number> = {};
  const boundBy: Record<string, string> = {};
  specs.forEach((spec, i) => {
    spec.shape.forEach((dim, d) => {
      const actual = args[i]!.shape[d]!;
      if (typeof dim === 'number') {
        if (actual !== dim) throw new AotInputError(`${model}: input '${spec.name}' dim ${d} is ${actual}, but the program is static there: ${dim}`, `its shape must be [${dimsText(spec.shape, names)}]; export with a Dim for this dim to make it dynamic`);
      } else if ('sym' in dim && !(dim.sym in values)) {
        values[dim.sym] = actual;
        boundBy[dim.sym] = `input '${spec.name}' dim ${d}`;
      }
    });
  });
  specs.forEach((spec, i) => {
    spec.shape.forEach((dim, d) => {
      if (typeof dim === 'number') return;
      const want = 'sym' in dim ? values[dim.sym]! : evalSize(dim.expr, values);
      const actual = args[i]!.shape[d]!;
      if (want !== actual) {
        const by = 'sym' in dim ? ` (set by ${boundBy[dim.sym]})` : '';
        throw new AotInputError(`${model}: input '${spec.name}' dim ${d} is ${actual}, but the program needs it equal to ${dimText(dim, names)} = ${want}${by}`, 'these sizes were equal (or related) in the exported trace; the program only runs where they still are');
      }
    });
  });
  for (const [sym, range] of Object.entries(names)) {
    const v = values[sym];
    if (v !== undefined && (v < range.min || (range.max !== null && v > range.max))) {
      throw new AotInputError(`${model}: dim ${range.name} (${boundBy[sym]}) is ${v}, outside its range [${range.min}, ${range.max ?? 'inf'}]`, 'export with a wider Dim range if the code allows it');
    }
  }
  for (const p of preconditions) {
    if (!conditionHolds(p.condition, values)) {
      throw new AotInputError(`${model}: the inputs break ${p.text}${p.message ? ` (${p.message})` : ''}${p.location ? `, from ${p.location}` : ''}`, 'the exported trace took a path that holds only where this does');
    }
  }
  return values;
}
