// The per-op specialized element loops (kernels/pointwise.ts) must give exactly what the generic loops give:
// every operand layout (contiguous, offset, transposed, broadcast, scalar on either side), dtypes that
// promote, and outputs the generic path keeps for itself (bool, float32 rounding of int operands).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as K from '@kiln/tensor';
import { SpecializedLoops, mapBinary, mapUnary } from '../src/kernels/pointwise.js';

const test = suite('specialized element loops');
K.manualSeed(3);

const bits = (t: K.Tensor) => Array.from(t.toTypedArray(), (v) => (Object.is(v, -0) ? '-0' : String(v)));
const f2 = (x: number, y: number) => x * y - x / (y + 0.5);
const f1 = (v: number) => Math.exp(v) - v;
const loops2 = new SpecializedLoops(f2);
const loops1 = new SpecializedLoops(f1);

const base = K.randn([6, 5]);
const layouts: [string, K.Tensor | number][] = [
  ['contiguous', K.randn([6, 5])],
  ['offset view', K.randn([8, 5]).narrow(0, 2, 6)],
  ['transposed', K.randn([5, 6]).transpose(0, 1)],
  ['broadcast row', K.randn([5])],
  ['broadcast column', K.randn([6, 1])],
  ['stepped slice', K.randn([6, 11]).slice(1, 0, 10, 2)],
  ['scalar', 1.75],
  ['int32', K.randn([6, 5]).mul(4).round().to('int32')],
  ['special values', K.tensor([[NaN, Infinity, -Infinity, -0, 0]]).expand([6, 5])],
];

for (const [name, other] of layouts) {
  test(`binary: ${name} on either side matches the generic loop exactly`, () => {
    for (const [a, b] of [[base, other], [other, base]] as const) {
      if (typeof a === 'number' && typeof b === 'number') continue;
      const shape = [6, 5];
      for (const compute of ['float32', 'float64'] as const) {
        const want = mapBinary(a, b, shape, 'float32', compute, f2);
        const got = mapBinary(a, b, shape, 'float32', compute, f2, loops2);
        assert.equal(bits(got), bits(want), `${compute}`);
      }
      const cmpWant = mapBinary(a, b, shape, 'bool', 'float32', (x, y) => (x < y ? 1 : 0));
      const cmpGot = mapBinary(a, b, shape, 'bool', 'float32', (x, y) => (x < y ? 1 : 0), loops2);
      assert.equal(bits(cmpGot), bits(cmpWant), 'bool output keeps the generic store');
    }
  });
}

test('unary over contiguous, strided and int32 inputs matches the generic loop exactly', () => {
  for (const [, x] of layouts) {
    if (typeof x === 'number') continue;
    for (const out of ['float32', 'float64'] as const) assert.equal(bits(mapUnary(x, out, f1, loops1)), bits(mapUnary(x, out, f1)));
  }
});

test('ops use them: add/mul/exp results unchanged on every layout (against a float64 reference rounded once)', () => {
  const a = K.randn([7, 3]).transpose(0, 1);
  const b = K.randn([7]);
  const got = a.mul(2).add(b).exp().toTypedArray();
  const av = a.toTypedArray();
  const bv = b.toTypedArray();
  got.forEach((v, i) => assert.is(v, Math.fround(Math.exp(Math.fround(Math.fround(av[i]! * 2) + bv[i % 7]!)))));
});

test.run();
