import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { assertSameValue, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const y = k.arange(0, 20).reshape([5, 4]).div(7).sub(1);
const printed: string[] = [];
const show = (...parts: unknown[]): void => void printed.push(parts.map(String).join(' '));
skip(show);

const Methods = suite('compiled callees: method calls in the eagerly run statement');

class Model {
  scale = 3;
  head(t: Tensor): Tensor {
    return t.mul(this.scale).sum(-1);
  }
  forward(a: Tensor): Tensor {
    const h = a.exp();
    show('head', this.head(h).shape[0]);
    return h.add(1);
  }
}

Methods('this.head(h) in the eager statement is compiled, with `this` bound to the object', () => {
  const model = new Model();
  const rec = check(function (this: Model, a: Tensor) {
    return this.forward(a);
  }.bind(model), [[x], [x]], { graphs: 3 });
  assert.ok((rec.report(undefined).opCounts.sum ?? 0) >= 1, 'head has a graph of its own');
  assert.is(Object.getPrototypeOf(model).head, Model.prototype.head, 'the method stays where it was');
  assert.ok(!Object.hasOwn(model, 'head'), 'nothing was installed on the object');
});

Methods('log(model.forward(x)) and obj.helper(t) on captured objects', () => {
  const model = new Model();
  const tools = { offset: 2, helper(t: Tensor): Tensor { return t.add(this.offset).neg(); } };
  const helper = tools.helper;
  const rec = check((a: Tensor) => {
    const h = a.relu();
    show(model.head(h).shape[0], tools.helper(h).shape[1]);
    return h.sum();
  }, [[x], [y]]);
  assert.ok('neg' in rec.report(undefined).opCounts, 'tools.helper ran compiled');
  assert.ok('sum' in rec.report(undefined).opCounts);
  assert.is(tools.helper, helper, 'the method keeps its identity');
});

Methods('repeated calls reuse the compiled method (no new compiles)', () => {
  const model = new Model();
  const rec = new CompileRecorder();
  const fn = (a: Tensor) => {
    const h = a.exp();
    show(model.head(h).shape[0]);
    return h;
  };
  const f = compileWith(fn, {}, rec);
  f(x);
  const after = rec.entries.length;
  for (let i = 0; i < 4; i++) assertSameValue(f(x), fn(x));
  assert.is(rec.entries.length, after);
});

Methods('a method the policy skips, a native method and an optional call run as they are', () => {
  const tools = { opaque(t: Tensor): Tensor { return t.neg(); }, maybe: undefined as undefined | ((t: Tensor) => Tensor) };
  skip(tools.opaque);
  const rec = check((a: Tensor) => {
    const h = a.exp();
    show(tools.opaque(h).shape[0], [3, 1, 2].sort().join(), tools.maybe?.(h), tools?.opaque(h).shape[1]);
    return h;
  }, [[x]], { graphs: 1 });
  assert.ok(!('neg' in rec.report(undefined).opCounts), 'the skipped method has no graph');
});

Methods('calling a missing method raises the TypeError eager code raises', () => {
  const obj = {} as { missing(): void };
  const fn = (a: Tensor) => {
    const h = a.exp();
    show(obj.missing());
    return h;
  };
  const f = compileWith(fn, {}, new CompileRecorder());
  let eager: unknown;
  try { fn(x); } catch (err) { eager = err; }
  assert.throws(() => f(x), (err: unknown) => err instanceof TypeError && err.message === (eager as Error).message);
});

Methods('a user callback passed to a skipped function keeps its identity; calls inside it are compiled', () => {
  const registry: Function[] = [];
  const register = (cb: (t: Tensor) => Tensor, t: Tensor): Tensor => (registry.push(cb), cb(t));
  skip(register);
  const model = new Model();
  const cb = (t: Tensor): Tensor => t.mul(2);
  const rec = check((a: Tensor) => {
    const h = a.exp();
    register(cb, h);
    register((t) => model.head(t), h);
    return h;
  }, [[x]]);
  assert.ok(registry.filter((_, i) => i % 2 === 0).every((f) => f === cb), 'the function value is passed as itself');
  assert.ok('sum' in rec.report(undefined).opCounts, 'model.head inside the inline callback ran compiled');
  const text = String(explain((a: Tensor) => {
    const h = a.exp();
    register(cb, h);
    return h;
  })(x));
  assert.match(text, /function values passed as arguments run as they are/);
});

Methods.run();
