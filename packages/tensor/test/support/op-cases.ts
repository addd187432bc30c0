// PyTorch reference cases for reductions, normalization and linalg (fixtures/reduction-refs.json, written by
// fixtures/gen-reduction-refs.py), and helpers to run them on contiguous and strided inputs.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DType, Size, SymBoolLike, SymIntLike, Tensor as TensorType, TensorMetaLike } from '@kiln/tensor';
import { Storage, Tensor, eagerMetaContext, getOp, normalizeArgs, sizeMul } from '@kiln/tensor';
import { assertAllClose, numelOf, ravel, unravel } from './refs.js';

export interface TensorJson {
  shape: number[];
  dtype: DType;
  data: (number | boolean)[];
}
export interface RefCase {
  name: string;
  op: string;
  inputs: TensorJson[];
  args: Record<string, any>;
  out: TensorJson | { values: TensorJson; indices: TensorJson };
}

export function refCases(...ops: string[]): RefCase[] {
  const text = readFileSync(new URL('../fixtures/reduction-refs.json', import.meta.url), 'utf8');
  const all: RefCase[] = JSON.parse(text, (_key, v) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === '-0' ? -0 : v,
  ).cases;
  return all.filter((c) => ops.includes(c.op));
}

const ARRAYS = { bool: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array } as const;

/**
 * A tensor with the given logical values laid out column-major, every other element of a larger buffer, at
 * offset 1: non-contiguous, permuted and offset at once. Gaps hold -999 so a kernel that reads one shows.
 */
export function fromJson(j: TensorJson, layout: 'contiguous' | 'strided' = 'contiguous'): TensorType {
  const n = numelOf(j.shape);
  const values = j.data.map(Number);
  if (layout === 'contiguous') {
    const data = new ARRAYS[j.dtype](n);
    data.set(values);
    return Tensor.fromData(data, j.shape, j.dtype);
  }
  const strides: number[] = new Array(j.shape.length);
  let acc = 2;
  for (let d = 0; d < j.shape.length; d++) {
    strides[d] = acc;
    acc *= Math.max(1, j.shape[d]!);
  }
  const data = new ARRAYS[j.dtype](acc + 2).fill(j.dtype === 'bool' ? 1 : -999);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, j.shape);
    data[1 + idx.reduce((o, k, d) => o + k * strides[d]!, 0)] = values[i]!;
  }
  return new Tensor(new Storage(data, j.dtype), j.shape, strides, 1, j.dtype);
}

export const toleranceFor = (dtype: DType) => (dtype === 'float32' ? { rtol: 2e-6, atol: 1e-7 } : { rtol: 1e-12, atol: 1e-14 });

export function assertMatches(actual: TensorType, expected: TensorJson, what: string, tol = toleranceFor(expected.dtype)): void {
  if (actual.shape.join() !== expected.shape.join() || actual.dtype !== expected.dtype) {
    throw new Error(`${what}: got ${actual.dtype}[${actual.shape}], expected ${expected.dtype}[${expected.shape}]`);
  }
  assertAllClose(Array.from(actual.toTypedArray()), expected.data.map(Number), what, tol);
}

/** Calls a case's op the way a user would (positional arguments, then an options object). */
export function callCase(c: RefCase, inputs: TensorType[], mode: 'eager' | 'decompose' = 'eager'): unknown {
  const op = getOp(c.op)!;
  const a = c.args;
  const raw = ((): unknown[] => {
    switch (c.op) {
      case 'var': case 'std': return [inputs[0], a.dim, { correction: a.correction, keepdim: a.keepdim }];
      case 'max': case 'min': case 'argmax': case 'argmin': return 'dim' in a ? [inputs[0], a.dim, a.keepdim] : [inputs[0]];
      case 'cumsum': case 'softmax': case 'logSoftmax': return [inputs[0], a.dim];
      case 'layerNorm': return [inputs[0], a.normalizedShape, inputs[1] ?? null, inputs[2] ?? null, { eps: a.eps ?? 1e-5 }];
      case 'matmul': case 'linear': return inputs;
      default: return 'dim' in a ? [inputs[0], a.dim, a.keepdim] : [inputs[0]];
    }
  })();
  if (mode === 'eager') return op.fn(...raw);
  const args = normalizeArgs(op.name, op.schema, raw, (x) => x instanceof Tensor);
  return op.decompose!(args);
}

/** Checks one case, eagerly and (for composites) through its decomposition, on contiguous and strided inputs. */
export function checkCase(c: RefCase): void {
  const modes = getOp(c.op)!.decompose ? (['eager', 'decompose'] as const) : (['eager'] as const);
  for (const layout of ['contiguous', 'strided'] as const) {
    for (const mode of modes) {
      const what = `${c.name} (${layout}, ${mode})`;
      const result = callCase(c, c.inputs.map((j) => fromJson(j, layout)), mode) as any;
      if ('values' in c.out) {
        assertMatches(result.values, c.out.values, `${what} values`);
        assertMatches(result.indices, c.out.indices, `${what} indices`);
      } else {
        // A decomposition may round float32 intermediates where the fused kernel keeps float64.
        const tol = mode === 'decompose' && c.out.dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : toleranceFor(c.out.dtype);
        assertMatches(result, c.out, what, tol);
      }
    }
  }
}

export { ravel, unravel, numelOf };

/**
 * A symbolic size for meta-function tests: an expression and a hint. Comparisons return the hint's answer
 * and record `expr op other` in `guards`, as a shape environment would.
 */
export class Sym implements SymIntLike {
  readonly isSymInt = true as const;
  constructor(readonly expr: string, readonly hint: number, readonly guards: string[] = []) {}
  private other(o: Size): Sym {
    return typeof o === 'number' ? new Sym(String(o), o, this.guards) : (o as Sym);
  }
  private bin(op: string, o: Size, f: (a: number, b: number) => number): Sym {
    const b = this.other(o);
    return new Sym(`(${this.expr} ${op} ${b.expr})`, f(this.hint, b.hint), this.guards);
  }
  private cmp(op: string, o: Size, f: (a: number, b: number) => boolean): SymBoolLike {
    const text = `${this.expr} ${op} ${this.other(o).expr}`;
    const value = f(this.hint, this.other(o).hint);
    return { isSymBool: true, toString: () => text, guardBool: () => (this.guards.push(`${text}: ${value}`), value) };
  }
  add(o: Size) { return this.bin('+', o, (a, b) => a + b); }
  sub(o: Size) { return this.bin('-', o, (a, b) => a - b); }
  mul(o: Size) { return this.bin('*', o, (a, b) => a * b); }
  floorDiv(o: Size) { return this.bin('//', o, (a, b) => Math.floor(a / b)); }
  mod(o: Size) { return this.bin('%', o, (a, b) => a % b); }
  min(o: Size) { return this.bin('min', o, Math.min); }
  max(o: Size) { return this.bin('max', o, Math.max); }
  neg() { return new Sym(`-${this.expr}`, -this.hint, this.guards); }
  eq(o: Size) { return this.cmp('==', o, (a, b) => a === b); }
  ne(o: Size) { return this.cmp('!=', o, (a, b) => a !== b); }
  lt(o: Size) { return this.cmp('<', o, (a, b) => a < b); }
  le(o: Size) { return this.cmp('<=', o, (a, b) => a <= b); }
  gt(o: Size) { return this.cmp('>', o, (a, b) => a > b); }
  ge(o: Size) { return this.cmp('>=', o, (a, b) => a >= b); }
  toString() { return this.expr; }
}

/** Tensor metadata with (possibly symbolic) sizes and contiguous strides, for calling meta functions. */
export function metaOf(shape: Size[], dtype: DType = 'float32'): TensorMetaLike {
  const strides: Size[] = new Array(shape.length);
  let acc: Size = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc = sizeMul(acc, shape[i]!);
  }
  return { shape, strides, offset: 0, dtype, ndim: shape.length };
}

/** Runs op `name`'s meta function on normalized arguments (metadata in place of tensors). */
export const runMeta = (name: string, args: unknown[]) => getOp(name)!.meta!(args, eagerMetaContext) as any;
export const fmt = (shape: readonly Size[]) => `[${shape.map(String).join(', ')}]`;

/** One suite with a test per op, each checking every PyTorch reference case of that op (there must be some). */
export function runReferenceSuite(title: string, ops: readonly string[]): void {
  const reference = suite(title);
  for (const op of ops) {
    reference(op, () => {
      const cases = refCases(op);
      assert.ok(cases.length > 0, `no reference cases for ${op}`);
      for (const c of cases) checkCase(c);
    });
  }
  reference.run();
}
