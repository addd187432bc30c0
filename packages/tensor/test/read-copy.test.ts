// Reading a tensor's values out (`toTypedArray()`, copy-on-write copies): a new array of the tensor's dtype
// holding exactly its elements, whatever the size (small copies slice, large ones use the copy constructor,
// which does not zero-fill first) and wherever the elements start in their storage; never the storage's own
// array, so writing into what a read returned never changes the tensor.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DTYPES, DisposedTensorError, KilnTypeError, Storage, Tensor, contiguousStridesOf, copyElements, type DType, type TypedArray } from '@kiln/tensor';

const ARRAY = { bool: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array } as const;
/** Distinct values every dtype holds exactly (bool: 0/1). */
const fill = (dtype: DType, n: number): TypedArray => {
  const out = new ARRAY[dtype](n);
  for (let i = 0; i < n; i++) out[i] = dtype === 'bool' ? Number(i % 3 === 0) : (i % 1000) - 500 + i / 1024;
  return out;
};
const tensorOver = (data: TypedArray, dtype: DType, shape: number[], offset = 0) => new Tensor(new Storage(data, dtype), shape, contiguousStridesOf(shape), offset, dtype);

const Read = suite('read: toTypedArray copies exactly the elements, into a new array of the dtype');

// 10 and 3000 elements take slice(); 5000 and 70000 the copy constructor (whole storage or a range of it)
for (const dtype of DTYPES) {
  for (const n of [10, 3000, 5000, 70000]) {
    Read(`${dtype}, ${n} elements: the whole storage, and a range starting inside it`, () => {
      const data = fill(dtype, n + 40);
      const whole = tensorOver(data, dtype, [n + 40]);
      const got = whole.toTypedArray();
      assert.instance(got, ARRAY[dtype]);
      assert.ok(got !== data && got.buffer !== data.buffer, 'a new array, not the storage');
      assert.equal(Array.from(got), Array.from(data));
      const range = tensorOver(data, dtype, [n], 17);
      const part = range.toTypedArray();
      assert.instance(part, ARRAY[dtype]);
      assert.is(part.length, n);
      assert.equal(Array.from(part), Array.from(data.subarray(17, 17 + n)));
    });
  }
}

Read('writing into what a read returned leaves the tensor (and a second read) unchanged, small and large', () => {
  for (const n of [8, 1 << 18]) {
    const data = fill('float32', n);
    const t = tensorOver(data, 'float32', [n]);
    const first = t.toTypedArray();
    first.fill(-7);
    assert.equal(Array.from(t.toTypedArray().subarray(0, 8)), Array.from(data.subarray(0, 8)));
    assert.is(t.storage.data[n - 1], data[n - 1]);
    assert.ok(data[0] !== -7);
  }
});

Read('a copy-on-write copy of a large storage holds its values, and the writer no longer shares them', () => {
  const n = 1 << 16;
  const x = tensorOver(fill('float64', n), 'float64', [n]);
  const c = x.clone();
  c.add_(1);
  const xs = x.toTypedArray();
  const cs = c.toTypedArray();
  for (const i of [0, 1, n >> 1, n - 1]) assert.is(cs[i], xs[i]! + 1);
});

Read('copyElements: bounds [begin, end) of any typed array, into a new array of its type', () => {
  const src = fill('int32', 9000);
  for (const [begin, end] of [[0, 9000], [0, 0], [5, 5], [1, 4097], [100, 9000], [0, 4096]] as const) {
    const got = copyElements(src, begin, end);
    assert.instance(got, Int32Array);
    assert.equal(Array.from(got), Array.from(src.subarray(begin, end)), `[${begin}, ${end})`);
    assert.ok(got.buffer !== src.buffer);
  }
  const bytes = new Uint8Array(10000).map((_, i) => i & 255);
  assert.instance(copyElements(bytes), Uint8Array);
  assert.equal(Array.from(copyElements(bytes, 9, 5009)), Array.from(bytes.subarray(9, 5009)));
});

Read('toTypedArray({ dispose: true }) reads, then disposes the tensor and its views; { dispose: false } does not', () => {
  const data = fill('float32', 6);
  const t = tensorOver(data, 'float32', [2, 3]);
  const view = t.reshape([6]);
  const kept = t.toTypedArray({ dispose: false });
  assert.ok(!t.storage.disposed);
  const got = t.toTypedArray({ dispose: true });
  assert.equal(Array.from(got), Array.from(kept));
  assert.ok(t.storage.disposed);
  assert.throws(() => view.toTypedArray(), (e: Error) => e instanceof DisposedTensorError);
  assert.throws(() => t.toTypedArray({ dispose: true }), (e: Error) => e instanceof DisposedTensorError, 'reading it again');
  // a lazy clone taken before keeps its values
  const u = tensorOver(fill('int32', 5), 'int32', [5]);
  const c = u.clone();
  u.reshape([5, 1]).toTypedArray({ dispose: true });
  assert.equal(Array.from(c.toTypedArray()), Array.from(fill('int32', 5)));
});

Read('toTypedArray: bad options are a KilnTypeError naming the option, and the tensor is left as it was', () => {
  const t = tensorOver(fill('float32', 4), 'float32', [4]);
  const bad: [unknown, RegExp][] = [
    [null, /options must be an object, got null/],
    [true, /options must be an object, got boolean/],
    [[1], /options must be an object, got an array/],
    [{ dispose: 1 }, /dispose must be true or false, got number/],
    [{ dipsose: true }, /unknown option 'dipsose'/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => t.toTypedArray(options as never), (e: Error) => e instanceof KilnTypeError && message.test(e.message) && /toTypedArray\(\{ dispose: true \}\)/.test((e as KilnTypeError).hint ?? ''), String(message));
    assert.ok(!t.storage.disposed);
  }
});

Read.run();
