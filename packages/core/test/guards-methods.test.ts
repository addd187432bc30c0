// Issue #18 item 3: a method the trace resolved (along a prototype chain, or on the receiver itself) is
// guarded by identity, so redefining, shadowing or deleting it after compiling is never stale.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const x = k.arange(0, 6).sub(2);
type Patched = Record<string, unknown>;

function counted<F extends (...args: any[]) => any>(fn: F) {
  const rec = new CompileRecorder();
  return { f: compileWith(fn, {}, rec), rec };
}

/** Runs `body` with `proto[key]` set to `value`, then restores what was there (or deletes it). */
function patched(proto: object, key: string, value: unknown, body: () => void): void {
  const before = Object.getOwnPropertyDescriptor(proto, key);
  Object.defineProperty(proto, key, { value, writable: true, configurable: true, enumerable: false });
  try {
    body();
  } finally {
    if (before) Object.defineProperty(proto, key, before);
    else delete (proto as Patched)[key];
  }
}

const Methods = suite('guards: methods resolved along the prototype chain');

Methods('a user method added to Tensor.prototype and redefined runs the new one (issue repro)', () => {
  patched(Tensor.prototype, 'twice', function (this: Tensor) { return this.mul(2); }, () => {
    const { f } = counted((t: Tensor) => (t as unknown as { twice(): Tensor }).twice().add(1));
    assertSameValue(f(x), x.mul(2).add(1));
    (Tensor.prototype as unknown as Patched).twice = function (this: Tensor) { return this.mul(3); };
    assertSameValue(f(x), x.mul(3).add(1));
  });
});

Methods('a built-in tensor method replaced on Tensor.prototype is followed, then the original again', () => {
  const { f, rec } = counted((t: Tensor) => t.relu().sum());
  assertSameValue(f(x), x.relu().sum());
  patched(Tensor.prototype, 'relu', function (this: Tensor) { return this.abs(); }, () => assertSameValue(f(x), x.abs().sum()));
  assertSameValue(f(x), x.relu().sum());
  assert.is(rec.entries.length, 2, 'the original method hits its first entry again');
});

Methods('a method on a tensor computed in the frame is guarded too', () => {
  patched(Tensor.prototype, 'half', function (this: Tensor) { return this.div(2); }, () => {
    const { f } = counted((t: Tensor) => (t.add(1) as unknown as { half(): Tensor }).half());
    assertSameValue(f(x), x.add(1).div(2));
    (Tensor.prototype as unknown as Patched).half = function (this: Tensor) { return this.div(4); };
    assertSameValue(f(x), x.add(1).div(4));
  });
});

Methods('an own property on a tensor input shadows Tensor.prototype', () => {
  const { f } = counted((t: Tensor) => t.neg());
  const y = x.clone();
  assertSameValue(f(y), x.neg());
  (y as unknown as Patched).neg = function (this: Tensor) { return this.mul(10); };
  assertSameValue(f(y), x.mul(10));
  assertSameValue(f(x), x.neg(), 'another tensor still takes the prototype method');
});

Methods('a method of a user class, on an instance built in the frame (issue repro)', () => {
  class L {
    go(t: Tensor) { return t.add(1); }
  }
  const { f } = counted((t: Tensor) => new L().go(t));
  assertSameValue(f(x), x.add(1));
  L.prototype.go = (t: Tensor) => t.add(10);
  assertSameValue(f(x), x.add(10));
});

Methods('a method found deeper along the chain, then shadowed nearer the instance', () => {
  class Base {
    go(t: Tensor) { return t.mul(2); }
  }
  class Mid extends Base {}
  class Leaf extends Mid {}
  const { f } = counted((t: Tensor) => new Leaf().go(t));
  assertSameValue(f(x), x.mul(2));
  Base.prototype.go = (t: Tensor) => t.mul(3);
  assertSameValue(f(x), x.mul(3));
  (Mid.prototype as unknown as Patched).go = (t: Tensor) => t.mul(4);
  assertSameValue(f(x), x.mul(4));
  delete (Mid.prototype as unknown as Patched).go;
  assertSameValue(f(x), x.mul(3), 'deleting the shadow uncovers the base method');
});

Methods('a method of a captured instance, and an own property added to it later', () => {
  class L {
    go(t: Tensor) { return t.add(1); }
  }
  const l = new L();
  const { f } = counted((t: Tensor) => l.go(t));
  assertSameValue(f(x), x.add(1));
  L.prototype.go = (t: Tensor) => t.add(2);
  assertSameValue(f(x), x.add(2));
  (l as unknown as Patched).go = (t: Tensor) => t.add(3);
  assertSameValue(f(x), x.add(3));
});

Methods('a static method redefined after compiling', () => {
  class Ops {
    static scale(t: Tensor) { return t.mul(2); }
  }
  const { f } = counted((t: Tensor) => Ops.scale(t));
  assertSameValue(f(x), x.mul(2));
  Ops.scale = (t: Tensor) => t.mul(5);
  assertSameValue(f(x), x.mul(5));
});

Methods('a Symbol-keyed method redefined after compiling', () => {
  const act = Symbol('act');
  class L {
    [act](t: Tensor) { return t.exp(); }
  }
  const l = new L();
  const { f } = counted((t: Tensor) => l[act](t));
  assertSameValue(f(x), x.exp());
  L.prototype[act] = (t: Tensor) => t.neg();
  assertSameValue(f(x), x.neg());
});

Methods('a method of Array.prototype or String.prototype added by the user and redefined', () => {
  patched(Array.prototype, 'kilnTotal', function (this: Tensor[]) { return this[0]!.add(this[1]!); }, () => {
    const { f } = counted((t: Tensor) => ([t, t] as unknown as { kilnTotal(): Tensor }).kilnTotal());
    assertSameValue(f(x), x.add(x));
    (Array.prototype as unknown as Patched).kilnTotal = function (this: Tensor[]) { return this[0]!.mul(this[1]!); };
    assertSameValue(f(x), x.mul(x));
  });
  patched(String.prototype, 'kilnFactor', function (this: string) { return this.length; }, () => {
    const { f } = counted((t: Tensor) => t.mul(('abc' as unknown as { kilnFactor(): number }).kilnFactor()));
    assertSameValue(f(x), x.mul(3));
    (String.prototype as unknown as Patched).kilnFactor = function () { return 7; };
    assertSameValue(f(x), x.mul(7));
  });
});

Methods('a method replaced by a getter runs the getter as often as eager code does', () => {
  class L {
    go(t: Tensor) { return t.add(1); }
  }
  let reads = 0;
  const run = (t: Tensor) => new L().go(t);
  const { f } = counted(run);
  assertSameValue(f(x), x.add(1));
  Object.defineProperty(L.prototype, 'go', { get: () => (reads++, (t: Tensor) => t.add(7)), configurable: true });
  assertSameValue(f(x), x.add(7));
  assertSameValue(f(x), x.add(7));
  assert.is(reads, 2, 'once per call');
  run(x);
  assert.is(reads, 3, 'eager reads it once too');
});

Methods('a frozen prototype hits the cache (its guards still pass)', () => {
  class L {
    go(t: Tensor) { return t.add(1); }
  }
  Object.freeze(L.prototype);
  const { f, rec } = counted((t: Tensor) => new L().go(t));
  for (let i = 0; i < 3; i++) assertSameValue(f(x), x.add(1));
  assert.is(rec.entries.length, 1);
});

Methods.run();
