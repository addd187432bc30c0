import type { DType } from '../dtype.js';
import { DTYPES, isDType, isSymbolicScalar } from '../dtype.js';
import type { SymbolicScalar } from '../dtype.js';
import { KilnTypeError } from '../errors.js';
import type { Size } from '../size.js';
import type { Tensor } from '../tensor.js';
import type { TensorMetaLike } from './registry.js';

/** Nested numbers or booleans, as `tensor()` accepts them. */
export type NestedData = number | boolean | readonly NestedData[];

/** The JS type each schema argument type accepts. */
export interface ArgTypes {
  Tensor: Tensor;
  'Tensor?': Tensor | null;
  TensorOrScalar: Tensor | number | boolean;
  Scalar: number | boolean;
  'Scalar?': number | boolean | null;
  int: number;
  'int?': number | null;
  ints: readonly Size[];
  'int|ints': number | readonly number[];
  'dims?': number | readonly number[] | null;
  bool: boolean;
  float: number;
  'float?': number | null;
  'dtype?': DType | null;
  'Tensor[]': readonly Tensor[];
  data: NestedData | ArrayLike<number>;
  string: string;
  'Generator?': { next(): number; normal(): number } | null;
}
export type ArgTypeName = keyof ArgTypes;

/**
 * What meta functions see: tensors are only metadata (a real or a fake tensor), and a scalar may be symbolic
 * while tracing (kernels never see one: the interpreter and backends evaluate it first).
 */
export interface MetaArgTypes extends Omit<ArgTypes, 'Tensor' | 'Tensor?' | 'TensorOrScalar' | 'Scalar' | 'Scalar?' | 'Tensor[]'> {
  Tensor: TensorMetaLike;
  'Tensor?': TensorMetaLike | null;
  TensorOrScalar: TensorMetaLike | number | boolean | SymbolicScalar;
  Scalar: number | boolean | SymbolicScalar;
  'Scalar?': number | boolean | SymbolicScalar | null;
  'Tensor[]': readonly TensorMetaLike[];
}

export interface ArgSpec<N extends string = string, T extends ArgTypeName = ArgTypeName, D extends boolean = boolean> {
  readonly name: N;
  readonly type: T;
  readonly hasDefault: D;
  readonly default?: unknown;
  /** For `string` arguments: the accepted values. */
  readonly choices?: readonly string[];
}

/** A required argument. */
export function arg<N extends string, T extends ArgTypeName>(name: N, type: T): ArgSpec<N, T, false> {
  return { name, type, hasDefault: false };
}
/** An argument with a default value. */
export function opt<N extends string, T extends ArgTypeName>(name: N, type: T, dflt: ArgTypes[T]): ArgSpec<N, T, true> {
  return { name, type, hasDefault: true, default: dflt };
}
/** A string argument restricted to a few values. */
export function choice<N extends string>(name: N, choices: readonly string[], dflt: string): ArgSpec<N, 'string', true> {
  return { name, type: 'string', hasDefault: true, default: dflt, choices };
}

type Specs = readonly ArgSpec[];

/** Positional parameters of the public function: required ones first, then optional ones. */
export type PositionalParams<S extends Specs> = S extends readonly [infer H extends ArgSpec, ...infer R extends Specs]
  ? H['hasDefault'] extends true
    ? [arg?: ArgTypes[H['type']], ...PositionalParams<R>]
    : [ArgTypes[H['type']], ...PositionalParams<R>]
  : [];

/**
 * Every way to call: the positional arguments, with the options object allowed after any prefix that holds
 * all required ones (`sum(x, { dim: 1 })` as well as `sum(x, 1, true)`). A skipped optional may be undefined.
 */
export type CallParams<S extends Specs, O> = S extends readonly [infer H extends ArgSpec, ...infer R extends Specs]
  ? H['hasDefault'] extends true
    ? [options?: O] | [ArgTypes[H['type']] | undefined, ...CallParams<R, O>]
    : [ArgTypes[H['type']], ...CallParams<R, O>]
  : [options?: O];

/** The trailing options object: keyword-only arguments, and any positional one given by name. */
export type KeywordParams<S extends Specs> = { [A in S[number] as A['name']]?: ArgTypes[A['type']] };

/** Normalized arguments as kernels and meta functions receive them: every argument, defaults filled in. */
export type NormalizedArgs<S extends Specs> = { [I in keyof S]: S[I] extends ArgSpec<string, infer T> ? ArgTypes[T] : never };

/** Normalized arguments as meta functions receive them. */
export type MetaArgs<S extends Specs> = { [I in keyof S]: S[I] extends ArgSpec<string, infer T> ? MetaArgTypes[T] : never };

export interface Schema<P extends Specs = Specs, K extends Specs = Specs> {
  readonly positional: P;
  readonly keywordOnly: K;
}

/** PyTorch-style one-line rendering: `add(Tensor self, TensorOrScalar other, *, Scalar alpha=1)`. */
export function formatSchema(name: string, schema: Schema): string {
  const fmt = (a: ArgSpec) => `${a.type} ${a.name}${a.hasDefault ? `=${JSON.stringify(a.default)}` : ''}`;
  const parts = schema.positional.map(fmt);
  if (schema.keywordOnly.length) parts.push('*', ...schema.keywordOnly.map(fmt));
  return `${name}(${parts.join(', ')})`;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

/**
 * Turns a call's raw arguments into the normalized array (schema order, defaults filled), checking the count,
 * unknown option names and each value's type. `isTensor` is passed in to keep this file free of the class.
 */
export function normalizeArgs(
  op: string,
  schema: Schema,
  raw: readonly unknown[],
  isTensor: (x: unknown) => boolean,
): unknown[] {
  const all = schema.positional.length + schema.keywordOnly.length;
  let positional = raw;
  let options: Record<string, unknown> | null = null;
  const last = raw[raw.length - 1];
  if (raw.length > 0 && isPlainObject(last) && !expectsObject(schema, raw.length - 1)) {
    options = last;
    positional = raw.slice(0, -1);
  }
  if (positional.length > schema.positional.length) {
    throw new KilnTypeError(
      `${op}: takes at most ${schema.positional.length} positional arguments but ${positional.length} were given`,
      `signature: ${formatSchema(op, schema)}`,
    );
  }
  const out = new Array<unknown>(all);
  for (let i = 0; i < schema.positional.length; i++) out[i] = positional[i];
  if (options) {
    for (const key of Object.keys(options)) {
      const index = indexOfArg(schema, key);
      if (index < 0) {
        throw new KilnTypeError(`${op}: unknown option '${key}'`, `signature: ${formatSchema(op, schema)}`);
      }
      if (index < positional.length && positional[index] !== undefined) {
        throw new KilnTypeError(`${op}: argument '${key}' given both by position and by name`);
      }
      out[index] = options[key];
    }
  }
  for (let i = 0; i < all; i++) {
    const spec = i < schema.positional.length ? schema.positional[i]! : schema.keywordOnly[i - schema.positional.length]!;
    if (out[i] === undefined) {
      if (!spec.hasDefault) {
        throw new KilnTypeError(`${op}: missing required argument '${spec.name}'`, `signature: ${formatSchema(op, schema)}`);
      }
      out[i] = spec.default;
    } else {
      checkArg(op, spec, out[i], isTensor);
    }
  }
  return out;
}

function expectsObject(schema: Schema, index: number): boolean {
  return schema.positional[index]?.type === 'Generator?';
}

function indexOfArg(schema: Schema, name: string): number {
  const p = schema.positional.findIndex((a) => a.name === name);
  if (p >= 0) return p;
  const k = schema.keywordOnly.findIndex((a) => a.name === name);
  return k < 0 ? -1 : schema.positional.length + k;
}

/** What `rand` and `randn` call on a generator (the `Generator` class, or any object with both methods). */
const isGeneratorLike = (x: unknown) =>
  typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function' && typeof (x as { normal?: unknown }).normal === 'function';
const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
const isSize = (x: unknown) => isInt(x) || (typeof x === 'object' && x !== null && 'isSymInt' in x);
// Symbolic scalars reach ops only under a tracing dispatch mode (eager code never holds one).
const isScalar = (x: unknown) => typeof x === 'number' || typeof x === 'boolean' || isSymbolicScalar(x);
const isIntList = (x: unknown) => Array.isArray(x) && x.every(isInt);

function checkArg(op: string, spec: ArgSpec, value: unknown, isTensor: (x: unknown) => boolean): void {
  const ok = (() => {
    switch (spec.type) {
      case 'Tensor': return isTensor(value);
      case 'Tensor?': return value === null || isTensor(value);
      case 'TensorOrScalar': return isTensor(value) || isScalar(value);
      case 'Scalar': return isScalar(value);
      case 'Scalar?': return value === null || isScalar(value);
      case 'int': return isSize(value);
      case 'int?': return value === null || isSize(value);
      case 'ints': return Array.isArray(value) && value.every(isSize);
      case 'int|ints': return isInt(value) || isIntList(value);
      case 'dims?': return value === null || isInt(value) || isIntList(value);
      case 'bool': return typeof value === 'boolean';
      case 'float': return typeof value === 'number';
      case 'float?': return value === null || typeof value === 'number';
      case 'dtype?': return value === null || isDType(value);
      case 'Tensor[]': return Array.isArray(value) && value.every(isTensor);
      case 'data': return value !== null && value !== undefined;
      case 'string': return typeof value === 'string' && (!spec.choices || spec.choices.includes(value));
      case 'Generator?': return value === null || isGeneratorLike(value);
      default: return spec.type satisfies never;
    }
  })();
  if (!ok) {
    const expected = spec.choices ? `one of ${spec.choices.map((c) => `'${c}'`).join(', ')}` : spec.type;
    // A list that is wrong in one place: name the element, not just the length.
    const elementOk: ((x: unknown) => boolean) | undefined =
      spec.type === 'Tensor[]' ? isTensor : spec.type === 'ints' ? isSize : spec.type === 'int|ints' || spec.type === 'dims?' ? isInt : undefined;
    const badAt = elementOk && Array.isArray(value) ? value.findIndex((x) => !elementOk(x)) : -1;
    const detail = badAt >= 0 ? ` (element [${badAt}] is ${describe((value as unknown[])[badAt])})` : '';
    const hint =
      spec.type === 'Tensor[]' ? 'pass an array of tensors' :
      spec.type === 'ints' || spec.type === 'int|ints' || spec.type === 'int' || spec.type === 'int?' ? 'sizes and indices must be integers (no NaN, Infinity or fractions)' :
      spec.type === 'dims?' ? 'dims are integers in [-ndim, ndim - 1], or null for all dims' :
      spec.type === 'dtype?' ? `dtypes: ${DTYPES.join(', ')}` :
      undefined;
    throw new KilnTypeError(`${op}: argument '${spec.name}' must be ${expected}, got ${describe(value)}${detail}`, hint);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'object') {
    const v = value as { shape?: unknown; dtype?: unknown; constructor?: { name?: string } };
    if (v.shape && v.dtype) return `Tensor(${String(v.dtype)}[${String(v.shape)}])`;
    return v.constructor?.name ?? 'object';
  }
  return `${typeof value} ${String(value)}`;
}
