import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { FullGraphError } from '../src/trace/errors.js';
import { assertSameValue, check } from './support/tracer.js';

const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
/** 1-based line of the first source line containing `snippet` (after this helper). */
const lineOf = (snippet: string): number => SOURCE.findIndex((l, i) => i > 20 && l.includes(snippet)) + 1;

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const FALLBACK = { graphs: 0, fallbacks: 1 };
const outside: number[] = [];
const seen = new Set<number>();
const state = { calls: 0, w: k.ones([4]) };

// Breaks at top-level statements now split the frame (see breaks-*.test.ts); what stays a whole-frame
// fallback is asserted here.
const Breaks = suite('tracer: graph breaks');
const RESUMED = (graphs: number) => ({ graphs, fallbacks: 1 });

Breaks('data-dependent control flow (item)', () => {
  const rec = check((a: Tensor) => {
    if ((a.sum().item() as number) > 0) return a.exp();
    return a.neg();
  }, [[x], [x.neg()]], RESUMED(2));
  assert.match(rec.breaks[0]!.reason, /item/);
  assert.is(rec.breaks[0]!.location, `tracer-breaks.test.ts:${lineOf('a.sum().item()')}`);
});

Breaks('console.log is skipped by the policy', () => {
  const rec = check((a: Tensor) => {
    const h = a.relu();
    console.log.name;
    if (a.ndim > 5) console.log('big');
    return h;
  }, [[x]], { graphs: 1, fallbacks: 0 });
  assert.is(rec.breaks.length, 0);
});

Breaks('a skipped call breaks with the user line', () => {
  const rec = check((a: Tensor) => {
    const h = a.relu();
    JSON.stringify({});
    return h;
  }, [[x]], RESUMED(1));
  assert.match(rec.breaks[0]!.reason, /stringify/);
  assert.is(rec.breaks[0]!.location, `tracer-breaks.test.ts:${lineOf('JSON.stringify({})')}`);
});

Breaks('reading tensor values', () => {
  check((a: Tensor) => a.add(1).toArray(), [[x]], FALLBACK);
});

Breaks('throw falls back (and eager raises the same error)', () => {
  check((a: Tensor, n: number) => {
    if (n > 1) throw new Error('too big');
    return a.mul(n);
  }, [[x, 2]], { graphs: 0, fallbacks: 2 }); // the if's test runs eagerly; the then-branch resume throws eagerly
});

Breaks('mutation of an outside array', () => {
  const rec = new CompileRecorder();
  const f = compileWith((a: Tensor) => {
    outside.push(1);
    return a.mul(2);
  }, {}, rec);
  assertSameValue(f(x), x.mul(2));
  assert.equal(outside, [1], 'the push happens exactly once (replayed after the graph)');
  assert.is(rec.graphCount, 1);
  assert.is(rec.breaks.length, 0);
  outside.length = 0;
});

Breaks('mutation of an outside Set (replayed)', () => {
  check((a: Tensor) => {
    seen.add(1);
    return a.mul(2);
  }, [[x]], { graphs: 1, fallbacks: 0 });
  assert.ok(seen.has(1));
});

Breaks('mutation of an outside object field (replayed)', () => {
  check((a: Tensor) => {
    state.calls = 1;
    return a.mul(state.w);
  }, [[x]], { graphs: 1, fallbacks: 0 });
  assert.is(state.calls, 1);
});

Breaks('in-place tensor ops are functionalized (breaks-effects tests the writes)', () => {
  check((a: Tensor) => a.clone().add_(1), [[x]], { graphs: 1, fallbacks: 0 });
});

Breaks('try/catch is unsupported syntax', () => {
  check((a: Tensor) => {
    try {
      return a.exp();
    } catch {
      return a;
    }
  }, [[x]], FALLBACK);
});

Breaks('JS operators on tensors', () => {
  check((a: Tensor) => (a as unknown as number) + 1, [[x]], FALLBACK);
});

Breaks('async functions and generators are skipped', () => {
  const recA = check(async (a: Tensor) => a.exp(), [], {});
  void recA;
  const compiled = compile(async (a: Tensor) => a.exp());
  const p = compiled(x);
  assert.ok(p instanceof Promise);
  const gen = compile(function* (a: Tensor) {
    yield a.exp();
  });
  const it = gen(x);
  assert.is(typeof it.next, 'function');
});

Breaks('calling an async helper from traced code breaks', () => {
  const helper = async (t: Tensor) => t;
  check((a: Tensor) => {
    void helper(a);
    return a.exp();
  }, [[x]], RESUMED(1));
});

Breaks('a fallback is cached under its guards (no retrace)', () => {
  const rec = check((a: Tensor) => {
    JSON.stringify(1);
    return a.exp();
  }, [[x], [x], [x]], RESUMED(1));
  assert.equal(rec.entries.map((e) => e.entry.kind), ['split', 'graph'], 'one split entry and one resume entry, no retrace');
});

Breaks('fullgraph: true raises with the reason and source line', () => {
  const f = compile((a: Tensor) => {
    const h = a.exp();
    JSON.stringify(h.ndim);
    return h;
  }, { fullgraph: true });
  try {
    f(x);
    assert.unreachable('should raise');
  } catch (err) {
    assert.instance(err, FullGraphError);
    assert.match((err as Error).message, /stringify/);
    assert.match((err as Error).message, /tracer-breaks\.test\.ts:\d+/);
  }
});

Breaks('fullgraph: true on a capturable function is fine', () => {
  const f = compile((a: Tensor) => a.exp(), { fullgraph: true });
  assert.equal(f(x).shape, [3, 4]);
});

Breaks('infinite trace-time loops are cut off', () => {
  check((a: Tensor, n: number) => {
    let h = a;
    let i = 0;
    while (n > 0 && i < 1e9) i++;
    return h.add(i);
  }, [[x, 0]], { graphs: 1 });
});

Breaks.run();
