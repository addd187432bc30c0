// Language fuzzer: random small programs over the language the tracer supports (fuzz/lang-programs.ts),
// compiled and run eagerly on the same call sequence — new shapes (recompiles, automatic dynamic), new
// integers (branches, early returns, throws), repeated calls (cache hits). Results, raised errors (class and
// message), the skipped calls in order (numbers printed from tensors within 1e-6 relative) and the outside
// state must match exactly. Fixed seed and a small count in CI; `pnpm fuzz language --runs N --seed S` long.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { programArb } from './fuzz/lang-programs.js';
import { fuzzProperty } from '../../../test-support/fuzz-settings.js';

const said: string[] = [];
const say = (...v: unknown[]): void => void said.push(v.map(String).join(' '));
skip(say);

interface World {
  fn: (a: Tensor, n: number, ids: Tensor) => unknown;
  state: { count: number; log: number[] };
}

function world(src: string): World {
  const state = { count: 0, log: [] as number[] };
  const cfg = { scale: 2, nested: { deep: { k: 3 } } };
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
  return { fn, state };
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

/** Numbers printed from tensors a compiled graph computed may differ in float32's last bits. */
function sameSaid(got: readonly string[], want: readonly string[]): boolean {
  const close = (x: string, y: string) => x === y || (Number.isFinite(Number(x)) && Number.isFinite(Number(y)) && x.trim() !== '' && Math.abs(Number(x) - Number(y)) <= 1e-6 * Math.max(1, Math.abs(Number(y))));
  return got.length === want.length && got.every((g, i) => g.split(' ').length === want[i]!.split(' ').length && g.split(' ').every((t, j) => close(t, want[i]!.split(' ')[j]!)));
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
    } else assertSameValue(got.value, want.value, `${where}: result`);
    assert.ok(sameSaid(said, saidEager), `${where}: skipped calls ${JSON.stringify(said)} vs eager ${JSON.stringify(saidEager)}`);
    assert.equal(comp.state, eager.state, `${where}: outside state`);
  }
}

const Lang = suite('language fuzzer: random programs compiled vs eager');

Lang('random programs over the traced language match eager', () => {
  fuzzProperty('language', fc.property(programArb, (src) => compareProgram(src)), { runs: 30, seed: 18 });
});

Lang.run();
