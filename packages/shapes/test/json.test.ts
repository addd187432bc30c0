import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, expr as E, formatShapeEnv, sizeToJson, sizeFromJson, produceGuards, type SymInt, type SymBool } from '@kiln/shapes';

const json = suite('JSON round trip');

json('expressions with calls, powers and nested ints round-trip exactly', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 3], 'L.x');
  const s = a as SymInt;
  const samples = [
    (s.mul(s) as SymInt).add(b!),
    (s.floorDiv(b!) as SymInt).add(s.mod(4)),
    (s.max(b!) as SymInt).mul(-2),
    env.createNestedInt(2),
    s.mul(3),
  ];
  for (const x of samples) {
    const text = JSON.stringify(sizeToJson(x));
    const back = sizeFromJson(JSON.parse(text), env);
    assert.is(String(back), String(x));
    assert.is(JSON.stringify(sizeToJson(back)), text);
  }
  assert.is(sizeFromJson(7, env), 7);
});

json('a rebuilt size gets its hint back from the env', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([6], 'L.x');
  const back = sizeFromJson(sizeToJson((a as SymInt).mul(2)), env) as SymInt;
  assert.is(back.hint, 12);
});

json('guards round-trip as boolean expressions', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 3], 'L.x');
  ((a as SymInt).gt(b!) as SymBool).guardBool();
  ((a as SymInt).mod(b!) as SymInt).eq(0);
  for (const g of produceGuards(env)) {
    const back = E.boolFromJson(JSON.parse(JSON.stringify(E.boolToJson(g.expr))));
    assert.is(back.key, g.text);
  }
  const conj = E.and(E.compare('<', E.symbolExpr('s0'), E.symbolExpr('s1')), E.not(E.or(E.compare('==', E.symbolExpr('s0'), E.constant(3)), E.compare('==', E.symbolExpr('s1'), E.constant(4)))));
  assert.is(E.boolFromJson(JSON.parse(JSON.stringify(E.boolToJson(conj)))).key, conj.key);
});

json.run();

const envJson = suite('ShapeEnv JSON round trip');

envJson('symbols, ranges, replacements, guards and asserts survive a round trip', () => {
  const env = new ShapeEnv();
  env.setLocation('model.ts:1');
  const [a, b] = env.createSizes([8, 8], 'L.x', 'dynamic');
  const [c] = env.createSizes([6], 'L.y');
  env.setLocation('model.ts:4');
  ((a as SymInt).eq(b!) as SymBool).guardBool();
  ((c as SymInt).lt(100) as SymBool).guardBool();
  ((c as SymInt).mod(2) as SymInt).eq(0);
  (((c as SymInt).mod(3) as SymInt).eq(0) as SymBool).guardBool();
  const u = env.createUnbacked({ origin: 'nonzero' });
  env.checkIsSize(u);
  env.check(u.lt(c!));
  const text = JSON.stringify(env.toJson());
  const back = ShapeEnv.fromJson(JSON.parse(text));
  assert.is(JSON.stringify(back.toJson()), text);
  assert.equal(produceGuards(back), produceGuards(env));
  assert.is(formatShapeEnv(back), formatShapeEnv(env));
  // What the env knew still decides questions without new guards.
  const [c2] = back.createSizes([6], 'L.z');
  assert.is(String(c2), 's2');
  const u0 = sizeFromJson({ terms: [[1, [[{ sym: 'u0' }, 1]]]], constant: 0 }, back) as SymInt;
  assert.is(u0.lt(c2!), true);
  // L.z duck-sizes onto s2 (hint 6), whose divisibility by 3 was learned before the export.
  assert.is(String(((c2 as SymInt).floorDiv(3) as SymInt).mul(3)), 's2');
});

envJson.run();

const printing = suite('ShapeEnv printing');

printing('symbols, replacements and asserts print one per line', () => {
  const env = new ShapeEnv();
  env.setLocation('model.ts:1');
  const [a, b] = env.createSizes([8, 8], 'L.x', 'dynamic');
  env.setLocation('model.ts:5');
  ((a as SymInt).eq(b!) as SymBool).guardBool();
  env.setLocation('model.ts:12');
  const u = env.createUnbacked({ origin: 'nonzero' });
  env.setLocation('model.ts:13');
  env.checkIsSize(u);
  assert.is(
    formatShapeEnv(env),
    [
      's0: [2, inf]  hint 8  L.x.shape[0]',
      's1 := s0  # model.ts:5',
      'u0: [0, inf]  size-like  nonzero  # model.ts:12',
      'assert u0 >= 0  # model.ts:13',
    ].join('\n'),
  );
});

printing.run();
