import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, mathjsStats, simplifyWithMathjs, expr as E, type SymInt } from '@kiln/shapes';

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
