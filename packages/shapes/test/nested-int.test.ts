import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, NestedIntError, JsEmitError, sizeToJs, expr as E, type SymInt } from '@kiln/shapes';

const nested = suite('nested ints');

nested('a nested int equals itself and nothing else', () => {
  const env = new ShapeEnv();
  const j0 = env.createNestedInt();
  const j1 = env.createNestedInt();
  const [s] = env.createSizes([5], 'L.x');
  assert.is(String(j0), 'j0');
  assert.is(j0.eq(j0), true);
  assert.is(j0.ne(j0), false);
  assert.is(j0.eq(j1), false);
  assert.is(j0.eq(5), false);
  assert.is(j0.eq(s!), false);
  assert.is(j0.ne(s!), true);
  assert.is(env.guards().length, 0);
});

nested('it may carry a coefficient; 2*j0 equals 2*j0 only', () => {
  const env = new ShapeEnv();
  const j0 = env.createNestedInt();
  const twice = j0.mul(2) as SymInt;
  assert.is(String(twice), '2*j0');
  assert.is(twice.eq(j0.mul(2)), true);
  assert.is(twice.eq(j0), false);
  assert.is(String(env.createNestedInt(3)), '3*j1');
});

nested('it has no free symbols and no runtime value', () => {
  const env = new ShapeEnv();
  const j0 = env.createNestedInt();
  assert.equal([...E.freeSymbols(j0.expr)], []);
  assert.throws(() => sizeToJs(j0), (e: unknown) => e instanceof JsEmitError);
});

nested('size checks against constants hold; other arithmetic and orderings raise NestedIntError', () => {
  const env = new ShapeEnv();
  const j0 = env.createNestedInt();
  const [s] = env.createSizes([5], 'L.x');
  assert.is(j0.ge(2), true);
  assert.is(j0.gt(1), true);
  assert.is(j0.lt(0), false);
  env.setLocation('model.ts:8');
  assert.throws(() => j0.add(1), (e: unknown) => e instanceof NestedIntError && /j0.*add.*model\.ts:8/.test((e as Error).message));
  assert.throws(() => j0.mul(s!), (e: unknown) => e instanceof NestedIntError);
  assert.throws(() => j0.lt(s!), (e: unknown) => e instanceof NestedIntError);
});

nested.run();
