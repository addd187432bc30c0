import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';
import { events, log, sameEffects } from './support/effects.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
/** Float tensors of 4 elements (the dtype of what the frames push), one value each. */
const filled = (v: number): Tensor => k.zeros([4]).add(v);
const tensors = (n: number): Tensor[] => Array.from({ length: n }, (_, i) => filled(i + 1));

const Arrays = suite('outside arrays: pop, shift, splice and element writes are replayed');

Arrays('pop() returns the element that was there; a shrinking array recompiles on its length', () => {
  const { rec, state } = sameEffects(() => {
    const state = { stack: tensors(5) };
    const stack = state.stack;
    return { state, fn: (a: Tensor) => {
      const last = stack.pop()!;
      return a.sum(0).mul(last);
    } };
  }, [x], 3);
  assert.is(state.stack.length, 2);
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
  assert.is(rec.entries.length, 3, 'the length is guarded: each new length is a new entry');
  assert.ok(rec.entries.every((e) => e.entry.kind === 'graph'));
});

Arrays('push then shift keeps the length: one compile, and the shifted element keeps its identity', () => {
  const first = filled(7);
  const state = { queue: [first, filled(8)] as Tensor[] };
  const queue = state.queue;
  const fn = (a: Tensor): Tensor => {
    queue.push(a.sum(0));
    return queue.shift()!;
  };
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  assert.is(f(x), first, 'the shifted element is the object that was in the array');
  assertSameValue(f(x), filled(8));
  assertSameValue(f(x), x.sum(0));
  assert.is(queue.length, 2);
  assert.is(rec.entries.length, 1);
  assert.is(rec.breaks.length, 0);
});

Arrays('splice(start, count, ...items) removes the same range and returns the removed elements', () => {
  sameEffects(() => {
    const state = { items: tensors(4) };
    const items = state.items;
    return { state, fn: (a: Tensor) => {
      const removed = items.splice(1, 2, a.neg(), a.exp().sum(0));
      items.splice(-1);
      return removed.map((t) => t.mul(2));
    } };
  }, [x.sum(0)], 1);
});

Arrays('element writes arr[i] = t, arr[arr.length] = t, and reads after them', () => {
  const { rec } = sameEffects(() => {
    const state = { slots: tensors(2) };
    const slots = state.slots;
    return { state, fn: (a: Tensor) => {
      slots[0] = a.exp();
      slots[slots.length] = a.neg();
      return slots[0].add(slots[1]!).add(slots[2]!);
    } };
  }, [x.sum(0)], 2);
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
});

Arrays('reading an array after pushing to it sees the pushed values', () => {
  const { rec } = sameEffects(() => {
    const state = { log: [] as Tensor[] };
    const out = state.log;
    return { state, fn: (a: Tensor) => {
      out.push(a.exp());
      out.push(a.neg());
      return [out.length, ...out.slice(-2)];
    } };
  }, [x], 3);
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
});

Arrays('a write past the end that would leave a hole, and length writes, are breaks with a reason', () => {
  const run = (fn: (a: Tensor, arr: unknown[]) => unknown, reason: RegExp): void => {
    const rec = new CompileRecorder();
    const f = compileWith(fn, {}, rec);
    const [got, want] = [[1, 2], [1, 2]];
    assertSameValue(f(x, got), fn(x, want));
    assert.equal(got, want);
    assert.match(rec.breaks[0]?.reason ?? '', reason);
  };
  run((a, arr) => {
    arr[5] = 3;
    return [arr.length, a.exp()];
  }, /past the end/);
  run((a, arr) => {
    arr.length = 1;
    return a.exp();
  }, /only element writes at an index/);
});

Arrays('ordering: a replayed pop happens before the eager statement; the statement sees the popped array', () => {
  const { rec } = sameEffects(() => {
    const state = { stack: tensors(3) };
    const stack = state.stack;
    return { state, fn: (a: Tensor) => {
      const top = stack.pop()!;
      log(`after pop: ${stack.length}`);
      stack.push(top.add(a.sum(0)));
      return stack.length;
    } };
  }, [x], 3);
  assert.is(rec.breaks.length, 1);
  assert.equal(events, ['after pop: 2', 'after pop: 2', 'after pop: 2']);
});

Arrays('a frame that throws before reaching pop() does not pop', () => {
  const make = () => {
    const state = { stack: tensors(3) };
    return { state, fn: (a: Tensor, n: number) => {
      const h = a.exp();
      if (n > 1) throw new RangeError('too big');
      return h.sum(0).add(state.stack.pop()!);
    } };
  };
  const eager = make();
  const compiled = make();
  const f = compileWith(compiled.fn, {}, new CompileRecorder());
  assertSameValue(f(x, 1), eager.fn(x, 1));
  assert.throws(() => f(x, 2), RangeError);
  assert.throws(() => eager.fn(x, 2), RangeError);
  assert.is(compiled.state.stack.length, 2, 'the throwing call popped nothing');
  assertSameValue(f(x, 1), eager.fn(x, 1));
  assertSameValue(compiled.state.stack, eager.state.stack);
});

const Collections = suite('outside Maps and Sets: delete and clear are replayed');

Collections('map.delete(k), set.delete(v), map.clear() as statements, in program order with set/add', () => {
  const { rec, state } = sameEffects(() => {
    const state = { cache: new Map<string, Tensor>([['old', k.ones([2])], ['keep', k.zeros([2])]]), seen: new Set(['a', 'b']), scratch: new Map([['x', 1]]) };
    const { cache, seen, scratch } = state;
    return { state, fn: (a: Tensor) => {
      cache.delete('old');
      cache.set('new', a.exp());
      seen.delete('a');
      seen.add('c');
      scratch.set('y', 2);
      scratch.clear();
      return a.neg();
    } };
  }, [x], 2);
  assert.equal([...state.cache.keys()], ['keep', 'new']);
  assert.equal([...state.seen], ['b', 'c']);
  assert.is(state.scratch.size, 0);
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
  assert.is(rec.entries.length, 1);
});

Collections('using the result of delete() is a break (it depends on contents the tracer does not read)', () => {
  const { rec } = sameEffects(() => {
    const state = { cache: new Map([['k', 1]]) };
    return { state, fn: (a: Tensor) => (state.cache.delete('k') ? a.exp() : a.neg()) };
  }, [x], 2);
  assert.match(rec.breaks[0]!.reason, /using the result of 'delete'/);
});

Arrays.run();
Collections.run();
