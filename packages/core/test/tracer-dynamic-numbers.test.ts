import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { events, log } from './support/effects.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);

/** Calls the compiled and the eager program `times` times on fresh state each; compares results and state. */
function run<S>(make: () => { state: S; fn: (...a: any[]) => unknown }, args: (i: number) => unknown[], times = 20): { rec: CompileRecorder; state: S } {
  const eager = make();
  const compiled = make();
  const rec = new CompileRecorder();
  const f = compileWith(compiled.fn, {}, rec);
  events.length = 0;
  const want = Array.from({ length: times }, (_, i) => eager.fn(...args(i)));
  const eagerEvents = [...events];
  events.length = 0;
  const got = Array.from({ length: times }, (_, i) => f(...args(i)));
  assertSameValue(got, want);
  assert.equal(compiled.state, eager.state, 'state');
  assert.equal(events, eagerEvents, 'eager statements saw the same values');
  return { rec, state: compiled.state };
}

const noFallback = (rec: CompileRecorder): void => {
  assert.ok(rec.entries.every((e) => e.entry.kind !== 'eager'), 'no eager fallback');
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
};

const Counters = suite('automatic dynamic numbers: a number that changed is read at run time');

Counters('obj.count += 1 on an outside object, 20 calls: at most two compiles, correct values', () => {
  const { rec, state } = run(() => {
    const state = { counter: { count: 0 } };
    const counter = state.counter;
    return { state, fn: (a: Tensor) => {
      counter.count += 1;
      return a.mul(2);
    } };
  }, () => [x]);
  assert.is(state.counter.count, 20);
  assert.ok(rec.entries.length <= 2, `${rec.entries.length} compiles`);
  noFallback(rec);
  assert.match(rec.entries[1]!.entry.guards.map((g) => g.text).join('\n'), /counter\.count is a number \(automatic dynamic/);
});

Counters('this.steps++ on a model, the old value returned and derived values stored', () => {
  class Trainer {
    steps = 0;
    lr = 0.5;
    last = 0;
    step(a: Tensor): unknown {
      const before = this.steps++;
      this.last = before * this.lr - 1 / (this.steps + 1);
      return { out: a.exp(), before, neg: -this.steps };
    }
  }
  const { rec } = run(() => {
    const state = new Trainer();
    return { state, fn: (a: Tensor) => state.step(a) };
  }, () => [x]);
  assert.ok(rec.entries.length <= 2, `${rec.entries.length} compiles`);
  noFallback(rec);
});

Counters('float accumulators stay bit-identical to eager', () => {
  const { rec } = run(() => {
    const state = { acc: { total: 0.1, scale: 3 } };
    return { state, fn: (a: Tensor) => {
      state.acc.total = (state.acc.total + 0.1) * 1.5 % 97;
      return a.sum();
    } };
  }, () => [x]);
  assert.ok(rec.entries.length <= 2);
});

Counters('a number argument that changes every call is read at run time when only stored or returned', () => {
  const { rec } = run(() => {
    const state = { seen: { last: -1 } };
    return { state, fn: (a: Tensor, step: number) => {
      state.seen.last = step;
      return [a.neg(), step + 1];
    } };
  }, (i) => [x, i]);
  assert.ok(rec.entries.length <= 2, `${rec.entries.length} compiles`);
  noFallback(rec);
});

Counters('a counter crossing a graph break: the eager statement sees the replayed value', () => {
  const { rec } = run(() => {
    const state = { counter: { n: 10 } };
    return { state, fn: (a: Tensor) => {
      state.counter.n -= 1;
      const n = state.counter.n;
      log(`n is ${state.counter.n}`);
      return a.mul(2).sum().add(n > 0 ? 1 : 0);
    } };
  }, () => [x], 12);
  assert.ok(rec.entries.filter((e) => e.entry.kind === 'split').length <= 2, 'the root compiles at most twice');
});

Counters('a runtime number that a tensor op, a branch or a string needs is specialized (guarded): correct, recompiles', () => {
  const { rec } = run(() => {
    const state = { c: { step: 0 } };
    return { state, fn: (a: Tensor) => {
      state.c.step += 1;
      const scaled = a.mul(state.c.step);
      return state.c.step % 2 === 0 ? [scaled, `${state.c.step}`] : [scaled.neg(), 'odd'];
    } };
  }, () => [x], 6);
  assert.ok(rec.entries.length > 2, 'each value is its own entry: the value is a constant of the graph');
});

Counters('Number(lr) of a changing float passes the runtime number through: no more compiles than lr alone, results as eager', () => {
  // A decaying learning rate, 8 calls (the recompile limit): each compile counted, each result compared with eager.
  const compiles = (fn: (a: Tensor, lr: number) => unknown): number => run(() => ({ state: {}, fn }), (i) => [x, 0.3 * 0.93 ** i], 8).rec.entries.length;
  const plain = compiles((a, lr) => a.mul(lr));
  assert.ok(plain <= 2, `${plain} compiles of a.mul(lr)`);
  const viaNumber = compiles((a, lr) => a.mul(Number(lr)));
  assert.ok(viaNumber <= plain, `${viaNumber} compiles of a.mul(Number(lr)), ${plain} of a.mul(lr)`);
  const combined = compiles((a, lr) => [a.mul(Number(lr * 2)).add(Number(lr)), Number(lr) / 4]);
  assert.ok(combined <= plain, `${combined} compiles with Number() of a runtime expression, returned too`);
  // Unary plus was already an identity on runtime numbers.
  assert.ok(compiles((a, lr) => a.mul(+lr)) <= plain, 'a.mul(+lr)');
});

Counters('Number() of a dynamic size is the size itself: one compile for every size, as eager', () => {
  const rec = new CompileRecorder();
  const fn = (a: Tensor) => a.reshape([Number(a.shape[0]), -1]).sum(1).div(Number(a.shape[1]));
  const f = compileWith(fn, { dynamic: true }, rec);
  for (const rows of [2, 3, 4, 5, 6]) {
    const a = k.arange(0, rows * 4).reshape([rows, 4]).div(3);
    assertSameValue(f(a), fn(a));
  }
  assert.is(rec.entries.length, 1, rec.entries.map((e) => e.reason).join('; '));
});

Counters('dynamic: false keeps numbers specialized', () => {
  const counter = { count: 0 };
  const rec = new CompileRecorder();
  const f = compileWith((a: Tensor) => {
    counter.count += 1;
    return a;
  }, { dynamic: false, recompileLimit: 4 }, rec);
  for (let i = 0; i < 6; i++) f(x);
  assert.is(counter.count, 6);
  assert.is(rec.entries.length, 4);
});

Counters.run();
