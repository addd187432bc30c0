import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { log, sameEffects } from './support/effects.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const Effects = suite('side effects on outside values are replayed');

Effects('arr.push(t) with a value the graph computed', () => {
  const { rec } = sameEffects(() => {
    const state = { out: [] as Tensor[] };
    const arr = state.out;
    return { state, fn: (a: Tensor) => (arr.push(a.exp()), a.neg()) };
  }, [x]);
  assert.is(rec.graphCount, 1);
  assert.is(rec.breaks.length, 0);
});

Effects('obj.count += 1, this.cache = t, map.set, set.add, delete obj.p', () => {
  const { rec, state } = sameEffects(() => {
    const state = { counter: { count: 0, stale: 1 } as Record<string, number>, map: new Map<string, Tensor>(), tags: new Set<string>(), model: { cache: undefined as Tensor | undefined } };
    const fn = function (this: unknown, a: Tensor) {
      const h = a.mul(2);
      state.counter.count! += 1;
      delete state.counter.stale;
      state.model.cache = h;
      state.map.set('h', h.add(1));
      state.tags.add('seen');
      return h.sum();
    };
    return { state, fn };
  }, [x], 1);
  assert.is(state.counter.count, 1);
  assert.ok(!('stale' in state.counter));
  assert.is(rec.graphCount, 1);
});

Effects('a read after a write in the same frame sees the written value', () => {
  sameEffects(() => {
    const state = { model: { scale: 2 } as { scale: number; last?: Tensor } };
    const m = state.model;
    return { state, fn: (a: Tensor) => {
      m.last = a.exp();
      return m.last.mul(m.scale);
    } };
  }, [x]);
});

Effects('ordering: replayed effects happen before the eager statement that follows them', () => {
  const { rec } = sameEffects(() => {
    const state = { trail: [] as string[] };
    const trail = state.trail;
    return { state, fn: (a: Tensor) => {
      trail.push('before');
      const h = a.exp();
      log(`trail has ${trail.length}`);
      trail.push('after');
      return h;
    } };
  }, [x]);
  assert.is(rec.breaks.length, 1);
});

Effects('effects are never applied when the frame throws before reaching them', () => {
  const make = () => {
    const state = { out: [] as Tensor[] };
    return { state, fn: (a: Tensor, n: number) => {
      const h = a.exp();
      if (n > 1) throw new RangeError('too big');
      state.out.push(h);
      return h;
    } };
  };
  const eager = make();
  const compiled = make();
  const f = compileWith(compiled.fn, {}, new CompileRecorder());
  f(x, 1);
  eager.fn(x, 1);
  assert.throws(() => f(x, 2), RangeError);
  assert.throws(() => eager.fn(x, 2), RangeError);
  f(x, 1);
  eager.fn(x, 1);
  assert.is(compiled.state.out.length, 2);
  assertSameValue(compiled.state.out, eager.state.out);
});

Effects('effects before a throw are applied, as eager applies them', () => {
  const outs: number[] = [];
  const f = compileWith((a: Tensor, n: number) => {
    outs.push(n);
    if (n > 1) throw new RangeError('too big');
    return a.exp();
  }, {}, new CompileRecorder());
  f(x, 1);
  assert.throws(() => f(x, 2), RangeError);
  assert.equal(outs, [1, 2]);
});

Effects('setters, Proxies and frozen objects break with a reason (the statement runs eagerly)', () => {
  let sets = 0;
  const withSetter = { set value(v: number) { sets += v; } };
  const proxied = new Proxy({ v: 0 } as Record<string, unknown>, {});
  const frozen = Object.freeze({ v: 0 });
  const cases: [string, (a: Tensor) => Tensor, RegExp][] = [
    ['setter', (a) => { withSetter.value = 1; return a.exp(); }, /accessor/],
    ['proxy', (a) => { proxied.v = 1; return a.exp(); }, /Proxy/],
    ['frozen', (a) => { (frozen as { v: number }).v = 1; return a.exp(); }, /frozen/],
  ];
  for (const [name, fn, reason] of cases) {
    const rec = new CompileRecorder();
    const f = compileWith(fn, {}, rec);
    let eagerError: unknown;
    try { fn(x); } catch (err) { eagerError = err; }
    if (eagerError) assert.throws(() => f(x), TypeError, name);
    else assertSameValue(f(x), fn(x));
    assert.match(rec.breaks[0]!.reason, reason, name);
  }
  assert.is(sets, 3, 'the setter ran once per call (one compiled, two eager), eagerly');
  assert.is(proxied.v, 1);
});

Effects('an object both stored outside and returned keeps one identity', () => {
  const make = () => {
    const state = { kept: [] as object[] };
    return { state, fn: (a: Tensor) => {
      const o = { t: a.exp() };
      state.kept.push(o);
      return o;
    } };
  };
  const compiled = make();
  const rec = new CompileRecorder();
  const f = compileWith(compiled.fn, {}, rec);
  const r = f(x) as object;
  assert.is(compiled.state.kept[0], r);
  assert.match(rec.breaks[0]!.reason, /stored outside it and also returned/);
});

Effects('aliasing of outside objects is guarded: a write through one is seen through the other', () => {
  const fn = (a: Tensor, p: { w: number }, q: { w: number }) => {
    p.w = 3;
    return a.mul(q.w);
  };
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  const same = { w: 1 };
  assertSameValue(f(x, same, same), x.mul(3));
  same.w = 1;
  const [p, q] = [{ w: 1 }, { w: 1 }];
  assertSameValue(f(x, p, q), x.mul(1), 'not aliased any more: reads q.w');
  assert.is(p.w, 3);
  assert.is(rec.entries.length, 2, 'the alias guard failed and caused a recompile');
});

const Inplace = suite('in-place tensor ops: functionalized, writes to inputs replayed');

Inplace('an in-place op on an argument writes the argument, once per call', () => {
  const fn = (a: Tensor) => {
    a.add_(1);
    return a.mul(2);
  };
  const eagerInput = x.clone();
  const compiledInput = x.clone();
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  for (let i = 0; i < 3; i++) assertSameValue(f(compiledInput), fn(eagerInput));
  assertSameValue(compiledInput, eagerInput);
  assert.is(rec.graphCount, 1);
  assert.is(rec.breaks.length, 0);
});

Inplace('a model tensor updated in place, a returned input keeps its identity', () => {
  class Ema {
    avg = k.zeros([4]);
    update(t: Tensor): Tensor {
      this.avg.mul_(0.5).add_(t.sum(0).mul(0.5));
      return this.avg;
    }
  }
  const eager = new Ema();
  const compiled = new Ema();
  const f = compileWith(compiled.update, {}, new CompileRecorder());
  for (let i = 0; i < 3; i++) {
    const r = f.call(compiled, x);
    assertSameValue(r, eager.update(x));
    assert.is(r, compiled.avg, 'the same tensor object, as eager returns');
  }
  assertSameValue(compiled.avg, eager.avg);
});

Inplace('an in-place op with a break after it: the write happens before the eager statement', () => {
  const seenSums: number[] = [];
  const record = (t: Tensor): void => void seenSums.push(t.sum().item() as number);
  skip(record);
  const fn = (a: Tensor) => {
    a.mul_(2);
    record(a);
    return a.add(1);
  };
  const input = x.clone();
  const f = compileWith(fn, {}, new CompileRecorder());
  const expected = x.clone();
  for (let i = 0; i < 2; i++) assertSameValue(f(input), fn(expected));
  assert.equal(seenSums.filter((_, i) => i % 2 === 0), seenSums.filter((_, i) => i % 2 === 1), 'eager code saw the written values');
});

Inplace('views and aliased inputs are breaks; eager semantics hold', () => {
  const viewed = (a: Tensor) => {
    const v = a.reshape([12]);
    a.add_(1);
    return v.sum();
  };
  const rec = new CompileRecorder();
  const f = compileWith(viewed, {}, rec);
  assertSameValue(f(x.clone()), viewed(x.clone()));
  assert.match(rec.breaks[0]!.reason, /shares its storage with a view/);
  const two = (p: Tensor, q: Tensor) => {
    p.add_(1);
    return q.mul(1);
  };
  const g = compileWith(two, {}, new CompileRecorder());
  const [p, q] = [x.clone(), x.clone()];
  assertSameValue(g(p, q), two(x.clone(), x.clone()));
  const shared = x.clone();
  const expected = x.clone();
  assertSameValue(g(shared, shared), two(expected, expected), 'an aliased call fails the storage guard');
  assertSameValue(shared, expected);
});

Effects.run();
Inplace.run();
