// Naive references and helpers shared by the tensor tests. Nothing here calls a kernel: references index
// plain JS arrays one element at a time, so they cannot share a bug with the strided kernels they check.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Tensor, tensor } from '@kiln/tensor';

/** PyTorch reference values written by fixtures/gen-torch-refs.py (NaN, ±Infinity and -0 as strings). */
export function torchRefs(): any {
  const text = readFileSync(new URL('../fixtures/torch-refs.json', import.meta.url), 'utf8');
  return JSON.parse(text, (_key, v) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === '-0' ? -0 : v,
  );
}

/** Equal as floats: NaN matches NaN, zeros must agree in sign, others within `rtol` (relative) or `atol`. */
export function closeTo(actual: number, expected: number, rtol = 0, atol = 0): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (expected === 0 && actual === 0) return Object.is(actual, expected);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

/** Fails with the first mismatching index, inputs included, so a failure reads on its own. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  { rtol = 0, atol = 0, inputs = [] as ArrayLike<number>[] } = {},
): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!closeTo(actual[i]!, expected[i]!, rtol, atol)) {
      const args = inputs.map((x) => Object.is(x[i], -0) ? '-0' : String(x[i])).join(', ');
      throw new Error(`${what}(${args}): got ${fmt(actual[i]!)}, expected ${fmt(expected[i]!)} (index ${i})`);
    }
  }
}
const fmt = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

export const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major multi-index of flat index `i`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

/** A logical array for references: a shape and a value at every multi-index. */
export interface RefArray {
  shape: number[];
  at(idx: readonly number[]): number;
}
export const refFromFlat = (flat: ArrayLike<number>, shape: number[]): RefArray => ({
  shape,
  at: (idx) => flat[ravel(idx, shape)]!,
});
export function refToFlat(r: RefArray): number[] {
  const n = numelOf(r.shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.at(unravel(i, r.shape));
  return out;
}

/** Broadcast shape by the NumPy rule, or null when the shapes do not broadcast. */
export function refBroadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}
/** `r` read at an index of the broadcast shape `shape`. */
export function refBroadcastAt(r: RefArray, shape: readonly number[], idx: readonly number[]): number {
  const lead = shape.length - r.shape.length;
  return r.at(r.shape.map((s, d) => (s === 1 ? 0 : idx[d + lead]!)));
}

/** How a test tensor is laid out in memory; the logical values are the same in every case. */
export type Layout = 'contiguous' | 'permuted' | 'strided';

/**
 * A tensor with logical shape `shape` and row-major values `flat`, laid out as asked: `permuted` stores it
 * with a permuted stride order, `strided` inside a larger buffer (every other element, non-zero offset).
 */
export function makeTensor(flat: readonly number[], shape: number[], layout: Layout, perm?: number[]): Tensor {
  if (layout === 'contiguous' || shape.length === 0) return tensor([...flat], { dtype: 'float64' }).reshape(shape);
  if (layout === 'permuted') {
    const p = perm ?? shape.map((_, i) => shape.length - 1 - i);
    const inv = p.map((_, i) => p.indexOf(i));
    const pshape = p.map((d) => shape[d]!);
    const ref = refFromFlat(flat, shape);
    const pflat = refToFlat({ shape: pshape, at: (idx) => ref.at(inv.map((d) => idx[d]!)) });
    return tensor(pflat, { dtype: 'float64' }).reshape(pshape).permute(inv);
  }
  const big = shape.map((s) => 2 * s + 1);
  const bigFlat = new Array<number>(numelOf(big)).fill(-999);
  for (let i = 0; i < flat.length; i++) bigFlat[ravel(unravel(i, shape).map((k) => 2 * k + 1), big)] = flat[i]!;
  let t = tensor(bigFlat, { dtype: 'float64' }).reshape(big);
  for (let d = 0; d < shape.length; d++) t = t.slice(d, 1, null, 2);
  return t;
}

/** Shapes of rank 0–4 with sizes 0–4 (size 0 and 1 come up often). */
export const shapeArb = (maxRank = 4, maxSize = 4) =>
  fc.array(fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 0, max: maxSize })), { maxLength: maxRank });
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'permuted', 'strided');
/** Distinct small integers as values, so a misplaced element always shows. */
export const valuesFor = (shape: readonly number[]) => Array.from({ length: numelOf(shape) }, (_, i) => i + 1);

export const FC_RUNS = { numRuns: 200 };

/**
 * Runs `fn`, which must throw an instance of `type` whose message matches every pattern; returns the error.
 * (uvu's `assert.throws` takes a predicate or a RegExp, not a class.)
 */
export function expectError<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: any[]) => E,
  ...patterns: (RegExp | string)[]
): E {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected a ${type.name}, but nothing was thrown`);
  if (!(thrown instanceof type)) {
    throw new Error(`expected a ${type.name}, got ${(thrown as Error)?.constructor?.name}: ${(thrown as Error)?.message}`);
  }
  for (const p of patterns) {
    const ok = typeof p === 'string' ? thrown.message.includes(p) : p.test(thrown.message);
    if (!ok) throw new Error(`${type.name} message ${JSON.stringify(thrown.message)} does not match ${String(p)}`);
  }
  return thrown;
}
