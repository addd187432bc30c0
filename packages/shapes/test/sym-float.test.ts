import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, mathjsStats, isSymFloat, simplifyWithMathjs, expr as E, type SymInt, type SymFloat, type SymBool } from '@kiln/shapes';

const floats = suite('SymFloat');

floats('true division gives a SymFloat whose guards specialize on the hint', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 4], 'L.x');
  const ratio = (a as SymInt).truediv(b!) as SymFloat;
  assert.ok(isSymFloat(ratio));
  assert.is(String(ratio), 'TrueDiv(s0, s1)');
  assert.is(ratio.hint, 1.5);
  assert.is(((a as SymInt).truediv(4) as SymFloat).toString(), '0.25*s0');
  assert.is((ratio.gt(1) as SymBool).guardBool(), true);
  assert.is(((a as SymInt).toFloat().mul(0.5) as SymFloat).guardFloat(), 3);
  assert.is((a as SymInt).truediv(a!), 1);
});

floats('a guard on a fractional linear form narrows the integer range correctly', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([6], 'L.x');
  const quarter = (a as SymInt).truediv(4) as SymFloat; // 0.25*s0, hint 1.5
  assert.is((quarter.lt(2.5) as SymBool).guardBool(), true); // s0 < 10
  assert.equal(env.rangeOfSize(a!), { lo: 2, hi: 9 });
  assert.is((quarter.gt(1.25) as SymBool).guardBool(), true); // s0 > 5
  assert.equal(env.rangeOfSize(a!), { lo: 6, hi: 9 });
});

floats.run();

const engine = suite('mathjs facade');

engine('simplify goes through mathjs once per expression, then hits the memo', () => {
  const square = E.mul(E.add(E.symbolExpr('s7'), E.constant(1)), E.add(E.symbolExpr('s7'), E.constant(1)));
  const before = mathjsStats();
  const first = simplifyWithMathjs(square);
  assert.is(first?.key, 's7**2 + 2*s7 + 1');
  assert.is(mathjsStats().calls, before.calls + 1);
  assert.is(simplifyWithMathjs(square)?.key, first?.key);
  assert.is(mathjsStats().calls, before.calls + 1);
  assert.is(mathjsStats().cacheHits, before.cacheHits + 1);
});

engine('exact division by a non-monomial needs no mathjs', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 4], 'L.x');
  const s0 = a as SymInt;
  const numerator = (s0.mul(b!) as SymInt).add(b!) as SymInt; // s1 * (s0 + 1)
  const before = mathjsStats().calls;
  assert.is(String(numerator.floorDiv(s0.add(1))), 's1');
  assert.is(numerator.mod(s0.add(1)), 0);
  assert.is(mathjsStats().calls, before);
});

engine('linear arithmetic never calls mathjs', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 4], 'L.x');
  const before = mathjsStats().calls;
  let x = a as SymInt;
  for (let i = 0; i < 50; i++) x = ((x.add(b!) as SymInt).mul(2) as SymInt).floorDiv(2) as SymInt;
  assert.is(String(x), 's0 + 50*s1');
  assert.is(mathjsStats().calls, before);
});

engine.run();
