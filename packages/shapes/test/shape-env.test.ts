import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, produceGuards, isSymInt, symHint, sizeToString, type Size, type SymInt, type SymBool } from '@kiln/shapes';

const sym = (s: Size): SymInt => {
  assert.ok(isSymInt(s), `expected a SymInt, got ${String(s)}`);
  return s as SymInt;
};
const texts = (env: ShapeEnv): string[] => produceGuards(env).map((g) => g.text);

const duck = suite('duck sizing');

duck('equal hints share a symbol and produce a source equality guard', () => {
  const env = new ShapeEnv();
  env.setLocation('model.ts:1');
  const [a0, a1] = env.createSizes([8, 4], 'L.x');
  const [b0] = env.createSizes([8], 'L.y');
  assert.is(String(a0), 's0');
  assert.is(String(a1), 's1');
  assert.is(String(b0), 's0');
  assert.equal(texts(env), ['L.x.shape[0] == L.y.shape[0]', 'L.x.shape[0] >= 2', 'L.x.shape[1] >= 2']);
  const duckGuard = produceGuards(env).find((g) => g.kind === 'duck')!;
  assert.is(duckGuard.location, 'model.ts:1');
  assert.equal(duckGuard.sources, ['L.x.shape[0]', 'L.y.shape[0]']);
});

duck('distinct inputs (dynamic, or duckShape off) get their own symbols and no equality guard', () => {
  for (const env of [new ShapeEnv({ duckShape: false }), new ShapeEnv()]) {
    const dynamic = env.duckShape ? 'dynamic' : 'duck';
    const [a] = env.createSizes([8], 'L.x', dynamic);
    const [b] = env.createSizes([8], 'L.y', dynamic);
    assert.is(String(a), 's0');
    assert.is(String(b), 's1');
    assert.equal(texts(env), ['L.x.shape[0] >= 2', 'L.y.shape[0] >= 2']);
  }
});

duck('a static dimension is a number guarded by equality', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([8, 3], 'L.x', ['duck', 'static']);
  assert.is(String(a), 's0');
  assert.is(b, 3);
  assert.ok(texts(env).includes('L.x.shape[1] == 3'));
});

duck.run();

const zeroOne = suite('0/1 specialization');

zeroOne('sizes 0 and 1 are plain numbers guarded by equality; others have range [2, inf)', () => {
  const env = new ShapeEnv();
  const [a, b, c] = env.createSizes([1, 0, 5], 'L.x');
  assert.is(a, 1);
  assert.is(b, 0);
  assert.is(sizeToString(c!), 's0');
  assert.equal(env.rangeOfSize(c!), { lo: 2, hi: Infinity });
  assert.equal(texts(env), ['L.x.shape[0] == 1', 'L.x.shape[1] == 0', 'L.x.shape[2] >= 2']);
  assert.equal(produceGuards(env).map((g) => g.kind), ['specialization', 'specialization', 'range']);
});

zeroOne('ranges decide size comparisons against 0 and 1 without guards', () => {
  const env = new ShapeEnv();
  const [s] = env.createSizes([5], 'L.x');
  assert.is(sym(s).ne(1), true);
  assert.is(sym(s).gt(0), true);
  assert.is(sym(s).eq(0), false);
  assert.is(String(sym(s).max(1)), 's0');
  assert.is(sym(s).sub(s), 0);
  assert.is(env.guards().length, 0);
});

zeroOne('with specialization off, 0 and 1 become symbols with range [0, inf)', () => {
  const env = new ShapeEnv({ specializeZeroOne: false });
  const [a] = env.createSizes([1], 'L.x');
  assert.is(String(a), 's0');
  assert.equal(env.rangeOfSize(a!), { lo: 0, hi: Infinity });
});

zeroOne.run();

const arithmetic = suite('SymInt arithmetic');

arithmetic('results are canonical; constants come back as numbers', () => {
  const env = new ShapeEnv();
  const [n, c] = env.createSizes([6, 4], 'L.x');
  const s = sym(n);
  assert.is(String(sym(s.mul(2)).add(1)), '2*s0 + 1');
  assert.is(String(sym(s.mul(c)).floorDiv(c)), 's0');
  assert.is(sym(s.mul(2)).mod(2), 0);
  assert.is(sym(s.add(3)).sub(s), 3);
  assert.is(String(s.min(c)), 'Min(s0, s1)');
  assert.is(String(s.neg()), '-s0');
  assert.is(symHint(sym(s.mul(c)).add(1)), 25);
  assert.is(symHint(sym(s.floorDiv(4))), 1);
});

arithmetic('comparisons of identical expressions are decided without a guard', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([6], 'L.x');
  const s = sym(n);
  assert.is(sym(s.mul(2)).eq(s.add(s)), true);
  assert.is(sym(s.add(1)).gt(s), true);
  assert.is(env.guards().length, 0);
});

arithmetic.run();

const guarding = suite('guards');

guarding('converting a SymBool records a guard under the current location and returns the hint answer', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([8, 4], 'L.x');
  env.setLocation('model.ts:7');
  const cond = sym(a).gt(b) as SymBool;
  assert.is(String(cond), 's1 < s0');
  assert.is(cond.guardBool(), true);
  env.withLocation('model.ts:9', () => assert.is((sym(sym(a).mul(2)).lt(sym(b).mul(3)) as SymBool).guardBool(), false));
  const gs = produceGuards(env).filter((g) => g.kind === 'guard');
  assert.equal(gs.map((g) => [g.text, g.location]), [
    ['L.x.shape[1] < L.x.shape[0]', 'model.ts:7'],
    ['3*L.x.shape[1] <= 2*L.x.shape[0]', 'model.ts:9'],
  ]);
  // The guard is now a known fact: asking again decides statically.
  assert.is(sym(a).gt(b), true);
});

guarding('guardInt specializes and guards equality with the hint', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([8], 'L.x');
  assert.is(sym(a).guardInt(), 8);
  assert.ok(texts(env).includes('L.x.shape[0] == 8'));
  assert.is(sym(a).add(1), 9);
});

guarding.run();

const ranges = suite('value ranges');

ranges('guards on one symbol narrow its range and become range guards', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([8], 'L.x');
  env.setLocation('model.ts:3');
  assert.is((sym(a).lt(100) as SymBool).guardBool(), true);
  assert.is((sym(sym(a).mul(2)).ge(10) as SymBool).guardBool(), true);
  assert.equal(env.rangeOfSize(a!), { lo: 5, hi: 99 });
  assert.is(sym(a).lt(200), true);
  assert.is(sym(a).ge(4), true);
  assert.equal(texts(env), ['L.x.shape[0] >= 5', 'L.x.shape[0] <= 99']);
  assert.ok(produceGuards(env).every((g) => g.location === 'model.ts:3'));
});

ranges('a != guard at the edge of the range moves the edge', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([8], 'L.x');
  assert.is((sym(a).ne(2) as SymBool).guardBool(), true);
  assert.equal(env.rangeOfSize(a!), { lo: 3, hi: Infinity });
});

ranges('ranges flow through expressions', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([8, 3], 'L.x');
  assert.equal(env.rangeOfSize(sym(a).mul(b)), { lo: 4, hi: Infinity });
  assert.equal(env.rangeOfSize(sym(a).mod(3)), { lo: 0, hi: 2 });
  assert.is(sym(sym(a).mod(3)).lt(3), true);
});

ranges.run();

const replacements = suite('replacements');

replacements('after s0 == s1 is guarded, s1 is replaced by s0 everywhere', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([8], 'L.x', 'dynamic');
  const [b] = env.createSizes([8], 'L.y', 'dynamic');
  const sum = sym(a).add(b);
  env.setLocation('model.ts:5');
  assert.is((sym(a).eq(b) as SymBool).guardBool(), true);
  assert.equal([...env.replacements()].map(([k, v]) => [k, v.key]), [['s1', 's0']]);
  assert.is(String(b), 's0');
  assert.is(String(sum), '2*s0');
  assert.is(sym(a).sub(b), 0);
  const eq = produceGuards(env).find((g) => g.kind === 'equality')!;
  assert.is(eq.text, 'L.x.shape[0] == L.y.shape[0]');
  assert.is(eq.location, 'model.ts:5');
  assert.equal(texts(env), ['L.x.shape[0] == L.y.shape[0]', 'L.x.shape[0] >= 2']);
});

replacements('a linear equality replaces the newest symbol', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([3, 7], 'L.x');
  assert.is((sym(b).eq(sym(sym(a).mul(2)).add(1)) as SymBool).guardBool(), true);
  assert.is(String(b), '2*s0 + 1');
  assert.equal(texts(env), ['2*L.x.shape[0] + 1 == L.x.shape[1]', 'L.x.shape[0] >= 2']);
});

replacements('a replaced symbol keeps the range its replacement does not imply', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([7, 4], 'L.x');
  assert.is((sym(b).eq(sym(a).sub(3)) as SymBool).guardBool(), true);
  assert.is(String(b), 's0 - 3');
  assert.equal(env.rangeOfSize(a!), { lo: 5, hi: Infinity });
  assert.equal(texts(env), ['L.x.shape[0] == L.x.shape[1] + 3', 'L.x.shape[0] >= 5']);
});

replacements.run();

const constrain = suite('constrainRange and hints');

constrain('constrainRange on a backed size becomes range guards; on an unbacked one, runtime asserts', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([16], 'L.x');
  env.setLocation('export.ts:2');
  env.constrainRange(n!, { min: 4, max: 64 });
  assert.equal(env.rangeOfSize(n!), { lo: 4, hi: 64 });
  assert.equal(texts(env), ['L.x.shape[0] >= 4', 'L.x.shape[0] <= 64']);
  assert.throws(() => env.constrainRange(n!, { max: 8 }), /example value 16/);
  const u = env.createUnbacked({ origin: 'item' });
  env.constrainRange(u, { min: 0, max: 10 });
  assert.equal(env.rangeOfSize(u), { lo: 0, hi: 10 });
  assert.equal(env.runtimeAsserts().map((a) => a.expr.key), ['u0 >= 0', 'u0 <= 10']);
});

constrain('symHint falls back for unbacked symbols, clamped to their range', () => {
  const env = new ShapeEnv();
  const [n] = env.createSizes([16], 'L.x');
  const u = env.createUnbacked({ origin: 'nonzero' });
  env.constrainRange(u, { max: 100 });
  const size = sym(sym(u.mul(n!)).add(1));
  assert.is(symHint(size), undefined);
  assert.is(symHint(size, 8192), 100 * 16 + 1);
  assert.is(symHint(sym(u.add(n!)), 7), 23);
});

constrain.run();
