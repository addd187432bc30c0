// Shared by the op-lowering tests: trace a function once (symbolic sizes by default), run the compiled
// program on several input sets, compare every output with eager, and check that the named ops really
// lowered (no per-node fallback, no whole-graph interpreter), so a test cannot pass by falling back.
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';
import { randInt, random } from './helpers.js';

export interface CheckOptions {
  /** Relative tolerance for float outputs (default 1e-5). */
  readonly tol?: number;
  /** Trace with every input dim symbolic (default true), so later input sets reuse the program. */
  readonly dynamic?: boolean;
  /** Ops that must not appear among the program's fallbacks. */
  readonly lowered?: readonly string[];
}

type Fn = (...args: k.Tensor[]) => unknown;

const flatOutputs = (r: unknown): k.Tensor[] => (Array.isArray(r) ? (r as k.Tensor[]) : [r as k.Tensor]);

/** Compiles `fn` on `argSets[0]` and checks every input set against eager; returns the compiled report. */
export function checkAgainstEager(fn: Fn, argSets: readonly k.Tensor[][], opts: CheckOptions = {}) {
  const { coreGraph } = traceOps(fn, argSets[0]!, { dynamic: opts.dynamic ?? true });
  const compiled = compileGraphForCpu(coreGraph);
  assert.is(compiled.report.wholeGraphFallback, undefined, `whole graph fell back: ${compiled.report.wholeGraphFallback}`);
  for (const op of opts.lowered ?? []) {
    const hit = compiled.report.eagerSteps.find((f) => f.op === op);
    assert.not.ok(hit, `${op} fell back to eager: ${hit?.reason}\n${compiled.report.code}`);
  }
  for (const inputs of argSets) {
    const got = compiled.run(inputs) as k.Tensor[];
    const want = flatOutputs(fn(...inputs));
    assert.is(got.length, want.length, 'output count');
    want.forEach((w, i) => assertTensorClose(got[i]!, w, opts.tol ?? 1e-5, `output ${i} for shapes ${inputs.map((t) => `[${t.shape}]`).join(' ')}`));
  }
  return compiled.report;
}

export function assertTensorClose(got: k.Tensor, want: k.Tensor, tol: number, what: string): void {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.dtype, want.dtype, `${what}: dtype`);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `${what}: element ${i}: expected NaN, got ${x}`);
    else if (!Number.isFinite(y)) assert.is(x, y, `${what}: element ${i}`);
    else assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${what}: element ${i}: ${x} vs ${y}`);
  }
}

/** A random tensor of `dtype`: floats in [-3, 3), int32 in [-20, 20], bools half true. */
export function randomTensor(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): k.Tensor {
  if (dtype === 'float32') return k.randn(shape).mul(1.5);
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'int32') return k.Tensor.fromData(Int32Array.from({ length: n }, () => randInt(-20, 20)), shape, 'int32');
  return k.Tensor.fromData(Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)), shape, 'bool');
}

/** Random int32 indices in [0, size). */
export function randomIndices(shape: number[], size: number): k.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return k.Tensor.fromData(Int32Array.from({ length: n }, () => randInt(0, size - 1)), shape, 'int32');
}
