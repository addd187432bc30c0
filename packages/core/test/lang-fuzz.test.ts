// Language fuzzer: random small programs over the language the tracer supports (fuzz/lang-programs.ts),
// compiled and run eagerly on the same call sequence — new shapes (recompiles, automatic dynamic), new
// integers (branches, early returns, throws), repeated calls (cache hits). Results, raised errors (class and
// message), the skipped calls in order (numbers printed from tensors within float32 rounding) and the outside
// state must match exactly. Fixed seed and a small count in CI; `pnpm fuzz language --runs N --seed S` long.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { Tensor as TensorClass } from '@kiln/tensor';
import './support/tracer.js'; // the CPU backend, and the test folder marked as user code
import { programArb } from './fuzz/lang-programs.js';
import { fuzzProperty } from '../../../test-support/fuzz-settings.js';

const said: string[] = [];
const say = (...v: unknown[]): void => void said.push(v.map(String).join(' '));
skip(say);

interface World {
  fn: (a: Tensor, n: number, ids: Tensor) => unknown;
  state: { count: number; log: number[]; map: Map<string, number> };
  cfg: Record<string, unknown>;
}

function world(src: string): World {
  const state = { count: 0, log: [] as number[], map: new Map<string, number>() };
  const cfg: Record<string, unknown> = { scale: 2, nested: { deep: { k: 3 } } };
  class Model {
    gain = 1.5;
    get offset() {
      return 0.25;
    }
    forward(t: Tensor) {
      return t.mul(this.gain).add(this.offset);
    }
  }
  const model = new Model();
  const fn = new Function('say', 'state', 'cfg', 'model', `return function f(a, n, ids) {\n  ${src}\n}`)(say, state, cfg, model) as World['fn'];
  return { fn, state, cfg };
}

const rows = (r: number) => k.arange(0, r * 4).reshape([r, 4]).div(7).sub(1);
/** New shapes, new integers and repeats: hits, recompiles (then dynamic sizes), other branches. */
const CALLS: [number, number][] = [[3, 1], [3, 1], [5, 1], [2, 0], [3, 4], [6, 2], [3, 1]];
const ids = k.tensor([1, 2, 4], { dtype: 'int32' });

function outcome(f: () => unknown): { value?: unknown; error?: Error } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Numbers printed from tensors a compiled graph computed may differ in float32's last bits (see assertClose). */
function sameSaid(got: readonly string[], want: readonly string[]): boolean {
  const close = (x: string, y: string) => x === y || (Number.isFinite(Number(x)) && Number.isFinite(Number(y)) && x.trim() !== '' && Math.abs(Number(x) - Number(y)) <= 1e-4 * Math.max(1, Math.abs(Number(y))));
  return got.length === want.length && got.every((g, i) => g.split(' ').length === want[i]!.split(' ').length && g.split(' ').every((t, j) => close(t, want[i]!.split(' ')[j]!)));
}

/**
 * Values compared as a user would: tensors by shape, dtype and elements within 1e-4 of the tensor's largest
 * magnitude. Programs chain doublings and subtractions, and compiled float32 sums round differently from
 * eager's (float64 inside): a sum that cancels large terms differs by a few float32 ulps of those terms (seed
 * 101 found 2.5714264 vs 2.5714340). A tracer bug — a stale value, a wrong branch — is off by far more.
 */
function assertClose(got: unknown, want: unknown, path: string): void {
  if (want instanceof TensorClass) {
    assert.ok(got instanceof TensorClass, `${path}: expected a tensor, got ${String(got)}`);
    assert.equal(got.shape, want.shape, `${path}: shape`);
    assert.is(got.dtype, want.dtype, `${path}: dtype`);
    const [g, w] = [Array.from(got.toTypedArray(), Number), Array.from(want.toTypedArray(), Number)];
    const scale = Math.max(1, ...w.map(Math.abs).filter(Number.isFinite));
    w.forEach((y, i) => assert.ok(Object.is(g[i], y) || Math.abs(g[i]! - y) <= 1e-4 * scale, `${path}[${i}]: ${g[i]} vs eager ${y}`));
  } else if (want !== null && typeof want === 'object') {
    assert.equal(Object.keys(got as object), Object.keys(want), `${path}: keys`);
    for (const [key, w] of Object.entries(want)) assertClose((got as Record<string, unknown>)[key], w, `${path}.${key}`);
  } else assert.ok(Object.is(got, want), `${path}: ${String(got)} vs eager ${String(want)}`);
}

/** Throws at the first difference between the compiled and the eager run of `src`. */
export function compareProgram(src: string): void {
  const eager = world(src);
  const comp = world(src);
  const rec = new CompileRecorder();
  const f = compileWith(comp.fn, {}, rec);
  for (const [call, [r, n]] of CALLS.entries()) {
    said.length = 0;
    const want = outcome(() => eager.fn(rows(r), n, ids));
    const saidEager = [...said];
    said.length = 0;
    const got = outcome(() => f(rows(r), n, ids));
    const where = `call ${call} (rows ${r}, n ${n})`;
    if (want.error || got.error) {
      assert.ok(want.error && got.error, `${where}: eager ${want.error ? `raised ${want.error.message}` : 'returned'}, compiled ${got.error ? `raised ${got.error.stack}` : 'returned'}`);
      assert.is(got.error!.constructor, want.error!.constructor, `${where}: error class`);
      assert.is(got.error!.message, want.error!.message, `${where}: error message`);
    } else assertClose(got.value, want.value, `${where}: result`);
    assert.ok(sameSaid(said, saidEager), `${where}: skipped calls ${JSON.stringify(said)} vs eager ${JSON.stringify(saidEager)}`);
    assert.equal({ ...comp.state, map: [...comp.state.map] }, { ...eager.state, map: [...eager.state.map] }, `${where}: outside state`);
    assert.equal(comp.cfg, eager.cfg, `${where}: outside object`);
  }
}

const Lang = suite('language fuzzer: random programs compiled vs eager');

Lang('random programs over the traced language match eager', () => {
  fuzzProperty('language', fc.property(programArb, (src) => compareProgram(src)), { runs: 30, seed: 18 });
});

Lang.run();
