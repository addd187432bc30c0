// dispose(): a resident output gives its arena block back at once, so a synchronous loop that reads and
// disposes each result keeps its outputs resident in the same warm block (one allocation per read, not
// two), and a disposed tensor can never be read from a block that a later call reuses.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { cpuArena, residentPool } from '@kiln/backend-cpu';
import { drainPool, isResident, js, withSettings } from './resident-support.js';

k.manualSeed(11);
const x = k.randn([256, 256]); // 256 KB: past the resident minimum
const softmax = (t: k.Tensor) => t.softmax(-1);
const want = softmax(js(x)).toTypedArray();
const same = (got: ArrayLike<number>, what: string) => {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6, `${what}: element ${i}: ${got[i]} vs ${want[i]}`);
};

const D = suite('dispose: resident outputs given back now');
D.before(drainPool);

D('a synchronous read-and-dispose loop stays resident, in one block, equal to eager', () => {
  const fast = compile(softmax);
  fast(x).dispose(); // first call: the input moves into the arena
  const pool = residentPool(cpuArena());
  const before = pool.bytes;
  const pointers = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const y = fast(x);
    assert.ok(isResident(y), `call ${i}: output resident (the burst allowance is given back by dispose)`);
    pointers.add((y.storage.external as unknown as { ptr: number }).ptr);
    same(y.toTypedArray(), `call ${i}`);
    y.dispose();
  }
  assert.is(pool.bytes, before, 'every disposed block was given back');
  assert.is(pointers.size, 1, 'each call reused the block the previous one gave back');
});

D('without dispose the same loop copies out past the burst allowance (what dispose saves), unless outputs may be recomputed', () => {
  const fast = compile(softmax);
  const kept: k.Tensor[] = [];
  withSettings({ recompute: false }, () => {
    for (let i = 0; i < 80; i++) kept.push(fast(x));
  });
  assert.ok(kept.some((t) => !isResident(t)), 'some outputs were copied out to JS arrays');
  for (const t of kept) same(t.toTypedArray(), 'kept output');
});

D('reading a disposed tensor (or a view of it) throws DisposedTensorError; a copy-on-write sharer keeps its values', () => {
  const fast = compile(softmax);
  const y = fast(x);
  const view = y.reshape([-1]);
  const sharer = y.clone();
  const z = k.Tensor.fromData(new Float32Array([1, 2, 3]), [3], 'float32');
  z.dispose();
  y.dispose();
  assert.throws(() => y.toTypedArray(), (e: Error) => e instanceof k.DisposedTensorError && /disposed/.test(e.message));
  assert.throws(() => view.toTypedArray(), (e: Error) => e instanceof k.DisposedTensorError);
  assert.throws(() => z.toTypedArray(), (e: Error) => e instanceof k.DisposedTensorError);
  assert.throws(() => fast(y), (e: Error) => e instanceof k.DisposedTensorError, 'a compiled call on a disposed input');
  const again = fast(x); // may reuse y's block
  same(again.toTypedArray(), 'next call');
  same(sharer.toTypedArray(), 'clone made before dispose');
  y.dispose(); // twice: nothing more happens
});

D('toTypedArray({ dispose: true }): a consuming read loop stays resident in one block, as read-then-dispose does', async () => {
  await drainPool(); // the outputs the tests above kept
  const fast = compile(softmax);
  fast(x).dispose();
  const pool = residentPool(cpuArena());
  const before = pool.bytes;
  const pointers = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const y = fast(x);
    assert.ok(isResident(y), `call ${i}: output resident`);
    pointers.add((y.storage.external as unknown as { ptr: number }).ptr);
    const got = y.toTypedArray({ dispose: true });
    same(got, `call ${i}`);
    assert.ok(y.storage.disposed, `call ${i}: the tensor is disposed once read`);
    got.fill(0); // the caller owns what it read: the next call's values are not touched
  }
  assert.is(pool.bytes, before, 'every block was given back by the read');
  assert.is(pointers.size, 1, 'each call reused the block the previous read gave back');
  assert.throws(() => fast(x).toTypedArray({ dispose: 'yes' } as never), (e: Error) => e instanceof k.KilnTypeError && /dispose must be true or false/.test(e.message));
});

D('a consuming read of an output copied out of wasm memory hands over that copy (no second array); a shared or user array is copied', () => {
  const fast = compile(softmax);
  withSettings({ budgetBytes: 0 }, () => {
    const y = fast(x); // resident outputs off: copied out into a JS array
    assert.ok(!isResident(y));
    const own = y.storage.data;
    const got = y.toTypedArray({ dispose: true });
    assert.ok(got === own, 'the copy itself, not a second one');
    assert.ok(y.storage.disposed);
    same(got, 'handed-over copy');
    const z = fast(x);
    const clone = z.clone(); // shares z's array copy-on-write: it must be copied
    const zOwn = z.storage.data;
    const zGot = z.toTypedArray({ dispose: true });
    assert.ok(zGot !== zOwn);
    zGot.fill(0);
    same(clone.toTypedArray(), 'clone taken before the consuming read');
    const view = fast(x).reshape([-1, 2]); // a view's read is never the whole storage's array by accident
    const viewOwn = view.storage.data;
    assert.ok(view.toTypedArray({ dispose: true }) === viewOwn, 'a contiguous view of the whole storage hands it over too');
    const slice = fast(x).narrow(0, 1, 10);
    const sliceGot = slice.toTypedArray({ dispose: true });
    assert.is(sliceGot.length, 10 * 256);
    same(Array.from({ length: want.length }, (_, i) => (i >= 256 && i < 11 * 256 ? sliceGot[i - 256]! : want[i]!)), 'rows 1..10 of a narrowed output');
  });
  const userArray = new Float32Array([1, 2, 3]);
  const u = k.Tensor.fromData(userArray, [3], 'float32');
  const uGot = u.toTypedArray({ dispose: true });
  assert.ok(uGot !== userArray, 'an array the user gave is never handed back as a read');
  assert.equal(Array.from(uGot), [1, 2, 3]);
});

D.run();
