import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, isSymFloat, type SymInt, type SymFloat, type SymBool } from '@kiln/shapes';

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
