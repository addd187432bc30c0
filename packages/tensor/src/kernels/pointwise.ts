import type { DType, TypedArray } from '../dtype.js';
import { allocate, castScalar } from '../dtype.js';
import { Tensor, elementOffsets } from '../tensor.js';

/** A tensor operand or a JS scalar, as pointwise kernels accept them. */
export type Operand = Tensor | number | boolean;

/** Strides that read `t` as if expanded to `shape` (0 where broadcast). */
export function broadcastStridesTo(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.ndim;
  return shape.map((size, i) => {
    if (i < lead) return 0;
    const s = t.shape[i - lead]!;
    return s === 1 && size !== 1 ? 0 : t.strides[i - lead]!;
  });
}

/**
 * A reader for one operand over the output's elements, in row-major order. Contiguous same-shape tensors
 * read their storage directly; anything else (broadcast, strided) goes through precomputed offsets.
 */
function reader(x: Operand, shape: readonly number[], numel: number): (i: number) => number {
  if (!(x instanceof Tensor)) {
    const v = Number(x);
    return () => v;
  }
  const data = x.storage.data;
  const sameShape = x.ndim === shape.length && x.shape.every((s, i) => s === shape[i]);
  if (sameShape && x.isContiguous()) {
    const base = x.offset;
    return (i) => data[base + i]!;
  }
  if (x.numel === 1) {
    const v = data[x.offset]!;
    return () => v;
  }
  const offsets = elementOffsets(shape, broadcastStridesTo(x, shape), x.offset);
  void numel;
  return (i) => data[offsets[i]!]!;
}

/**
 * Element loops specialized per op function. The generic loops below call every op's `f`, and a reader
 * closure per operand, through shared call sites that V8 cannot inline (≈ 20 ns per element); a copy of the
 * loop made for one `f` (its own `new Function`, so its own type feedback) inlines it. Made once per op at
 * definition time — never for a closure made per call — and each variant on first use. The generated text is
 * fixed: `f` is an argument.
 *
 * An operand is read either contiguously from `base` (`c`) or through an offset per element (`g`, for
 * broadcast and strided views), or is a scalar (`s`).
 */
export class SpecializedLoops {
  private readonly variants = new Map<string, Function>();
  private readonly serial = loopSerial++;

  constructor(private readonly f: Function) {}

  /** The loop for operand kinds `kinds` (one letter per operand: c, g or s). */
  loop(kinds: string): Function {
    let loop = this.variants.get(kinds);
    if (!loop) this.variants.set(kinds, (loop = this.make(kinds)));
    return loop;
  }

  private make(kinds: string): Function {
    const names = [...kinds].map((_, i) => `x${i}`);
    const params = names.flatMap((x, i) => (kinds[i] === 's' ? [x] : [x, `${x}o`]));
    const read = names.map((x, i) => (kinds[i] === 'c' ? `${x}[${x}o + i]` : kinds[i] === 'g' ? `${x}[${x}o[i]]` : x));
    // The serial makes every source text unique: V8 caches `new Function` by its text, and copies sharing one
    // compiled function would share its type feedback, which is what this is here to avoid.
    const source = `return function loop${this.serial}_${kinds}(${params.join(', ')}, out, n) { for (let i = 0; i < n; i++) out[i] = f(${read.join(', ')}); };`;
    return new Function('f', source)(this.f) as Function;
  }
}

let loopSerial = 0;

/** An operand's reading as loop arguments, or undefined when it needs the generic path (float32 rounding). */
export function operandArgs(x: Operand, shape: readonly number[], computeDtype: DType): { kind: string; args: unknown[] } | undefined {
  if (!(x instanceof Tensor)) return { kind: 's', args: [Number(castOperand(x, computeDtype))] };
  // int32 and float64 operands of a float32 computation are rounded to float32 first (inComputeDtype)
  if (computeDtype === 'float32' && x.dtype !== 'float32' && x.dtype !== 'bool') return undefined;
  const data = x.storage.data;
  if (x.ndim === shape.length && x.shape.every((s, i) => s === shape[i]) && x.isContiguous()) return { kind: 'c', args: [data, x.offset] };
  return { kind: 'g', args: [data, elementOffsets(shape, broadcastStridesTo(x, shape), x.offset)] };
}

/** Casts an operand's value into the op's computation dtype, e.g. int inputs of a float op. */
function storeInto(dtype: DType): (v: number) => number {
  return dtype === 'bool' ? (v) => (v !== 0 && !Number.isNaN(v) ? 1 : 0) : (v) => v;
}

export function mapUnary(x: Tensor, outDtype: DType, f: (v: number) => number, loops?: SpecializedLoops): Tensor {
  const n = x.numel;
  const out = allocate(outDtype, n);
  // bool outputs go through `store` (nonzero → 1); everything else stores f's value as the array rounds it
  if (loops && outDtype !== 'bool' && n > 0) {
    const { kind, args } = operandArgs(x, x.shape, x.dtype)!;
    loops.loop(kind)(...args, out, n);
    return Tensor.fromData(out, x.shape, outDtype);
  }
  const read = reader(x, x.shape, n);
  const store = storeInto(outDtype);
  for (let i = 0; i < n; i++) out[i] = store(f(read(i)));
  return Tensor.fromData(out, x.shape, outDtype);
}

export function mapBinary(
  a: Operand,
  b: Operand,
  shape: readonly number[],
  outDtype: DType,
  computeDtype: DType,
  f: (x: number, y: number) => number,
  loops?: SpecializedLoops,
): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  const out = allocate(outDtype, n);
  if (loops && outDtype !== 'bool' && n > 0) {
    const ra = operandArgs(a, shape, computeDtype);
    const rb = operandArgs(b, shape, computeDtype);
    if (ra && rb && ra.kind + rb.kind !== 'ss') {
      loops.loop(ra.kind + rb.kind)(...ra.args, ...rb.args, out, n);
      return Tensor.fromData(out, shape, outDtype);
    }
  }
  const readA = inComputeDtype(a, computeDtype, reader(castOperand(a, computeDtype), shape, n));
  const readB = inComputeDtype(b, computeDtype, reader(castOperand(b, computeDtype), shape, n));
  const store = storeInto(outDtype);
  for (let i = 0; i < n; i++) out[i] = store(f(readA(i), readB(i)));
  return Tensor.fromData(out, shape, outDtype);
}

export function mapTernary(
  a: Operand,
  b: Operand,
  c: Operand,
  shape: readonly number[],
  outDtype: DType,
  f: (x: number, y: number, z: number) => number,
): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  const out = allocate(outDtype, n);
  const ra = reader(a, shape, n);
  const rb = reader(castOperand(b, outDtype), shape, n);
  const rc = reader(castOperand(c, outDtype), shape, n);
  for (let i = 0; i < n; i++) out[i] = f(ra(i), rb(i), rc(i));
  return Tensor.fromData(out, shape, outDtype);
}

/** Any number of operands broadcast to `shape`, one `f` call per element through readers (bool outputs become 0/1). */
export function mapGeneric(operands: readonly Operand[], shape: readonly number[], outDtype: DType, f: Function): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  const out = allocate(outDtype, n);
  const reads = operands.map((o) => reader(o, shape, n));
  const store = storeInto(outDtype);
  const values = new Array<number>(operands.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < reads.length; j++) values[j] = reads[j]!(i);
    out[i] = store(f(...values));
  }
  return Tensor.fromData(out, shape, outDtype);
}

/**
 * Tensor operands are converted to a float32 computation dtype before the op, as PyTorch does: an int32
 * above 2^24 or a float64 0-dim operand would otherwise take part with more precision than float32 has, and
 * `f32.eq(f64 0-dim 0.1)` would be false. (float64 and int32 computations read every dtype exactly.)
 */
function inComputeDtype(x: Operand, computeDtype: DType, read: (i: number) => number): (i: number) => number {
  if (computeDtype !== 'float32' || !(x instanceof Tensor) || x.dtype === 'float32' || x.dtype === 'bool') return read;
  return (i) => Math.fround(read(i));
}

/**
 * Scalars take the computation dtype before the op runs (1.5 added to an int tensor is computed as float;
 * true added to a float tensor is 1). Tensors are read as stored; the typed array rounds on store.
 */
function castOperand(x: Operand, dtype: DType): Operand {
  if (x instanceof Tensor) return x;
  return castScalar(x, dtype);
}
