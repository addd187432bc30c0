import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ShapeEnv,
  DataDependentError,
  CheckFailedError,
  produceRuntimeAsserts,
  assertToJs,
  type Size,
  type SymInt,
  type SymBool,
} from '@kiln/shapes';

const sym = (s: Size): SymInt => s as SymInt;
const bool = (b: boolean | SymBool): SymBool => {
  assert.type(b, 'object', `expected an undecided SymBool, got ${String(b)}`);
  return b as SymBool;
};

function nonzeroEnv(): { env: ShapeEnv; u: SymInt } {
  const env = new ShapeEnv();
  env.setLocation('model.ts:12');
  const u = env.createUnbacked({ origin: 'nonzero' });
  return { env, u };
}

const dde = suite('data-dependent errors');

dde('guarding on an unbacked symbol raises DataDependentError naming expression, symbols, line and fixes', () => {
  const { env, u } = nonzeroEnv();
  env.setLocation('model.ts:14');
  const cond = bool(u.ge(2));
  try {
    cond.guardBool();
    assert.unreachable('expected DataDependentError');
  } catch (e) {
    assert.instance(e, DataDependentError);
    const err = e as DataDependentError;
    assert.is(err.expr, 'u0 >= 2');
    assert.equal(err.symbols.map((s) => s.symbol), ['u0']);
    assert.is(err.location, 'model.ts:14');
    assert.match(err.message, 'Could not guard on data-dependent expression u0 >= 2');
    assert.match(err.message, 'at model.ts:14');
    assert.match(err.message, 'u0 was created from nonzero at model.ts:12');
    assert.match(err.message, 'check(u0 >= 2)');
    assert.match(err.message, 'checkIsSize(u0)');
    assert.match(err.message, 'markUnbacked');
  }
  assert.is(env.guards().length, 0);
});

dde('specializing an unbacked value (guardInt) raises too', () => {
  const { u } = nonzeroEnv();
  assert.throws(() => sym(u.add(1)).guardInt(), (e: unknown) => e instanceof DataDependentError && /u0 \+ 1/.test((e as Error).message));
});

dde('an input marked unbacked has no hint: guards on it raise', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([8], 'L.x', 'unbacked');
  assert.is(String(n), 'u0');
  assert.equal(env.rangeOfSize(n!), { lo: 0, hi: Infinity });
  assert.throws(() => bool(sym(n).eq(8)).guardBool(), (e: unknown) => e instanceof DataDependentError && /markUnbacked\(L\.x\.shape\[0\]\)/.test((e as Error).message));
});

dde.run();

const checks = suite('check and checkIsSize');

checks('checkIsSize narrows to [0, inf) and records a runtime assert', () => {
  const { env, u } = nonzeroEnv();
  env.setLocation('model.ts:13');
  env.checkIsSize(u);
  assert.equal(env.rangeOfSize(u), { lo: 0, hi: Infinity });
  assert.is(u.ge(0), true);
  const asserts = produceRuntimeAsserts(env);
  assert.equal(asserts.map((a) => [a.text, a.location]), [['u0 >= 0', 'model.ts:13']]);
});

checks('check(cond) records an assert instead of a guard and lets later guards decide statically', () => {
  const { env, u } = nonzeroEnv();
  env.check(u.ge(2), 'need two rows');
  env.check(u.le(100));
  assert.is(env.guards().length, 0);
  assert.equal(env.rangeOfSize(u), { lo: 2, hi: 100 });
  assert.is(u.ge(0), true);
  assert.is(u.lt(1000), true);
  assert.is(u.ne(1), true);
  assert.equal(produceRuntimeAsserts(env).map((a) => [a.text, a.message]), [['u0 >= 2', 'need two rows'], ['u0 <= 100', undefined]]);
});

checks('check on a relation between symbols is remembered as a fact', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([10], 'L.x');
  const u = env.createUnbacked({ origin: 'item' });
  env.check(u.lt(n));
  assert.is(u.lt(n), true);
  assert.is(u.ge(n), false);
  assert.equal(produceRuntimeAsserts(env).map((a) => a.text), ['u0 < s0']);
});

checks('check with an equality replaces the unbacked symbol', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([10], 'L.x');
  const u = env.createUnbacked({ origin: 'item' });
  env.check(u.eq(n));
  assert.is(String(u.add(1)), 's0 + 1');
  assert.is(u.sub(n), 0);
});

checks('a check that is false for the example inputs or provably false raises CheckFailedError', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([10], 'L.x');
  env.setLocation('model.ts:4');
  assert.throws(() => env.check(sym(n).lt(5)), (e: unknown) => e instanceof CheckFailedError && /s0 < 5.*example inputs.*model\.ts:4/.test((e as Error).message));
  const { env: env2, u } = nonzeroEnv();
  env2.checkIsSize(u);
  assert.throws(() => env2.check(u.lt(0)), (e: unknown) => e instanceof CheckFailedError);
});

checks('an assert is emitted as recorded, not simplified by the range it establishes', () => {
  const { env, u } = nonzeroEnv();
  env.check(u.gt(0));
  env.check(sym(u.mul(u)).ge(1)); // statically true once u0 >= 1 is known: nothing recorded
  assert.equal(produceRuntimeAsserts(env).map((a) => a.text), ['u0 > 0']);
});

checks('an equality check never rewrites an input size in terms of an unbacked value', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([6], 'L.x');
  const u = env.createUnbacked({ origin: 'item' });
  env.check(sym(n).eq(sym(u.mod(4)).add(4)));
  assert.is(String(n), 's0');
  assert.equal(produceRuntimeAsserts(env).map((a) => a.text), ['s0 == Mod(u0, 4) + 4']);
});

checks('runtime asserts are emitted as JavaScript that throws when false', () => {
  const { env, u } = nonzeroEnv();
  env.checkIsSize(u);
  const [a] = produceRuntimeAsserts(env);
  const js = assertToJs(a!, (s) => `values.${s}`);
  assert.is(js, 'if (!(values.u0 >= 0)) throw new Error("runtime assert u0 >= 0 failed (model.ts:12)");');
  const run = new Function('values', js) as (v: Record<string, number>) => void;
  run({ u0: 3 });
  assert.throws(() => run({ u0: -1 }), /runtime assert u0 >= 0 failed/);
});

checks.run();

const oblivious = suite('size-oblivious queries');

oblivious('staticallyKnownTrue never guards and never raises', () => {
  const { env, u } = nonzeroEnv();
  const [n] = env.createSizes([10], 'L.x');
  assert.is(env.staticallyKnownTrue(sym(n).ge(2)), true);
  assert.is(env.staticallyKnownTrue(bool(sym(n).ge(5))), false);
  assert.is(env.staticallyKnownTrue(bool(u.ne(1))), false);
  env.checkIsSize(u);
  assert.is(env.staticallyKnownTrue(bool(u.ne(1))), false);
  assert.is(env.staticallyKnownTrue(bool(u.ne(1)), { sizeOblivious: true }), true);
  assert.is(env.guards().length, 0);
});

oblivious('guardOrFalse / guardOrTrue answer data-dependent questions without raising', () => {
  const { env, u } = nonzeroEnv();
  assert.is(env.guardOrFalse(bool(u.eq(5))), false);
  assert.is(env.guardOrTrue(bool(u.eq(5))), true);
  // Size-like: size-oblivious reasoning treats u0 as >= 2, so `u0 == 1` is false even under guardOrTrue.
  env.checkIsSize(u);
  assert.is(env.guardOrTrue(bool(u.eq(1))), false);
  assert.is(env.guardOrFalse(bool(u.ne(0))), true);
  assert.is(env.guards().length, 0);
});

oblivious('guardOrFalse on backed symbols guards normally', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([10], 'L.x');
  assert.is(env.guardOrFalse(bool(sym(n).gt(5))), true);
  assert.equal(env.rangeOfSize(n!), { lo: 6, hi: Infinity });
});

oblivious('guardSizeOblivious decides size-like questions, raises otherwise', () => {
  const { env, u } = nonzeroEnv();
  env.checkIsSize(u);
  assert.is(env.guardSizeOblivious(bool(u.eq(1))), false);
  assert.throws(() => env.guardSizeOblivious(bool(u.eq(7))), (e: unknown) => e instanceof DataDependentError);
});

oblivious.run();
