import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeEnv, produceGuards, guardFunctionSource, guardToJs, sizeToJs, symbolSources, JsEmitError, type SymInt, type SymBool } from '@kiln/shapes';

type Inputs = Record<string, { shape: number[] }>;

function compile(env: ShapeEnv): (L: Inputs) => number {
  const { params, source } = guardFunctionSource(produceGuards(env));
  assert.equal(params, ['L']);
  return new Function(`return ${source};`)() as (L: Inputs) => number;
}

const emit = suite('guards as JavaScript');

emit('the compiled guard function accepts inputs the trace is valid for and names the first failing guard', () => {
  const env = new ShapeEnv();
  env.setLocation('model.ts:2');
  const [b, n] = env.createSizes([4, 16], 'L.x');
  const [b2, one] = env.createSizes([4, 1], 'L.y');
  env.setLocation('model.ts:5');
  assert.is((((n as SymInt).mod(4) as SymInt).eq(0) as SymBool).guardBool(), true);
  assert.is(((b as SymInt).lt(n!) as SymBool).guardBool(), true);
  void b2;
  void one;
  const guards = produceGuards(env);
  assert.equal(guards.map((g) => g.text), [
    'L.x.shape[0] == L.y.shape[0]',
    'L.y.shape[1] == 1',
    'L.x.shape[0] >= 2',
    'L.x.shape[1] >= 2',
    'Mod(L.x.shape[1], 4) == 0',
    'L.x.shape[0] < L.x.shape[1]',
  ]);
  const check = compile(env);
  const at = (x: number[], y: number[]): number => check({ x: { shape: x }, y: { shape: y } });
  assert.is(at([4, 16], [4, 1]), -1);
  assert.is(at([8, 32], [8, 1]), -1);
  assert.is(at([3, 12], [3, 1]), -1);
  assert.is(guards[at([4, 16], [5, 1])]!.text, 'L.x.shape[0] == L.y.shape[0]');
  assert.is(guards[at([4, 16], [4, 2])]!.text, 'L.y.shape[1] == 1');
  assert.is(guards[at([1, 16], [1, 1])]!.text, 'L.x.shape[0] >= 2');
  assert.is(guards[at([4, 18], [4, 1])]!.text, 'Mod(L.x.shape[1], 4) == 0');
  assert.is(guards[at([8, 8], [8, 1])]!.text, 'L.x.shape[0] < L.x.shape[1]');
  assert.is(guards[at([8, 8], [8, 1])]!.location, 'model.ts:5');
});

emit('each guard emits on its own, with sources mapped to scratch names', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([6], 'L.x');
  ((a as SymInt).floorDiv(4) as SymInt).guardInt();
  const g = produceGuards(env).find((x) => x.kind === 'guard')!;
  assert.is(g.text, 'FloorDiv(L.x.shape[0], 4) == 1');
  assert.is(guardToJs(g, () => 's0'), 'Math.floor((s0) / (4)) === 1');
});

emit('sizes emit as JavaScript expressions', () => {
  const env = new ShapeEnv();
  const [a, b] = env.createSizes([6, 3], 'L.x');
  const size = ((a as SymInt).mul(b!) as SymInt).add(1);
  assert.is(sizeToJs(size), 's0*s1 + 1');
  assert.is(sizeToJs(size, (s) => `sizes[${s.slice(1)}]`), 'sizes[0]*sizes[1] + 1');
  assert.is(sizeToJs(((a as SymInt).max(b!) as SymInt).neg()), '-Math.max(s0, s1)');
  assert.throws(() => sizeToJs(size, () => 'alert(1)'), (e: unknown) => e instanceof JsEmitError);
});

emit('a failing guard returns before later sources are read', () => {
  const env = new ShapeEnv();
  env.createSizes([1], 'L.x');
  env.createSizes([5], 'L.y');
  const check = compile(env);
  assert.is(check({ x: { shape: [2] } } as unknown as Inputs), 0);
  assert.is(check({ x: { shape: [1] }, y: { shape: [5] } }), -1);
});

emit('symbolSources lists the free backed symbols with the source each is read from', () => {
  const env = new ShapeEnv();
  const [a] = env.createSizes([6], 'L.x', 'dynamic');
  const [b] = env.createSizes([6], 'L.y', 'dynamic');
  env.createSizes([3], 'L.z');
  ((a as SymInt).eq(b!) as SymBool).guardBool();
  assert.equal(symbolSources(env), [
    { symbol: 's0', source: 'L.x.shape[0]' },
    { symbol: 's2', source: 'L.z.shape[0]' },
  ]);
});

emit('unsafe sources are refused', () => {
  const env = new ShapeEnv();
  env.createSizes([6], 'L.x');
  env.createSizes([6], 'L["x"]); evil(');
  assert.throws(() => guardFunctionSource(produceGuards(env)), (e: unknown) => e instanceof JsEmitError);
});

emit.run();
