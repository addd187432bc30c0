// Reading a tensor's values out (`toTypedArray()`, copy-on-write copies): a new array of the tensor's dtype
// holding exactly its elements, whatever the size (small copies slice, large ones use the copy constructor,
// which does not zero-fill first) and wherever the elements start in their storage; never the storage's own
// array, so writing into what a read returned never changes the tensor.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DTYPES, Storage, Tensor, contiguousStridesOf, copyElements, type DType, type TypedArray } from '@kiln/tensor';

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

Read('copyElements: bounds [begin, end) of any typed array, in the dtype asked for', () => {
  const src = fill('int32', 9000);
  for (const [begin, end] of [[0, 9000], [0, 0], [5, 5], [1, 4097], [100, 9000], [0, 4096]] as const) {
    const got = copyElements('int32', src, begin, end);
    assert.instance(got, Int32Array);
    assert.equal(Array.from(got), Array.from(src.subarray(begin, end)), `[${begin}, ${end})`);
    assert.ok(got.buffer !== src.buffer);
  }
});

Read.run();
