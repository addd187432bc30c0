// Shared helpers of the tracer corpus: run a program compiled and eagerly on the same inputs, compare the
// results, and check how many graphs, eager fallbacks and recompiles the compiler produced.
import * as assert from 'uvu/assert';
import { Tensor } from '@kiln/tensor';
import { compileWith } from '../../src/compile.js';
import type { CompileOptions } from '../../src/compile.js';
import { CompileRecorder } from '../../src/explain.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inline } from '@kiln/policy';
export { captureLogs } from './logs.js';
// The corpus runs on the default backend, as users get it: with the CPU backend loaded, `auto` is `cpu`,
// so every program below goes through lowering, fusion and the generated wasm.
import '@kiln/backend-cpu';

// These programs live inside @kiln/core's folder, which the policy skips as Kiln's own internals: mark the
// test folder as user code, as a user's project would be.
inline(`${resolve(dirname(fileURLToPath(import.meta.url)), '..')}/**`);

export function assertSameValue(got: unknown, want: unknown, path = 'result'): void {
  if (want instanceof Tensor) {
    assert.ok(got instanceof Tensor, `${path}: expected a tensor, got ${String(got)}`);
    const g = got as Tensor;
    assert.equal(g.shape, want.shape, `${path}: shape`);
    assert.is(g.dtype, want.dtype, `${path}: dtype`);
    const flat = (t: Tensor): unknown[] => {
      const arr = t.toArray();
      return Array.isArray(arr) ? arr.flat(Infinity) : [arr];
    };
    const av = flat(g);
    const bv = flat(want);
    assert.is(av.length, bv.length, `${path}: numel`);
    av.forEach((x, i) => {
      const y = bv[i]!;
      const close = Object.is(x, y) || Math.abs(Number(x) - Number(y)) <= 1e-6 * Math.max(1, Math.abs(Number(y)));
      assert.ok(close, `${path}[${i}]: ${x} vs ${y}`);
    });
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: expected an array`);
    assert.is((got as unknown[]).length, want.length, `${path}: length`);
    want.forEach((w, i) => assertSameValue((got as unknown[])[i], w, `${path}[${i}]`));
    return;
  }
  if (want !== null && typeof want === 'object' && Object.getPrototypeOf(want) === Object.prototype) {
    assert.equal(Object.keys(got as object), Object.keys(want), `${path}: keys`);
    for (const [k, w] of Object.entries(want)) assertSameValue((got as Record<string, unknown>)[k], w, `${path}.${k}`);
    return;
  }
  if (want instanceof Map) {
    assert.ok(got instanceof Map, `${path}: expected a Map`);
    assert.equal([...(got as Map<unknown, unknown>).keys()], [...want.keys()], `${path}: keys`);
    for (const [key, w] of want) assertSameValue((got as Map<unknown, unknown>).get(key), w, `${path}.get(${String(key)})`);
    return;
  }
  if (want !== null && typeof want === 'object' && typeof got === 'object' && got !== null && want.constructor !== Object) {
    // A class instance: same class, same fields.
    assert.is(got.constructor, want.constructor, `${path}: class`);
    assert.equal(Object.keys(got).sort(), Object.keys(want).sort(), `${path}: fields`);
    for (const [key, w] of Object.entries(want)) assertSameValue((got as Record<string, unknown>)[key], w, `${path}.${key}`);
    return;
  }
  assert.ok(Object.is(got, want), `${path}: ${String(got)} vs ${String(want)}`);
}

export interface Expected {
  graphs?: number;
  fallbacks?: number;
  recompiles?: number;
  options?: CompileOptions;
}

/**
 * Every program `check` saw, in order: the WebGPU backend's tests import the graph-break corpus and replay
 * these on the GPU (asynchronous readback), so the programs live in one place.
 */
export const checkedCalls: { fn: (...args: any[]) => any; calls: readonly unknown[][]; expected: Expected }[] = [];

/** Calls the compiled and the eager function on each argument list; compares results and counts. */
export function check<F extends (...args: any[]) => any>(fn: F, calls: readonly unknown[][], expected: Expected = {}): CompileRecorder {
  checkedCalls.push({ fn, calls, expected });
  const recorder = new CompileRecorder();
  const compiled = compileWith(fn, expected.options ?? {}, recorder);
  for (const args of calls) {
    let want: unknown;
    let wantError: unknown;
    try {
      want = fn(...args);
    } catch (err) {
      wantError = err;
    }
    if (wantError) {
      assert.throws(() => compiled(...args), undefined, 'compiled code must raise where eager raises');
      continue;
    }
    assertSameValue(compiled(...args), want);
  }
  if (calls.length > 0 && recorder.entries.length > 0) {
    // The same inputs again must hit the cache: a retrace here means a guard is unstable.
    const before = recorder.entries.length;
    const args = calls[calls.length - 1]!;
    let want: unknown;
    try {
      want = fn(...args);
    } catch {
      want = undefined;
    }
    if (want !== undefined) assertSameValue(compiled(...args), want, 'result (cache hit)');
    assert.is(recorder.entries.length, before, 'repeating the last call must hit the cache');
  }
  const fallbacks = recorder.breaks.length;
  if (expected.graphs !== undefined) assert.is(recorder.graphCount, expected.graphs, `graphs (breaks: ${recorder.breaks.map((b) => b.reason).join('; ')})`);
  if (expected.fallbacks !== undefined) assert.is(fallbacks, expected.fallbacks, `fallbacks (${recorder.breaks.map((b) => b.reason).join('; ')})`);
  if (expected.recompiles !== undefined) assert.is(recorder.recompiles, expected.recompiles, 'recompiles');
  return recorder;
}

/** One graph, no fallback, no recompile. */
export const ONE_GRAPH: Expected = { graphs: 1, fallbacks: 0, recompiles: 0 };

