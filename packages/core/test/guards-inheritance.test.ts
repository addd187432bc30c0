// Issue #18 item 5: `for…in` and `instanceof` depend on prototype chains that existed before the frame.
// Their answers are guarded (a key added to Object.prototype later, a prototype reassigned, a static
// Symbol.hasInstance added later) or the frame breaks with a reason (a custom Symbol.hasInstance).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, compileWith } from '../src/compile.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const x = k.arange(0, 6).sub(2);
type Loose = Record<string, unknown>;

/** Runs `body` with an enumerable `key` on `proto`, then removes it. */
function withEnumerable(proto: object, key: string, body: () => void): void {
  (proto as Loose)[key] = 1;
  try {
    body();
  } finally {
    delete (proto as Loose)[key];
  }
}

function countKeys(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

const ForIn = suite('guards: for…in sees inherited keys added later');

ForIn('a key added to Object.prototype after compiling (issue repro)', () => {
  const obj = { a: 1 };
  const run = (t: Tensor) => {
    let n = 0;
    for (const _ in obj) n++;
    return t.mul(n);
  };
  const f = compile(run);
  assertSameValue(f(x), x.mul(1));
  withEnumerable(Object.prototype, 'kilnExtra', () => assertSameValue(f(x), run(x)));
  assertSameValue(f(x), x.mul(1));
});

ForIn('an object built in the frame, and a string', () => {
  const built = compile((t: Tensor) => {
    const keys: string[] = [];
    for (const key in { a: 1, b: 2 }) keys.push(key);
    return t.mul(keys.length);
  });
  const chars = compile((t: Tensor) => {
    let n = 0;
    for (const _ in 'ab' as unknown as object) n++;
    return t.mul(n);
  });
  assertSameValue(built(x), x.mul(2));
  assertSameValue(chars(x), x.mul(2));
  withEnumerable(Object.prototype, 'kilnExtra', () => {
    assertSameValue(built(x), x.mul(3));
    assertSameValue(chars(x), x.mul(3));
  });
  withEnumerable(String.prototype, 'kilnExtra', () => assertSameValue(chars(x), x.mul(3)));
});

ForIn("a key added to a class's prototype, for an instance captured and one passed in", () => {
  class Config {
    scale = 2;
  }
  const captured = new Config();
  const f = compile((c: Config, t: Tensor) => t.mul(countKeys(c) + countKeys(captured)));
  const c = new Config();
  assertSameValue(f(c, x), x.mul(2));
  withEnumerable(Config.prototype, 'extra', () => assertSameValue(f(c, x), x.mul(4)));
});

ForIn('an object that already inherits enumerable keys runs eagerly, with the reason', () => {
  const defaults = { a: 1 };
  const obj = Object.create(defaults) as Loose;
  obj.b = 2;
  const run = (t: Tensor) => t.mul(countKeys(obj));
  const e = explain(run)(x);
  assertSameValue(e.result, x.mul(2));
  assert.ok(e.breaks.some((b) => /inherits enumerable keys/.test(b.reason)), e.breaks.map((b) => b.reason).join('; '));
});

const InstanceOf = suite('guards: instanceof');

InstanceOf('a custom Symbol.hasInstance whose answer changes (issue repro)', () => {
  let answer = true;
  class H {
    static [Symbol.hasInstance](_: unknown) {
      return answer;
    }
  }
  const run = (t: Tensor) => (t instanceof H ? t.add(1) : t.sub(1));
  const e = explain(run)(x);
  assertSameValue(e.result, x.add(1));
  assert.ok(e.breaks.some((b) => /Symbol\.hasInstance/.test(b.reason)), e.breaks.map((b) => b.reason).join('; '));
  const f = compile(run);
  assertSameValue(f(x), x.add(1));
  answer = false;
  assertSameValue(f(x), x.sub(1));
});

InstanceOf('a static Symbol.hasInstance added after compiling', () => {
  class Marker {}
  const run = (t: Tensor) => (t instanceof Marker ? t.add(1) : t.sub(1));
  const f = compile(run);
  assertSameValue(f(x), x.sub(1));
  Object.defineProperty(Marker, Symbol.hasInstance, { value: () => true, configurable: true });
  assertSameValue(f(x), x.add(1));
});

InstanceOf("a plain function's prototype reassigned, and an object's prototype changed", () => {
  function Shape() {}
  const obj = Object.create(Shape.prototype) as object;
  const run = (t: Tensor) => (obj instanceof (Shape as unknown as new () => object) ? t.add(1) : t.sub(1));
  const rec = new CompileRecorder();
  const f = compileWith(run, {}, rec);
  assertSameValue(f(x), x.add(1));
  Shape.prototype = {};
  assertSameValue(f(x), x.sub(1));
  Object.setPrototypeOf(obj, Shape.prototype);
  assertSameValue(f(x), x.add(1));
});

InstanceOf('an object built with new, after the constructor prototype is reassigned', () => {
  function Box(this: Loose) {
    this.k = 2;
  }
  Box.prototype.scale = function (this: Loose, t: Tensor) {
    return t.mul(this.k as number);
  };
  const run = (t: Tensor) => new (Box as unknown as new () => { scale(t: Tensor): Tensor })().scale(t);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  Box.prototype = { scale: (t: Tensor) => t.neg() };
  assertSameValue(f(x), x.neg());
});

InstanceOf("reading a plain function's prototype, after it is reassigned", () => {
  function Units() {}
  Units.prototype.factor = 2;
  const run = (t: Tensor) => t.mul(Units.prototype.factor as number);
  const f = compile(run);
  assertSameValue(f(x), x.mul(2));
  Units.prototype = { factor: 5 };
  assertSameValue(f(x), x.mul(5));
});

ForIn.run();
InstanceOf.run();
