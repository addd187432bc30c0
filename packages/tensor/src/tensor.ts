import type { DType, TypedArray } from './dtype.js';
import { DTYPES, allocate, copyElements, isDType, shortName, typedArrayOf } from './dtype.js';
import { KilnTypeError, ShapeError, ValueError, fmtShape } from './errors.js';
import type * as opTable from './ops/index.js';
import type { GradNode, ViewLink } from './autograd/node.js';
import type { TensorMetaLike } from './registry/registry.js';
import { setTensorPredicate } from './registry/registry.js';
import { Storage } from './storage.js';
import type { Device } from './device.js';
import { deviceImpl, syncReadError } from './device.js';

/** The call's argument lists without `self` (distributes over the union of ways to call). */
type DropSelf<A> = A extends [unknown, ...infer Rest] ? Rest : never;
type MethodOf<F> = F extends (...args: infer A) => infer R ? (...rest: DropSelf<A>) => R : never;
type OpTable = typeof opTable;
/** The method type of op `K`: the function's type minus `self`. */
type M<K extends keyof OpTable> = MethodOf<OpTable[K]>;

export type { Device } from './device.js';

/**
 * The eager tensor: a storage plus shape, strides and offset, so that views (`transpose`, `slice`, `expand`…)
 * share data without copying. Methods come from the op registry (ops/), installed by methods.ts.
 */
// Listed by name because TypeScript cannot take a class's base type from the op table that refers back to
// the class; the check at the end of this file fails to compile when an op marked `method` is missing here.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Tensor {
  // pointwise
  neg: M<'neg'>; abs: M<'abs'>; exp: M<'exp'>; log: M<'log'>; log1p: M<'log1p'>; sqrt: M<'sqrt'>; rsqrt: M<'rsqrt'>;
  sin: M<'sin'>; cos: M<'cos'>; tanh: M<'tanh'>; sigmoid: M<'sigmoid'>; relu: M<'relu'>; gelu: M<'gelu'>;
  silu: M<'silu'>; erf: M<'erf'>; floor: M<'floor'>; ceil: M<'ceil'>; round: M<'round'>; sign: M<'sign'>;
  reciprocal: M<'reciprocal'>; logicalNot: M<'logicalNot'>;
  add: M<'add'>; sub: M<'sub'>; mul: M<'mul'>; div: M<'div'>; pow: M<'pow'>; maximum: M<'maximum'>;
  minimum: M<'minimum'>; remainder: M<'remainder'>; atan2: M<'atan2'>; eq: M<'eq'>; ne: M<'ne'>; lt: M<'lt'>;
  le: M<'le'>; gt: M<'gt'>; ge: M<'ge'>; logicalAnd: M<'logicalAnd'>; logicalOr: M<'logicalOr'>; clamp: M<'clamp'>;
  // views
  reshape: M<'reshape'>; view: M<'view'>; permute: M<'permute'>; transpose: M<'transpose'>; expand: M<'expand'>;
  slice: M<'slice'>; narrow: M<'narrow'>; select: M<'select'>; squeeze: M<'squeeze'>; unsqueeze: M<'unsqueeze'>;
  flatten: M<'flatten'>; contiguous: M<'contiguous'>; clone: M<'clone'>;
  // joining, indexing, conversion
  split: M<'split'>; chunk: M<'chunk'>; indexSelect: M<'indexSelect'>; gather: M<'gather'>; maskedFill: M<'maskedFill'>;
  tril: M<'tril'>; triu: M<'triu'>; to: M<'to'> & ((device: Device) => Tensor); nonzero: M<'nonzero'>; item: M<'item'>;
  // in-place
  add_: M<'add_'>; sub_: M<'sub_'>; mul_: M<'mul_'>; div_: M<'div_'>; fill_: M<'fill_'>; copy_: M<'copy_'>;
  maskedFill_: M<'maskedFill_'>; clamp_: M<'clamp_'>; zero_: M<'zero_'>;
  // reductions, normalization, linalg
  sum: M<'sum'>; mean: M<'mean'>; prod: M<'prod'>; amax: M<'amax'>; amin: M<'amin'>; argmax: M<'argmax'>;
  argmin: M<'argmin'>; var: M<'var'>; std: M<'std'>; all: M<'all'>; any: M<'any'>; logsumexp: M<'logsumexp'>;
  cumsum: M<'cumsum'>; max: import('./ops/reductions.js').ReduceWithIndicesMethod;
  min: import('./ops/reductions.js').ReduceWithIndicesMethod; softmax: M<'softmax'>; logSoftmax: M<'logSoftmax'>;
  matmul: M<'matmul'>; scatterAdd: M<'scatterAdd'>;
  // autograd (installed by autograd/methods.ts)
  /** Computes the gradient of this tensor with respect to the graph's leaves and accumulates it into their `.grad`. */
  backward(gradient?: Tensor | null, options?: { retainGraph?: boolean; createGraph?: boolean }): void;
  /** A tensor over the same data with no history (shares storage and version counter, as a view). */
  detach(): Tensor;
  /** Marks a leaf as requiring grad (or not); returns the tensor. */
  requiresGrad_(requiresGrad?: boolean): Tensor;
  /** Makes `backward()` also fill `.grad` of this non-leaf tensor. */
  retainGrad(): Tensor;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Tensor implements TensorMetaLike {
  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
  ) {}

  /**
   * Where the elements live: the storage's device. A view over device bytes is on that device whoever
   * builds it, and a tensor whose storage moves to a device (a compiled webgpu call's in-place write into
   * its argument) is on that device from then on.
   */
  get device(): Device {
    return this.storage.device;
  }

  // Autograd state (autograd/). Plain fields, not one record, so the hot "does any input require grad" test
  // is two field loads.
  /** The node that computed this tensor (null for leaves): where `backward()` sends its gradient. */
  gradFn: GradNode | null = null;
  /** Which of `gradFn`'s outputs this tensor is. */
  outputNr = 0;
  /** The accumulated gradient, on leaves that require grad and on tensors that called `retainGrad()`. */
  grad: Tensor | null = null;
  /** A leaf created with `requiresGrad: true` or given `requiresGrad_()`. */
  leafRequiresGrad = false;
  retainsGrad = false;
  /** For a view: the op and tensor it was taken from, so an in-place write through it updates its base's history. */
  viewOf: ViewLink | null = null;

  /** True for leaves that require grad and for every tensor computed from one (while grad mode is on). */
  get requiresGrad(): boolean {
    return this.leafRequiresGrad || this.gradFn !== null;
  }

  set requiresGrad(value: boolean) {
    this.requiresGrad_(value);
  }

  /** A tensor that no op computed with history: user-created tensors, and everything made under `noGrad`. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * A new contiguous tensor that owns `data`: the array is not copied, so do not write to it afterwards
   * (and do not expect to see the tensor's later values in it: a compiled call may move the bytes into a
   * backend's memory). The same goes for a second tensor made over the same array: it stops seeing the
   * first one's writes once either moves. `tensor(values)` and `toTypedArray()` copy.
   */
  static fromData(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    checkFromData(data, shape, dtype);
    return new Tensor(new Storage(data, dtype), shape, contiguousStridesOf(shape), 0, dtype);
  }

  static empty(shape: readonly number[], dtype: DType): Tensor {
    return Tensor.fromData(allocate(dtype, shape.reduce((a, b) => a * b, 1)), shape, dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i]!;
    }
    return true;
  }

  /**
   * The elements in row-major order as a new typed array of the tensor's dtype. `{ dispose: true }` makes it
   * a consuming read, as jax-js's `dataSync()`: the tensor is disposed once read (see `dispose`), so a compiled
   * CPU call's output kept in wasm memory gives its block back at once, and one copied out of it is handed
   * over without a second copy: a loop of `fast(x).toTypedArray({ dispose: true })` allocates one array per
   * call, not two.
   */
  toTypedArray(options?: ReadOptions): TypedArray {
    if (options !== undefined) checkReadOptions(options);
    // a consuming read of a whole backend copy hands the copy itself out (Storage.take)
    const taken = options?.dispose === true && this.offset === 0 && this.isContiguous() && this.numel === this.storage.size ? this.storage.take() : undefined;
    if (taken) return taken;
    const out = valuesOf(this);
    if (options?.dispose === true) this.dispose();
    return out;
  }

  /**
   * Gives the tensor's bytes back now, as tfjs's `dispose()` does: a compiled CPU call's output kept in wasm
   * memory returns its block at once, so the next call writes into it instead of into fresh pages (in a
   * synchronous loop, `fast(x).toTypedArray()` then allocates once per call, not twice: backend-cpu README,
   * "What reading a result costs"). Views of the same storage are disposed with it; reading the tensor
   * afterwards throws DisposedTensorError. Optional: an undisposed tensor is freed when collected.
   */
  dispose(): void {
    this.storage.dispose();
  }

  /** Nested JS arrays (numbers, or booleans for `bool`); a 0-dim tensor gives its scalar. */
  toArray(): unknown {
    const flat = this.toTypedArray();
    const asValue = this.dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
    let i = 0;
    const build = (dim: number): unknown => {
      if (dim === this.ndim) return asValue(flat[i++]!);
      const out = new Array(this.shape[dim]);
      for (let k = 0; k < this.shape[dim]!; k++) out[k] = build(dim + 1);
      return out;
    };
    return build(0);
  }

  /** The elements in row-major order as a new typed array; for a device tensor, read back from the device. */
  async data(): Promise<TypedArray> {
    return this.device === 'cpu' ? this.toTypedArray() : deviceImpl(this.device).download(this);
  }

  /** Nested JS arrays (as `toArray()`), read back from the device if the tensor lives on one. */
  async array(): Promise<unknown> {
    return this.device === 'cpu' ? this.toArray() : (await this.cpu()).toArray();
  }

  /** This tensor on the CPU: itself when it is there already, else a copy read back from its device. */
  async cpu(): Promise<Tensor> {
    return this.device === 'cpu' ? this : Tensor.fromData(await this.data(), this.shape, this.dtype);
  }

  /**
   * This tensor on `device`: itself if it is there; a CPU tensor uploads synchronously. Reading a device
   * tensor back is asynchronous, so `to('cpu')` from a device raises and names `await t.cpu()`.
   */
  toDevice(device: Device): Tensor {
    if (device === this.device) return this;
    if (this.device !== 'cpu') {
      if (device === 'cpu') throw syncReadError(this.device, "to('cpu')");
      throw syncReadError(this.device, `to('${device}')`);
    }
    return deviceImpl(device).upload(this);
  }

  toString(): string {
    if (this.device !== 'cpu') return `Tensor(${shortName[this.dtype]}[${this.shape.join(', ')}], ${this.device}; await t.array() to read)`;
    const body = this.numel <= 64 ? JSON.stringify(this.toArray()) : `<${this.numel} elements>`;
    return `Tensor(${shortName[this.dtype]}[${this.shape.join(', ')}], ${body})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

setTensorPredicate((x) => x instanceof Tensor);

/** A tensor's elements in row-major order, as a new typed array (`toTypedArray`). */
function valuesOf(t: Tensor): TypedArray {
  const n = t.numel;
  const data = t.storage.data;
  if (t.isContiguous()) return copyElements(data, t.offset, t.offset + n);
  const out = allocate(t.dtype, n);
  forEachOffset(t, (offset, i) => {
    out[i] = data[offset]!;
  });
  return out;
}

/** Options of `toTypedArray`. */
export interface ReadOptions {
  /** Dispose the tensor once its values are read (a consuming read). Default false. */
  dispose?: boolean;
}

function checkReadOptions(options: unknown): void {
  const hint = 'e.g. t.toTypedArray({ dispose: true }) to dispose t once read, or t.toTypedArray()';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new KilnTypeError(`toTypedArray: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, hint);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'dispose') throw new KilnTypeError(`toTypedArray: unknown option '${key}' (the one option is dispose)`, hint);
  }
  const { dispose } = options as ReadOptions;
  if (dispose !== undefined && typeof dispose !== 'boolean') throw new KilnTypeError(`toTypedArray: option dispose must be true or false, got ${typeof dispose}`, hint);
}

/**
 * fromData is the boundary where outside bytes become a tensor: a short array would otherwise be read past
 * its end by compiled kernels (a RangeError deep in a compiled call, or garbage). O(ndim), so the kernels
 * that call it on every result do not notice.
 */
function checkFromData(data: TypedArray, shape: readonly number[], dtype: DType): void {
  if (!isDType(dtype)) throw new KilnTypeError(`Tensor.fromData: dtype must be one of ${DTYPES.join(', ')}, got ${String(dtype)}`);
  const expected = typedArrayOf[dtype];
  if (!(data instanceof expected)) {
    const got = data === null || typeof data !== 'object' ? String(data) : `a ${(data as object).constructor?.name ?? 'object'}`;
    throw new KilnTypeError(`Tensor.fromData: ${dtype} data must be a ${expected.name}, got ${got}`, `convert it first (new ${expected.name}(values)), or use tensor(values, { dtype })`);
  }
  if (!Array.isArray(shape)) throw new KilnTypeError(`Tensor.fromData: the shape must be an array of sizes, got ${String(shape)}`);
  let numel = 1;
  for (const size of shape) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ValueError(`Tensor.fromData: the shape ${fmtShape(shape)} has ${String(size)}, not a non-negative integer size`);
    }
    numel *= size;
  }
  if (data.length !== numel) {
    throw new ShapeError(
      `Tensor.fromData: shape ${fmtShape(shape)} has ${numel} elements but the ${expected.name} holds ${data.length}`,
      'pass exactly one value per element, in row-major order',
    );
  }
}

export function contiguousStridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  return strides;
}

/**
 * Calls `visit(storageOffset, flatIndex)` for every element in row-major order. Used by kernels that handle
 * arbitrary strides (broadcast strides are 0). An odometer over the indices avoids a division per element.
 */
export function forEachOffset(
  t: { shape: readonly number[]; strides: readonly number[]; offset: number },
  visit: (offset: number, i: number) => void,
): void {
  const { shape, strides } = t;
  const ndim = shape.length;
  let n = 1;
  for (const s of shape) n *= s;
  if (n === 0) return;
  const index = new Array<number>(ndim).fill(0);
  let offset = t.offset;
  for (let i = 0; i < n; i++) {
    visit(offset, i);
    for (let d = ndim - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) {
        offset += strides[d]!;
        break;
      }
      offset -= strides[d]! * (shape[d]! - 1);
      index[d] = 0;
    }
  }
}

/** Storage offsets of every element, row-major, for tensors viewed with `strides` at `shape`. */
export function elementOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  let n = 1;
  for (const s of shape) n *= s;
  const out = new Int32Array(n);
  forEachOffset({ shape, strides, offset }, (o, i) => {
    out[i] = o;
  });
  return out;
}

export function assertSingleElement(t: Tensor, op: string): void {
  if (t.numel !== 1) {
    throw new ValueError(
      `${op}: needs a tensor with exactly one element, got shape [${t.shape.join(', ')}] (${t.numel} elements)`,
      'reduce it first (e.g. .sum()) or select one element',
    );
  }
}

/** Every op without a decomposition (the core op set), by name: lowering tables are keyed by it. */
export type CoreOpName = { [K in keyof OpTable]: OpTable[K] extends { readonly opName?: infer N; readonly isCoreOp?: true } ? (N extends string ? N : never) : never }[keyof OpTable];
type MethodOpNames = { [K in keyof OpTable]: OpTable[K] extends { isMethod: true } ? K : never }[keyof OpTable];
type MissingMethods = Exclude<MethodOpNames, keyof Tensor>;
/** Compile-time check: every op marked `method: true` is declared on the Tensor interface above. */
export const methodsDeclared: [MissingMethods] extends [never] ? true : MissingMethods = true;
