import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Generator, KilnError, KilnTypeError, ShapeError, Tensor, ValueError, arange, eye, full, fullLike, linspace, manualSeed,
  ones, onesLike, rand, randLike, randn, randnLike, tensor, zeros, zerosLike,
} from '@kiln/tensor';

import { expectError } from './support/refs.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

const FromData = suite('creation: tensor() from JS data');

FromData('nested arrays give the shape and infer bool / int32 / float32', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(t.shape, [2, 3]);
  assert.is(t.dtype, 'int32');
  assert.equal(t.strides, [3, 1]);
  assert.equal(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.is(tensor([1, 2.5]).dtype, 'float32');
  assert.is(tensor([1.0, 2.0]).dtype, 'int32', 'integral-valued numbers are ints');
  assert.is(tensor([NaN]).dtype, 'float32');
  assert.is(tensor([Infinity]).dtype, 'float32');
  assert.is(tensor([[true, false]]).dtype, 'bool');
  assert.equal(tensor([[true, false]]).toArray(), [[true, false]]);
  assert.equal(tensor([[[1]], [[2]]]).shape, [2, 1, 1]);
});

FromData('scalars give 0-dim tensors; empty arrays give size-0 float32', () => {
  const s = tensor(3.5);
  assert.equal(s.shape, []);
  assert.is(s.ndim, 0);
  assert.is(s.numel, 1);
  assert.is(s.toArray(), 3.5);
  assert.is(tensor(true).toArray(), true);
  assert.is(tensor(7).dtype, 'int32');
  const e = tensor([]);
  assert.equal(e.shape, [0]);
  assert.is(e.dtype, 'float32');
  assert.equal(tensor([[], []]).shape, [2, 0]);
  assert.equal(tensor([[], []]).toArray(), [[], []]);
});

FromData('typed arrays keep their dtype; an explicit dtype converts', () => {
  assert.is(tensor(new Float64Array([1, 2])).dtype, 'float64');
  assert.is(tensor(new Float32Array([1, 2])).dtype, 'float32');
  assert.is(tensor(new Int32Array([1, 2])).dtype, 'int32');
  assert.equal(tensor(new Float32Array([0.1])).toArray(), [Math.fround(0.1)]);
  assert.equal(tensor(new Float64Array([1.5, 2])).shape, [2]);
  assert.equal(tensor([1.7, -1.7], { dtype: 'int32' }).toArray(), [1, -1], 'to int truncates toward zero');
  assert.equal(tensor([0, 2, -0.5], { dtype: 'bool' }).toArray(), [false, true, true]);
  assert.equal(tensor([true, false], { dtype: 'float64' }).toArray(), [1, 0]);
  assert.equal(tensor([0.1], { dtype: 'float64' }).toArray(), [0.1]);
  assert.equal(tensor([0.1], { dtype: 'float32' }).toArray(), [Math.fround(0.1)]);
});

FromData('the data is copied: changing the source array later does not change the tensor', () => {
  const src = new Float32Array([1, 2, 3]);
  const t = tensor(src);
  src[0] = 100;
  assert.equal(t.toArray(), [1, 2, 3]);
});

FromData('ragged or non-numeric input raises a typed error naming where', () => {
  expectError(() => tensor([[1, 2], [3]]), ShapeError, /ragged at \[1\]/);
  expectError(() => tensor([[1, 2], 3]), ShapeError, /ragged/);
  expectError(() => tensor([[[1], [2]], [[3], []]]), ShapeError, /\[1\]\[1\]/);
  expectError(() => tensor([1, [2]]), KilnTypeError, /element \[1\]/);
  expectError(() => tensor([1, 'a' as unknown as number]), KilnTypeError, /tensor:/);
  expectError(() => tensor([1, null as unknown as number]), KilnTypeError);
  expectError(() => tensor(null as unknown as number), KilnTypeError, /'data'/);
  expectError(() => tensor([1], { dtype: 'int64' as 'int32' }), KilnTypeError, /dtype/);
});

FromData('integral data outside int32 is refused instead of wrapping', () => {
  expectError(() => tensor([1, 3e9]), ValueError, 'tensor:', '3000000000', 'int32', "dtype: 'float64'");
  expectError(() => tensor([-2147483649]), ValueError, 'tensor:');
  expectError(() => tensor([1.5, 3e9], { dtype: 'int32' }), ValueError, 'tensor:');
  assert.equal(tensor([2147483647, -2147483648]).toArray(), [2147483647, -2147483648]);
  assert.equal(tensor([1, 3e9], { dtype: 'float64' }).toArray(), [1, 3e9]);
  assert.is(tensor([1, 3e9], { dtype: 'float32' }).dtype, 'float32');
  expectError(() => full([2], 2 ** 31), ValueError, 'full:', 'int32');
  assert.equal(full([1], 2 ** 31, { dtype: 'float64' }).toArray(), [2 ** 31]);
});

FromData.run();

const Fill = suite('creation: zeros, ones, full, eye, *_like');

Fill('zeros and ones default to float32 and accept a dtype', () => {
  const z = zeros([2, 3]);
  assert.is(z.dtype, 'float32');
  assert.equal(z.toArray(), [[0, 0, 0], [0, 0, 0]]);
  assert.equal(ones([2], { dtype: 'int32' }).toArray(), [1, 1]);
  assert.equal(ones([2], { dtype: 'bool' }).toArray(), [true, true]);
  assert.equal(zeros([]).shape, []);
  assert.equal(zeros([]).toArray(), 0);
  assert.equal(zeros([0, 4]).shape, [0, 4]);
  assert.equal(ones([3, 0]).toArray(), [[], [], []]);
  expectError(() => zeros([-1]), ShapeError, /zeros: sizes must be non-negative/);
  expectError(() => ones([1.5]), KilnError);
});

Fill('full infers its dtype from the value', () => {
  assert.is(full([2], 3).dtype, 'int32');
  assert.is(full([2], 3.5).dtype, 'float32');
  assert.is(full([2], true).dtype, 'bool');
  assert.equal(full([2, 1], 3.5).toArray(), [[3.5], [3.5]]);
  assert.equal(full([2], 3.7, { dtype: 'int32' }).toArray(), [3, 3]);
  assert.equal(full([1], -Infinity, { dtype: 'float64' }).toArray(), [-Infinity]);
});

Fill('eye is square or rectangular, with a dtype', () => {
  assert.equal(eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.equal(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  assert.equal(eye(3, 2).toArray(), [[1, 0], [0, 1], [0, 0]]);
  assert.is(eye(2).dtype, 'float32');
  assert.equal(eye(2, null, { dtype: 'bool' }).toArray(), [[true, false], [false, true]]);
  assert.equal(eye(0).shape, [0, 0]);
});

Fill('*_like keep shape and dtype unless told otherwise, and never share storage', () => {
  const x = tensor([[1, 2], [3, 4]]).transpose(0, 1);
  const z = zerosLike(x);
  assert.equal(z.shape, [2, 2]);
  assert.is(z.dtype, 'int32');
  assert.ok(z.isContiguous());
  assert.ok(z.storage !== x.storage);
  assert.equal(onesLike(x, { dtype: 'float64' }).toArray(), [[1, 1], [1, 1]]);
  assert.is(onesLike(x, { dtype: 'float64' }).dtype, 'float64');
  assert.equal(fullLike(x, 2.5).toArray(), [[2, 2], [2, 2]], 'an int tensor truncates the fill value');
  assert.equal(fullLike(x, 2.5, { dtype: 'float32' }).toArray(), [[2.5, 2.5], [2.5, 2.5]]);
  assert.equal(zerosLike(zeros([0, 3])).shape, [0, 3]);
});

Fill.run();

const Ranges = suite('creation: arange and linspace');

Ranges('arange with one, two and three arguments', () => {
  assert.equal(arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.is(arange(5).dtype, 'int32');
  assert.equal(arange(2, 5).toArray(), [2, 3, 4]);
  assert.equal(arange(1, 2.5, 0.5).toArray(), [1, 1.5, 2]);
  assert.is(arange(1, 2.5, 0.5).dtype, 'float32');
  assert.equal(arange(5, 0, -2).toArray(), [5, 3, 1]);
  assert.equal(arange(0, 5, -1).shape, [0]);
  assert.equal(arange(0).shape, [0]);
  assert.equal(arange(0, 1, 0.1).shape, [10]);
  assert.equal(arange(0, 1, 0.3).toArray(), [0, 0.3, 0.6, 0.9].map(Math.fround));
  assert.equal(arange(3, null, 1, { dtype: 'float64' }).toArray(), [0, 1, 2]);
  assert.equal(arange(4, null, 1, { dtype: 'float64' }).dtype, 'float64');
  expectError(() => arange(0, 1, 0), ValueError, /arange: step/);
});

Ranges('arange rejects non-finite bounds with a ValueError, not a RangeError', () => {
  for (const bad of [Infinity, NaN]) {
    expectError(() => arange(bad), ValueError, /arange/);
    expectError(() => arange(0, bad), ValueError);
  }
});

Ranges('linspace hits both ends exactly', () => {
  assert.equal(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(linspace(-1, 1, 3, { dtype: 'float64' }).toArray(), [-1, 0, 1]);
  const t = linspace(0, 0.7, 8, { dtype: 'float64' }).toArray() as number[];
  assert.is(t[0], 0);
  assert.is(t[7], 0.7);
  assert.ok(t.every((v, i) => Math.abs(v - i * 0.1) < 1e-15));
  assert.equal(linspace(3, 9, 1).toArray(), [3]);
  assert.equal(linspace(3, 9, 0).shape, [0]);
  assert.equal(linspace(5, 1, 3).toArray(), [5, 3, 1]);
  expectError(() => linspace(0, 1, -1), ValueError);
  expectError(() => linspace(0, 1, 2.5), KilnTypeError);
});

Ranges.run();

const Random = suite('creation: rand and randn with a seedable generator');

Random('the same seed gives the same values; a different seed different ones', () => {
  manualSeed(42);
  const a = values(rand([100]));
  manualSeed(42);
  const b = values(rand([100]));
  manualSeed(43);
  const c = values(rand([100]));
  assert.equal(a, b);
  assert.not.equal(a, c);
  manualSeed(7);
  const n1 = values(randn([3, 3]));
  manualSeed(7);
  assert.equal(values(randn([3, 3])), n1);
});

Random('rand is uniform in [0, 1), randn is standard normal', () => {
  const u = values(rand([20000], { generator: new Generator(1), dtype: 'float64' }));
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const mean = u.reduce((a, b) => a + b, 0) / u.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  assert.ok(u.filter((v) => v < 0.25).length / u.length > 0.23, 'first quartile is populated');
  const n = values(randn([20000], { generator: new Generator(2), dtype: 'float64' }));
  const m = n.reduce((a, b) => a + b, 0) / n.length;
  const variance = n.reduce((a, b) => a + (b - m) ** 2, 0) / n.length;
  assert.ok(Math.abs(m) < 0.03, `mean ${m}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  const within1 = n.filter((v) => Math.abs(v) < 1).length / n.length;
  assert.ok(Math.abs(within1 - 0.6827) < 0.02, `P(|z|<1) = ${within1}`);
});

Random('a generator option is independent of the global generator', () => {
  manualSeed(5);
  const globalFirst = values(rand([4]));
  manualSeed(5);
  const g = new Generator(123);
  const fromG = values(rand([4], { generator: g }));
  assert.equal(values(rand([4])), globalFirst, 'drawing from g did not advance the global generator');
  assert.equal(values(rand([4], { generator: new Generator(123) })), fromG, 'a fresh generator with the same seed repeats');
  const g2 = new Generator(9);
  const first = values(randn([5], { generator: g2 }));
  g2.seed(9);
  assert.equal(values(randn([5], { generator: g2 })), first, 'reseeding a generator repeats it, spare normal included');
});

Random('dtypes, shapes and errors', () => {
  assert.is(rand([2]).dtype, 'float32');
  assert.is(randn([2], { dtype: 'float64' }).dtype, 'float64');
  assert.equal(rand([2, 0, 3]).shape, [2, 0, 3]);
  assert.equal(randn([]).shape, []);
  assert.ok(values(rand([1000])).every((v) => v >= 0 && v < 1), 'float32 rounding stays below 1');
  expectError(() => rand([2], { dtype: 'int32' }), KilnTypeError, /rand: dtype must be float/);
  expectError(() => randn([-2]), ShapeError);
  expectError(() => rand([2], { generator: {} as Generator }), KilnTypeError, /'generator'/);
  // An object with only next() would fail inside randn's kernel: the schema asks for both methods.
  expectError(() => randn([2], { generator: { next: () => 0.5 } as Generator }), KilnTypeError, "randn: argument 'generator'");
});

Random('randLike and randnLike follow the input shape and float dtype', () => {
  const x = zeros([2, 3], { dtype: 'float64' });
  const g = new Generator(3);
  const r = randLike(x, { generator: g });
  assert.equal(r.shape, [2, 3]);
  assert.is(r.dtype, 'float64');
  assert.equal(values(r), values(rand([2, 3], { dtype: 'float64', generator: new Generator(3) })));
  assert.is(randnLike(tensor([1, 2])).dtype, 'float32', 'int input gives the default float dtype');
  assert.equal(randnLike(tensor([1, 2]), { dtype: 'float64' }).dtype, 'float64');
});

Random.run();
