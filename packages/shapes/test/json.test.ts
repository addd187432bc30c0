import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, expr as E, sizeToJson, sizeFromJson, produceGuards, type SymInt, type SymBool } from '@kiln/shapes';

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
