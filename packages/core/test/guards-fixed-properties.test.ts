// Guards skip the per-call getter check (`isDataRead`, one native lookup each) where no getter can ever
// appear: an export of a module namespace, a non-configurable field of an object pinned by identity (frozen
// or sealed). Module-style code was mostly these checks (≈ 35 → 480 ns a guard check); the values are still
// guarded, so a live binding that changes is seen, and objects that can gain getters keep their checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import * as config from './fixtures/guard-module/config.js';

const x = k.arange(0, 6).sub(2);
const Fixed = suite('guards: no getter check where no getter can appear');

function compiled<F extends (...a: any[]) => any>(fn: F): { f: F; rec: CompileRecorder; source: () => string } {
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  return { f, rec, source: () => rec.entries.map((e) => e.entry.guardSource).join('\n') };
}

Fixed('a module namespace: its exports are read without getter checks; a changed live binding recompiles', () => {
  const run = (t: Tensor) => config.activation(t.mul(config.scale).add(config.shift));
  const { f, rec, source } = compiled(run);
  assertSameValue(f(x), run(x));
  assert.not.match(source(), /isDataRead/, source());
  assert.match(source(), /Object\.is\([CK]\[\d+\]\.scale, /, 'the value is still guarded');
  config.setScale(5);
  try {
    assertSameValue(f(x), x.mul(5).add(1).relu());
    assert.is(rec.entries.length, 2, 'the new value recompiled');
  } finally {
    config.setScale(2);
  }
  assertSameValue(f(x), x.mul(2).add(1).relu());
});

Fixed('a namespace captured in a variable is pinned by identity, not by its null prototype', () => {
  const ns = config;
  const run = (t: Tensor) => t.mul(ns.shift);
  const { f, source } = compiled(run);
  assertSameValue(f(x), run(x));
  assert.not.match(source(), /isDataRead/, source());
  assert.match(source(), /=== K\[\d+\]/, 'the namespace is guarded by identity');
});

Fixed('a frozen object captured by identity: no getter checks; a field of a plain object keeps its check', () => {
  class Layer {
    constructor(readonly cfg: { scale: number }) {}
  }
  const frozen = new Layer(Object.freeze({ scale: 3 }));
  Object.freeze(frozen);
  const open = { scale: 3 };
  const { f, source } = compiled((t: Tensor) => t.mul(frozen.cfg.scale).add(open.scale));
  assertSameValue(f(x), x.mul(3).add(3));
  const text = source();
  assert.not.match(text, /isDataRead\([^)]*"cfg"\)/, text);
  assert.match(text, /isDataRead\([^)]*"scale"\)/, 'the plain object (type-guarded, any object may come) keeps its check');
});

Fixed('a getter installed on a still-configurable field after compiling is never run by the guard', () => {
  const o = Object.seal({ s: 2 }); // sealed: non-configurable, so never a getter
  const p: { s: number } = { s: 2 };
  const run = (t: Tensor) => t.mul(o.s).add(p.s);
  const { f } = compiled(run);
  assertSameValue(f(x), run(x));
  let reads = 0;
  Object.defineProperty(p, 's', { get: () => (reads++, 4) });
  assert.throws(() => Object.defineProperty(o, 's', { get: () => 0 }), TypeError);
  assertSameValue(f(x), x.mul(2).add(4));
  assert.is(reads, 1, 'once, as eager code reads it');
});

Fixed.run();
