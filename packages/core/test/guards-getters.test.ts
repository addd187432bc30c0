// Issue #18 item 4: guards never run user code. A data property replaced by a getter (or an object replaced
// by a Proxy) after compiling fails its guard without being read; the call then runs the getter exactly as
// often as eager code does. Each test counts the getter's calls in compiled and eager runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const x = k.arange(0, 6).sub(2);

/** Calls `compiled` and `eager` `times` times each, checking results; returns the getter calls of each. */
function countReads(compiled: (t: Tensor) => Tensor, eager: (t: Tensor) => Tensor, counter: { reads: number }, times = 3): { compiled: number[]; eager: number } {
  const perCall: number[] = [];
  for (let i = 0; i < times; i++) {
    counter.reads = 0;
    const want = eager(x);
    const eagerReads = counter.reads;
    counter.reads = 0;
    assertSameValue(compiled(x), want);
    perCall.push(counter.reads);
    assert.is(counter.reads, eagerReads, `call ${i + 1}: the getter ran ${counter.reads}× compiled, ${eagerReads}× eager`);
  }
  counter.reads = 0;
  eager(x);
  return { compiled: perCall, eager: counter.reads };
}

const Getters = suite('guards: getters run as often as in eager code');

Getters('a data property replaced by a getter after compiling (issue repro)', () => {
  const o: { s: number } = { s: 2 };
  const run = (t: Tensor) => t.mul(o.s);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  const counter = { reads: 0 };
  Object.defineProperty(o, 's', { get: () => (counter.reads++, 3) });
  const counts = countReads(f, run, counter);
  assert.equal(counts.compiled, [1, 1, 1]);
});

Getters('a getter returning the value the guard expects still runs once per call', () => {
  const o: { s: number } = { s: 2 };
  const run = (t: Tensor) => t.mul(o.s);
  const f = compile(run);
  f(x);
  const counter = { reads: 0 };
  Object.defineProperty(o, 's', { get: () => (counter.reads++, 2) });
  assert.equal(countReads(f, run, counter).compiled, [1, 1, 1]);
});

Getters('a field of a class instance turned into a getter', () => {
  class Scale {
    factor = 2;
    apply(t: Tensor) {
      return t.mul(this.factor);
    }
  }
  const m = new Scale();
  const run = (t: Tensor) => m.apply(t);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  const counter = { reads: 0 };
  Object.defineProperty(m, 'factor', { get: () => (counter.reads++, 5) });
  assert.equal(countReads(f, run, counter).compiled, [1, 1, 1]);
});

Getters('a getter on a prototype that shadows nothing until it is added (Object.prototype)', () => {
  const cfg: { bias?: number } = {};
  const run = (t: Tensor) => t.add(cfg.bias ?? 0);
  const f = compile(run);
  assertSameValue(f(x), x);
  const counter = { reads: 0 };
  Object.defineProperty(Object.prototype, 'bias', { get: () => (counter.reads++, 1), configurable: true });
  try {
    assert.equal(countReads(f, run, counter).compiled, [1, 1, 1]);
  } finally {
    delete (Object.prototype as { bias?: number }).bias;
  }
  assertSameValue(f(x), x);
});

Getters('an array element turned into a getter', () => {
  const weights = [k.ones([6]), k.ones([6]).mul(2)];
  const run = (t: Tensor) => t.mul(weights[1]!);
  const f = compile(run);
  assertSameValue(f(x), x.mul(weights[1]!));
  const counter = { reads: 0 };
  const three = k.ones([6]).mul(3);
  Object.defineProperty(weights, 1, { get: () => (counter.reads++, three) });
  assert.equal(countReads(f, run, counter).compiled, [1, 1, 1]);
});

Getters('a setter-only accessor reads as undefined, as in eager code', () => {
  const o: { s?: number } = { s: 2 };
  const run = (t: Tensor) => t.mul(o.s ?? 4);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  let sets = 0;
  Object.defineProperty(o, 's', { set: () => void sets++ });
  assertSameValue(f(x), x.mul(4));
  assert.is(sets, 0);
});

Getters('a captured object replaced by a Proxy: its get trap runs as often as in eager code', () => {
  const counter = { reads: 0 };
  let cfg: { s: number } = { s: 2 };
  const run = (t: Tensor) => t.mul(cfg.s);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  cfg = new Proxy({ s: 3 }, { get: (target, key) => (counter.reads++, Reflect.get(target, key)) });
  assert.equal(countReads(f, run, counter).compiled, [1, 1, 1]);
});

Getters('a frozen object is read by its data properties (no recompile)', () => {
  const cfg = Object.freeze({ s: 2 });
  const rec = new CompileRecorder();
  const f = compileWith((t: Tensor) => t.mul(cfg.s), {}, rec);
  for (let i = 0; i < 3; i++) assertSameValue(f(x), x.mul(2));
  assert.is(rec.entries.length, 1, 'traced once, then cache hits');
});

Getters.run();
