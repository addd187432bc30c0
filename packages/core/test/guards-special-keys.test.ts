// Issue #18 item 6: objects built in the frame and rebuilt from output templates follow JS semantics for
// `__proto__` (a literal's `__proto__: p` sets the prototype, a computed or shorthand one is an own key),
// `constructor`, numeric-like keys and symbols — the same object eager code returns, or a graph break.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { compile } from '../src/compile.js';
import { explain } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const x = k.arange(0, 6).sub(2);
type Loose = Record<PropertyKey, unknown>;

/** Compiled and eager results of `fn(x)` agree in keys, prototype shape and values (twice: trace, then hit). */
function sameAsEager(fn: (t: Tensor) => unknown): Loose {
  const f = compile(fn);
  const want = fn(x) as Loose;
  let got: Loose = {};
  for (let i = 0; i < 2; i++) {
    got = f(x) as Loose;
    assert.not.ok(got instanceof Tensor, 'an object, not the tensor it holds');
    assert.equal(Reflect.ownKeys(got), Reflect.ownKeys(want), 'own keys in order');
    const protoOf = (o: object) => Object.getPrototypeOf(o) as object | null;
    assert.is(protoOf(got) === null, protoOf(want) === null, 'null prototype');
    assert.is(protoOf(got) === Object.prototype, protoOf(want) === Object.prototype, 'Object.prototype');
    for (const key of Reflect.ownKeys(want)) assertSameValue(got[key], want[key], `result[${String(key)}]`);
  }
  return got;
}

const Keys = suite('outputs: special keys as eager code builds them');

Keys("a computed ['__proto__'] key is an own field (issue repro)", () => {
  const got = sameAsEager((t) => ({ ['__proto__']: t, b: 1 }));
  assert.is(Object.getPrototypeOf(got), Object.prototype);
  assertSameValue(Object.getOwnPropertyDescriptor(got, '__proto__')!.value, x);
});

Keys('a literal __proto__ sets the prototype (issue repro), also quoted and null', () => {
  const got = sameAsEager((t) => ({ __proto__: { inherited: 7 }, a: t }));
  assert.is(got.inherited, 7);
  assert.equal(Object.keys(got), ['a']);
  assert.is(sameAsEager((t) => ({ '__proto__': { n: 3 }, a: t })).n, 3);
  assert.is(Object.getPrototypeOf(sameAsEager((t) => ({ __proto__: null, a: t }))), null);
});

Keys('a literal __proto__ that is not an object is ignored', () => {
  const got = sameAsEager((t) => ({ __proto__: 5, a: t }));
  assert.is(Object.getPrototypeOf(got), Object.prototype);
});

Keys('a shorthand __proto__ and a spread own __proto__ stay own fields', () => {
  sameAsEager((t) => {
    const __proto__ = t.neg();
    return { __proto__, b: 2 };
  });
  sameAsEager((t) => ({ ...{ ['__proto__']: t }, c: 3 }));
});

Keys('fields inherited from a prototype built in the frame are read in the frame', () => {
  const run = (t: Tensor) => {
    const o = { __proto__: { scale: 3 }, bias: 1 } as unknown as { scale: number; bias: number };
    return t.mul(o.scale).add(o.bias);
  };
  const e = explain(run)(x);
  assertSameValue(e.result, run(x));
  assert.is(e.breakCount, 0);
});

Keys('constructor, numeric-like keys and their order', () => {
  const got = sameAsEager((t) => ({ b: t, 2: 'two', 1: 'one', constructor: 5, 10: t.neg() }));
  assert.equal(Object.keys(got), ['1', '2', '10', 'b', 'constructor']);
  assert.is(got.constructor, 5);
});

Keys('a Symbol-keyed field is kept (the literal runs eagerly)', () => {
  const tag = Symbol('tag');
  const run = (t: Tensor) => ({ [tag]: t.neg(), a: 1 });
  const got = compile(run)(x) as Loose;
  assertSameValue(got[tag], x.neg());
  assert.equal(Object.keys(got), ['a']);
});

Keys("an assignment to o.__proto__ sets the prototype, as in eager code", () => {
  const run = (t: Tensor) => {
    const o: Loose = { a: t };
    o.__proto__ = { inherited: 4 };
    return o;
  };
  const got = compile(run)(x) as Loose;
  assert.is(got.inherited, 4);
  assert.equal(Object.keys(got), ['a']);
});

Keys.run();
