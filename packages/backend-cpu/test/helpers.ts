// Shared test plumbing: random buffers, running a kernel through wasm and the reference, comparing.
import * as assert from 'uvu/assert';
import { type Kernel, type LoopDType, type ReductionKernel, type SizeExpr, loop } from '@kiln/lower';
import { Arena, compileKernels, runOnArrays, type TypedArray } from '@kiln/backend-cpu';
import { runReference } from './reference.js';

let seed = 12345;
/** Deterministic PRNG so a failure reproduces. */
export function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
export const randInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

export function randomArray(dtype: LoopDType, n: number, lo = -3, hi = 3): TypedArray {
  if (dtype === 'float32') return Float32Array.from({ length: n }, () => lo + random() * (hi - lo));
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => randInt(-20, 20));
  return Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0));
}

export const sharedArena = new Arena();

export function allocLike(dtype: LoopDType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** Runs `kernel` in wasm and in the reference on the same inputs; returns both outputs per buffer. */
export function runBoth(
  kernel: Kernel,
  inputs: Record<string, TypedArray>,
  outputSizes: Record<string, number>,
  params: Record<string, number> = {},
  compiled = compileKernels([kernel], sharedArena).kernels.get(kernel.name)!,
): { got: Record<string, TypedArray>; want: Record<string, TypedArray> } {
  const dtype = (name: string) => kernel.outputs.find((b) => b.name === name)!.dtype;
  const got: Record<string, TypedArray> = {};
  const want: Record<string, TypedArray> = {};
  for (const [name, n] of Object.entries(outputSizes)) {
    got[name] = allocLike(dtype(name), n);
    want[name] = allocLike(dtype(name), n);
  }
  runOnArrays(compiled, sharedArena, { inputs, outputs: got, params });
  runReference(kernel, { buffers: { ...inputs, ...want }, params });
  return { got, want };
}

/** Relative + absolute tolerance comparison that treats NaN == NaN and names the first bad index. */
export function assertClose(got: TypedArray, want: TypedArray, rtol = 1e-5, atol = 1e-6, what = ''): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      assert.unreachable(`${what}: element ${i}: got ${g}, want ${w}`);
    }
  }
}

const { acc, contiguous, div, load, sub, unary } = loop;

/** softmax over the last axis as one kernel: max, sum of exp(x - max), then exp(x - max) / sum. */
export function softmaxKernel(rows: SizeExpr, cols: SizeExpr, params: string[] = []): ReductionKernel {
  const x = load('x', contiguous([rows, cols]));
  const shifted = unary('exp', sub(x, acc(0)));
  return {
    kind: 'reduction', name: 'softmax', params, inputs: [{ name: 'x', dtype: 'float32' }],
    outputs: [{ name: 'y', dtype: 'float32' }], outer: [rows], reduce: [cols],
    stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: shifted }],
    stores: [{ buffer: 'y', scope: 'full', access: contiguous([rows, cols]), value: div(shifted, acc(1)) }],
  };
}
