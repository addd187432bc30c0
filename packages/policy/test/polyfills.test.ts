import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { BUILTIN_POLYFILLS, checkPolyfillSignature, PolyfillSignatureError, resolveQualifiedName } from '../src/index.js';

const polyfill = (target: string) => BUILTIN_POLYFILLS.find((p) => p.target === target)!.polyfill;
const builtin = (target: string) => {
  const r = resolveQualifiedName(target);
  if (!r.ok) throw new Error(r.why);
  return r.fn;
};

/** Calls builtin and polyfill the same way; both must return equal values or throw the same error type. */
function same(target: string, self: unknown, args: unknown[]): void {
  const run = (fn: Function) => {
    try {
      return { value: fn.apply(self, args) as unknown };
    } catch (e) {
      return { error: (e as Error).constructor.name };
    }
  };
  const [mine, theirs] = [run(polyfill(target)), run(builtin(target))];
  assert.equal(mine, theirs, `${target} on ${JSON.stringify(self)}`);
  // Deep equality reads a hole as undefined: compare which indices exist, too.
  if (Array.isArray(theirs.value)) assert.equal(Object.keys(mine.value as object), Object.keys(theirs.value), `${target}: holes`);
}

// Sparse arrays too: holes are where the builtins and naive loops disagree.
const arrays = fc.sparseArray(fc.integer({ min: -50, max: 50 }), { maxLength: 12 });
const runs = { numRuns: 200 };

const equal = suite('polyfills equal the builtins on random inputs');

equal('map, filter, forEach, some, every', () => {
  fc.assert(
    fc.property(arrays, fc.integer({ min: 1, max: 7 }), (xs, k) => {
      same('Array.prototype.map', xs, [(v: number, i: number, a: unknown[]) => v * k + i + a.length]);
      same('Array.prototype.filter', xs, [(v: number) => v % k === 0]);
      same('Array.prototype.some', xs, [(v: number) => v > k * 5]);
      same('Array.prototype.every', xs, [(v: number) => v > -k * 5]);
      const seen: unknown[][] = [[], []];
      polyfill('Array.prototype.forEach').call(xs, (v: number, i: number) => seen[0]!.push([v, i]));
      xs.forEach((v, i) => seen[1]!.push([v, i]));
      assert.equal(seen[0], seen[1]);
    }),
    runs,
  );
});

equal('thisArg is passed to the callback', () => {
  const ctx = { k: 3 };
  same('Array.prototype.map', [1, 2], [function (this: { k: number }, v: number) { return v * this.k; }, ctx]);
});

equal('reduce with and without an initial value, empty arrays, holes', () => {
  fc.assert(
    fc.property(arrays, fc.integer(), (xs, init) => {
      same('Array.prototype.reduce', xs, [(a: number, b: number, i: number) => a * 31 + b + i]);
      same('Array.prototype.reduce', xs, [(a: number, b: number) => a - b, init]);
      same('Array.prototype.reduce', xs, [(a: unknown) => a, undefined]);
    }),
    runs,
  );
});

equal('Array.from on arrays, strings, sets, array-likes, with a map function', () => {
  fc.assert(
    fc.property(fc.array(fc.integer()), fc.string(), (xs, s) => {
      same('Array.from', undefined, [xs]);
      same('Array.from', undefined, [s]);
      same('Array.from', undefined, [new Set(xs)]);
      same('Array.from', undefined, [Object.assign({}, xs, { length: xs.length })]);
      same('Array.from', undefined, [xs, (v: number, i: number) => v + i]);
    }),
    runs,
  );
  same('Array.from', undefined, [null]);
});

equal('Object.keys / values / entries, key order included', () => {
  const key = fc.oneof(fc.string({ maxLength: 3 }), fc.nat({ max: 20 }).map(String));
  fc.assert(
    fc.property(fc.dictionary(key, fc.integer()), (o) => {
      for (const t of ['Object.keys', 'Object.values', 'Object.entries']) same(t, undefined, [o]);
      const proto = Object.create({ inherited: 1 });
      Object.assign(proto, o);
      Object.defineProperty(proto, 'hidden', { value: 2, enumerable: false });
      for (const t of ['Object.keys', 'Object.values', 'Object.entries']) same(t, undefined, [proto]);
    }),
    runs,
  );
  for (const t of ['Object.keys', 'Object.values', 'Object.entries']) {
    same(t, undefined, ['abc']);
    same(t, undefined, [[5, 6]]);
    same(t, undefined, [null]);
  }
});

equal('errors match: non-callable callbacks, null receivers', () => {
  same('Array.prototype.map', [1], [42]);
  same('Array.prototype.reduce', [], [(a: number) => a]);
  same('Array.prototype.filter', null, [() => true]);
});

equal.run();

const signature = suite('polyfill signature checks');

signature('every built-in polyfill passes against its live builtin', () => {
  for (const p of BUILTIN_POLYFILLS) checkPolyfillSignature(p.target, builtin(p.target), p.polyfill);
});

signature('a different parameter count is rejected, with a hint', () => {
  const twoRequired = function map(this: unknown[], f: unknown, thisArg: unknown) { return [f, thisArg]; };
  assert.throws(() => checkPolyfillSignature('Array.prototype.map', Array.prototype.map, twoRequired), (e: Error) =>
    e instanceof PolyfillSignatureError && /declares 2 parameters, but Array\.prototype\.map declares 1/.test(e.message) && /thisArg = undefined/.test(e.message));
});

signature('an arrow function cannot replace a prototype method', () => {
  const arrow = (f: unknown) => f;
  assert.throws(() => checkPolyfillSignature('Array.prototype.map', Array.prototype.map, arrow), /arrow function/);
  checkPolyfillSignature('Object.keys', Object.keys, (o: unknown) => o); // fine for a static function
});

signature('classes and non-functions are rejected', () => {
  assert.throws(() => checkPolyfillSignature('Object.keys', Object.keys, class { constructor(_o: unknown) {} }), /is a class/);
  assert.throws(() => checkPolyfillSignature('Object.keys', Object.keys, 42), /must be a function, got number/);
});

signature.run();
