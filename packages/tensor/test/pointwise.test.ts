import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as K from '@kiln/tensor';
import { ShapeError, Tensor, tensor } from '@kiln/tensor';
import {
  FC_RUNS, assertAllClose, layoutArb, makeTensor, refBroadcastAt, refBroadcastShape, refFromFlat, refToFlat, shapeArb,
  torchRefs, unravel, valuesFor,
} from './support/refs.js';

const refs = torchRefs();
type Fn = (...args: any[]) => Tensor;
const op = (name: string): Fn => (K as unknown as Record<string, Fn>)[name]!;
const values = (t: Tensor) => Array.from(t.toTypedArray());

const UNARY = [
  'neg', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'silu', 'erf',
  'floor', 'ceil', 'round', 'sign', 'reciprocal', 'logicalNot',
] as const;
const callUnary = (name: string, x: Tensor) => (name === 'geluTanh' ? K.gelu(x, { approximate: 'tanh' }) : op(name)(x));

// Signs of zero where Kiln and PyTorch may differ without a user noticing: relu(-0), maximum(0, -0), and
// gelu(-0), whose sign even PyTorch's float32 and float64 kernels disagree on.
const ZERO_SIGN_FREE = new Set(['relu', 'maximum', 'minimum', 'gelu', 'geluTanh']);
// 1 + erf(x) cancels for x << 0: PyTorch and Kiln both lose ~1e-12 of gelu there (and are equally far off).
const RTOL64: Record<string, number> = { gelu: 1e-11, geluTanh: 1e-11 };
const unsign = (xs: number[]) => xs.map((v) => (v === 0 ? 0 : v));
/**
 * Deliberate difference, written down in the README: sign(NaN) is NaN in Kiln (as in NumPy), PyTorch gives 0.
 * The reference is patched here so that the rest of the comparison stays exact.
 */
const patchSign = (name: string, x: number[], expected: number[]) =>
  name === 'sign' ? expected.map((v, i) => (Number.isNaN(x[i]!) ? NaN : v)) : expected;

const Unary = suite('pointwise: unary ops match PyTorch on special values');

Unary('float64: every unary op, with NaN, ±Inf, ±0, halves and large values', () => {
  const x = tensor(refs.x, { dtype: 'float64' });
  for (const name of [...UNARY, 'gelu', 'geluTanh']) {
    const out = callUnary(name, x);
    const expected = patchSign(name, refs.x, refs.unary[name]);
    const free = ZERO_SIGN_FREE.has(name);
    if (name === 'logicalNot') {
      assert.is(out.dtype, 'bool');
      assert.equal(values(out), expected.map(Number), name);
      continue;
    }
    assert.is(out.dtype, 'float64', `${name} keeps float64`);
    const got = values(out);
    assertAllClose(free ? unsign(got) : got, free ? unsign(expected) : expected, name, {
      rtol: RTOL64[name] ?? 1e-13, atol: 1e-300, inputs: [refs.x],
    });
  }
});

Unary('float32: every unary op within a few float32 ulps', () => {
  const x = tensor(refs.x, { dtype: 'float32' });
  for (const name of [...UNARY, 'gelu', 'geluTanh']) {
    const out = callUnary(name, x);
    const expected = patchSign(name, refs.x, refs.unaryF32[name].map(Number));
    const free = ZERO_SIGN_FREE.has(name);
    assert.is(out.dtype, name === 'logicalNot' ? 'bool' : 'float32', name);
    const got = values(out);
    assertAllClose(free ? unsign(got) : got, free ? unsign(expected) : expected, name, {
      // PyTorch's float32 gelu cancels in 1 + erf(x) (absolute error ~1e-7); Kiln computes in float64.
      rtol: 4e-7, atol: name.startsWith('gelu') ? 2e-7 : 1e-37, inputs: [refs.x],
    });
  }
});

Unary('int32 inputs: float ops give float32, exact ops keep int32, logicalNot gives bool', () => {
  const x = tensor([-3, 0, 2, 7]);
  assert.is(x.dtype, 'int32');
  for (const name of ['exp', 'log', 'sqrt', 'sigmoid', 'tanh', 'reciprocal', 'erf', 'silu', 'rsqrt']) {
    assert.is(op(name)(x).dtype, 'float32', name);
  }
  assert.is(K.gelu(x).dtype, 'float32');
  for (const name of ['neg', 'abs', 'relu', 'floor', 'ceil', 'round', 'sign']) assert.is(op(name)(x).dtype, 'int32', name);
  assert.equal(x.neg().toArray(), [3, 0, -2, -7]);
  assert.equal(x.abs().toArray(), [3, 0, 2, 7]);
  assert.equal(x.relu().toArray(), [0, 0, 2, 7]);
  assert.equal(x.sign().toArray(), [-1, 0, 1, 1]);
  assert.equal(x.reciprocal().toArray(), [-1 / 3, Infinity, 0.5, 1 / 7].map(Math.fround));
  assert.equal(x.logicalNot().toArray(), [false, true, false, false]);
  // -2^31 has no positive int32: abs and neg wrap to itself, as in PyTorch.
  assert.equal(tensor([-2147483648]).abs().toArray(), [-2147483648]);
  assert.equal(tensor([-2147483648]).neg().toArray(), [-2147483648]);
});

Unary('round is half-to-even, including negative halves and -0', () => {
  const x = tensor([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999999, 2.5000001, -0, 1e300, 4503599627370495.5], { dtype: 'float64' });
  const got = values(x.round());
  const expected = [0, 2, 2, 4, -0, -2, -2, 2, 3, -0, 1e300, 4503599627370496];
  assertAllClose(got, expected, 'round', { inputs: [values(x)] });
});

Unary('erf is accurate to float64 rounding against known values', () => {
  const known: [number, number][] = [
    [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014],
    [-1, -0.8427007929497149], [0.1, 0.1124629160182849], [1e-8, 1.1283791670955126e-8],
  ];
  const got = values(K.erf(tensor(known.map((k) => k[0]), { dtype: 'float64' })));
  assertAllClose(got, known.map((k) => k[1]), 'erf', { rtol: 4e-16, inputs: [known.map((k) => k[0])] });
  const t = refs.erf;
  assertAllClose(values(K.erf(tensor(t.x, { dtype: 'float64' }))), t.erf, 'erf', { rtol: 1e-15, atol: 1e-300, inputs: [t.x] });
  assert.ok(Object.is(values(K.erf(tensor([-0], { dtype: 'float64' })))[0], -0), 'erf(-0) is -0');
});

Unary('gelu: exact and tanh approximations differ, and both match hand values', () => {
  const x = tensor([-3, -1, 0, 1, 3], { dtype: 'float64' });
  const phi = (v: number) => 0.5 * (1 + erfRef(v / Math.SQRT2));
  const exact = [-3, -1, 0, 1, 3].map((v) => v * phi(v));
  const tanhApprox = [-3, -1, 0, 1, 3].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
  assertAllClose(values(K.gelu(x)), exact, 'gelu', { atol: 1e-6 });
  assertAllClose(values(x.gelu({ approximate: 'tanh' })), tanhApprox, 'gelu tanh', { rtol: 1e-14 });
  assertAllClose(values(x.gelu({ approximate: 'none' })), values(K.gelu(x)), 'gelu none is the default');
  assert.ok(Math.abs(values(K.gelu(x))[1]! - values(x.gelu({ approximate: 'tanh' }))[1]!) > 1e-5, 'the approximations differ');
  assert.throws(() => x.gelu({ approximate: 'fast' as 'tanh' }), /gelu: argument 'approximate' must be one of 'none', 'tanh'/);
});

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): independent of the library's series. */
function erfRef(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

Unary.run();

const BINARY = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'remainder', 'atan2',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr',
] as const;
const COMPARISON = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr']);

const Binary = suite('pointwise: binary ops match PyTorch');

Binary('float64: every binary op on all pairs of special values', () => {
  const { a, b } = refs.binary;
  const ta = tensor(a, { dtype: 'float64' });
  const tb = tensor(b, { dtype: 'float64' });
  for (const name of BINARY) {
    const out = op(name)(ta, tb);
    const expected: (number | boolean)[] = refs.binary[name];
    assert.is(out.dtype, COMPARISON.has(name) ? 'bool' : 'float64', name);
    const got = values(out);
    const want = expected.map(Number);
    const free = ZERO_SIGN_FREE.has(name);
    assertAllClose(free ? unsign(got) : got, free ? unsign(want) : want, name, { rtol: 1e-14, atol: 1e-300, inputs: [a, b] });
  }
});

Binary('int32: add/sub/mul wrap like C, alpha, remainder takes the divisor sign, div is true division', () => {
  const r = refs.int32;
  const a = tensor(r.a, { dtype: 'int32' });
  const b = tensor(r.b, { dtype: 'int32' });
  for (const name of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
    const out = op(name)(a, b);
    assert.is(out.dtype, 'int32', name);
    assertAllClose(values(out), r[name], `int32 ${name}`, { inputs: [r.a, r.b] });
  }
  assertAllClose(values(K.add(a, b, { alpha: 3 })), r.addAlpha3, 'int32 add alpha=3', { inputs: [r.a, r.b] });
  assertAllClose(values(a.neg()), r.neg, 'int32 neg', { inputs: [r.a] });
  const div = K.div(a, b);
  assert.is(div.dtype, 'float32');
  assertAllClose(values(div), r.div, 'int32 div', { rtol: 1.2e-7, inputs: [r.a, r.b] });
  // Values from PyTorch 1.13 (int32 pow by squaring, wrapping; negative exponents truncate 1/x).
  const base = tensor([3, -3, 7, 2, 2, -2, 0, 1, -1]);
  const expo = tensor([40, 41, 13, 31, 32, -1, 0, -5, -5]);
  assert.equal(base.pow(expo).toArray(), [689956897, -2069870691, -1895237401, -2147483648, 0, 0, 1, 1, -1], 'int32 pow');
  assert.equal(tensor([5]).add(tensor([2147483647]), { alpha: 2147483647 }).toArray(), [6], 'int32 alpha wraps');
  // Zero divisors raise (errors.test.ts); INT_MIN % -1 traps in C, so PyTorch has no value for it.
  const kept = r.remainderNonzero.flatMap((v: number | null, i: number) => (v === null ? [] : [i]));
  const rem = values(K.remainder(tensor(kept.map((i: number) => r.a[i]), { dtype: 'int32' }), tensor(kept.map((i: number) => r.b[i]), { dtype: 'int32' })));
  kept.forEach((i: number, k: number) => assert.is(rem[k], r.remainderNonzero[i], `remainder(${r.a[i]}, ${r.b[i]})`));
  assert.ok(kept.length > 100);
});

Binary('remainder sign rules by hand: result takes the sign of the divisor', () => {
  assert.equal(K.remainder(tensor([5, -5, 5, -5]), tensor([3, 3, -3, -3])).toArray(), [2, 1, -1, -2]);
  assert.equal(K.remainder(tensor([5.5, -5.5], { dtype: 'float64' }), 2).toArray(), [1.5, 0.5]);
  assert.equal(K.remainder(tensor([5.5, -5.5], { dtype: 'float64' }), -2).toArray(), [-0.5, -1.5]);
  assert.equal(tensor([7, -7]).remainder(2.5).toArray(), [2, 0.5], 'int tensor % float scalar is float');
});

Binary('comparisons give bool tensors whose toArray() is booleans', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([3, 2, 1]);
  for (const [name, expected] of [
    ['eq', [false, true, false]], ['ne', [true, false, true]], ['lt', [true, false, false]],
    ['le', [true, true, false]], ['gt', [false, false, true]], ['ge', [false, true, true]],
  ] as const) {
    const out = op(name)(a, b);
    assert.is(out.dtype, 'bool', name);
    assert.equal(out.toArray(), expected, name);
  }
  assert.equal(a.lt(2.5).toArray(), [true, true, false], 'int tensor vs float scalar compares as float');
  assert.equal(a.eq(2.5).toArray(), [false, false, false]);
  assert.equal(tensor([0.1]).eq(0.1).toArray(), [true], 'a float32 tensor equals the float32 rounding of a scalar');
  assert.equal(tensor([true, false]).logicalAnd(tensor([true, true])).toArray(), [true, false]);
  assert.equal(tensor([0, 2]).logicalOr(0).toArray(), [false, true]);
  assert.equal(tensor([NaN]).logicalNot().toArray(), [false], 'NaN is truthy');
});

Binary('scalars broadcast on the right with PyTorch dtypes', () => {
  const i = tensor([1, 2, 3]);
  const f = tensor([1, 2, 3], { dtype: 'float32' });
  const b = tensor([true, false]);
  assert.is(i.add(1).dtype, 'int32');
  assert.equal(i.add(1).toArray(), [2, 3, 4]);
  assert.is(i.add(1.5).dtype, 'float32');
  assert.equal(i.add(1.5).toArray(), [2.5, 3.5, 4.5]);
  assert.is(i.mul(true).dtype, 'int32');
  assert.is(f.add(1).dtype, 'float32');
  assert.is(b.add(true).dtype, 'bool');
  assert.equal(b.add(true).toArray(), [true, true]);
  assert.is(b.add(2).dtype, 'int32');
  assert.equal(b.add(2).toArray(), [3, 2]);
  assert.equal(i.sub(1, { alpha: 2 }).toArray(), [-1, 0, 1]);
  assert.equal(i.div(2).toArray(), [0.5, 1, 1.5]);
  assert.is(i.div(2).dtype, 'float32');
  assert.equal(i.pow(2).toArray(), [1, 4, 9]);
  assert.equal(f.pow(0.5).toArray(), [1, Math.SQRT2, Math.sqrt(3)].map(Math.fround));
  assert.equal(i.maximum(2).toArray(), [2, 2, 3]);
  assert.equal(tensor(2).add(tensor([1, 2], { dtype: 'float64' })).dtype, 'float64', '0-dim int + float64 tensor');
  assert.throws(() => i.add(2, { alpha: 2.5 }), /add: alpha=2.5 must be an integer/, 'float alpha on an int result');
  assert.equal(i.add(1.5, { alpha: 2 }).toArray(), [4, 5, 6], 'alpha scales other');
});

Binary('operands are converted to the float32 computation dtype before the op, as in PyTorch', () => {
  // Values from PyTorch 1.13.
  assert.equal(tensor([0.1]).eq(tensor(0.1, { dtype: 'float64' })).toArray(), [true], 'a float64 0-dim operand is rounded to float32');
  const big = tensor([16777217]);
  assert.equal(big.eq(tensor([16777216], { dtype: 'float32' })).toArray(), [true], 'an int32 operand is rounded to float32');
  assert.equal(big.sub(tensor([16777216], { dtype: 'float32' })).toArray(), [0]);
  assert.equal(big.mul(1.0).toArray(), [16777217], 'int32 * integral scalar stays int32');
  assert.equal(big.mul(1.5).toArray(), [25165824]);
});

Binary('where and clamp', () => {
  const c = tensor([true, false, true]);
  assert.equal(K.where(c, tensor([1, 2, 3]), tensor([10, 20, 30])).toArray(), [1, 20, 3]);
  assert.equal(K.where(c, 1.5, tensor([10, 20, 30])).toArray(), [1.5, 20, 1.5]);
  assert.is(K.where(c, 1.5, tensor([10, 20, 30])).dtype, 'float32');
  assert.equal(K.where(tensor([[true], [false]]), tensor([1, 2]), 0).toArray(), [[1, 2], [0, 0]]);
  const x = tensor([-2, 0.5, 3, NaN], { dtype: 'float64' });
  assertAllClose(values(x.clamp(-1, 1)), [-1, 0.5, 1, NaN], 'clamp');
  assertAllClose(values(K.clamp(x, undefined, undefined, { min: 0 })), [0, 0.5, 3, NaN], 'clamp min by name');
  assertAllClose(values(x.clamp(null, 0)), [-2, 0, 0, NaN], 'clamp max');
  assert.equal(tensor([1, 5, 9]).clamp(2, 6).toArray(), [2, 5, 6]);
  assert.is(tensor([1, 5, 9]).clamp(2, 6).dtype, 'int32');
  assert.is(tensor([1, 5, 9]).clamp(2.5).dtype, 'float32');
});

Binary.run();

const Broadcast = suite('pointwise: broadcasting over random shapes and layouts (property)');

/** Two shapes that broadcast: `b` is a suffix of `a` with some dims set to 1, then maybe with more dims. */
const broadcastPair = fc
  .tuple(shapeArb(4, 3), fc.array(fc.boolean(), { maxLength: 4 }), fc.integer({ min: 0, max: 4 }), fc.boolean())
  .map(([a, ones, keep, swap]) => {
    const suffix = a.slice(a.length - Math.min(keep, a.length));
    const b = suffix.map((s, i) => (ones[i] ? 1 : s));
    return swap ? [b, a] : [a, b];
  });

Broadcast('add, mul, maximum and lt agree with a naive indexed reference', () => {
  fc.assert(
    fc.property(broadcastPair, layoutArb, layoutArb, fc.constantFrom('add', 'mul', 'maximum', 'lt', 'sub'), ([sa, sb], la, lb, name) => {
      const va = valuesFor(sa!);
      const vb = valuesFor(sb!).map((v) => v * 10);
      const a = makeTensor(va, sa!, la);
      const b = makeTensor(vb, sb!, lb);
      const shape = refBroadcastShape(sa!, sb!)!;
      const out = op(name)(a, b);
      assert.equal(out.shape, shape);
      const ra = refFromFlat(va, sa!);
      const rb = refFromFlat(vb, sb!);
      const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y,
        maximum: Math.max, lt: (x: number, y: number) => (x < y ? 1 : 0) }[name]!;
      const expected = refToFlat({ shape, at: (idx) => f(refBroadcastAt(ra, shape, idx), refBroadcastAt(rb, shape, idx)) });
      assert.equal(values(out), expected);
    }),
    FC_RUNS,
  );
});

Broadcast('a scalar behaves like a 0-dim tensor of its value', () => {
  fc.assert(
    fc.property(shapeArb(), layoutArb, fc.integer({ min: -5, max: 5 }), (shape, layout, s) => {
      const x = makeTensor(valuesFor(shape), shape, layout);
      assert.equal(values(x.mul(s)), values(x.mul(tensor(s, { dtype: 'float64' }))));
      assert.equal(x.sub(s).shape, shape);
    }),
    FC_RUNS,
  );
});

Broadcast('shapes that do not broadcast raise a ShapeError naming the op and both shapes', () => {
  fc.assert(
    fc.property(shapeArb(3, 4), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), (shape, size, extra) => {
      const a = K.zeros([...shape, size]);
      const b = K.zeros([size + extra]);
      try {
        K.mul(a, b);
        return false;
      } catch (e) {
        assert.instance(e, ShapeError);
        const msg = (e as Error).message;
        assert.match(msg, 'mul:');
        assert.match(msg, `[${[...shape, size].join(', ')}]`);
        assert.match(msg, `[${size + extra}]`);
        return true;
      }
    }),
    FC_RUNS,
  );
});

Broadcast('size-0 dims broadcast against size 1 and give empty results', () => {
  const out = K.add(K.zeros([0, 3]), K.ones([1, 3]));
  assert.equal(out.shape, [0, 3]);
  assert.equal(out.toArray(), []);
  assert.equal(K.add(K.zeros([2, 0]), K.ones([2, 1])).shape, [2, 0]);
  assert.equal(K.exp(K.zeros([0])).shape, [0]);
  assert.equal(unravel(5, [2, 3]), [1, 2]);
});

Broadcast.run();
