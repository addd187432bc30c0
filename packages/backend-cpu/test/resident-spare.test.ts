// An output's spare block (runtime/resident.ts, SpareSlot): a loop that reads and disposes each result
// keeps its outputs resident, in one warm block, even when the pool is full of outputs that are still out
// (alive, or dead and waiting for a major GC that a loop making young garbage never runs). Before spares,
// every output of such a loop was copied out to a fresh JS array and dispose() saved nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { cpuArena, residentPool } from '@kiln/backend-cpu';
import { drainPool, isResident, js, withSettings } from './resident-support.js';

k.manualSeed(17);
const x = k.randn([256, 256]); // 256 KB outputs: past the resident minimum
const softmax = (t: k.Tensor) => t.softmax(-1);
const want = softmax(js(x)).toTypedArray();
const same = (got: ArrayLike<number>, what: string, expected: ArrayLike<number> = want) => {
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-6, `${what}: element ${i}: ${got[i]} vs ${expected[i]}`);
};
const ptrOf = (t: k.Tensor) => (t.storage.external as unknown as { ptr: number }).ptr;

/** Outputs of another program, kept alive, until the pool's limits (its budget share or burst) refuse one more. */
function fillPool(): k.Tensor[] {
  const other = compile((t: k.Tensor) => t.mul(2));
  const pool = residentPool(cpuArena());
  const kept: k.Tensor[] = [];
  for (let i = 0; i < 200 && pool.admits(x.numel * 4); i++) kept.push(other(x));
  assert.not.ok(pool.admits(x.numel * 4), 'the pool is full');
  return kept;
}

const S = suite('resident outputs: the spare block of a read-and-dispose loop');
S.before.each(drainPool);

S('a full pool: a read-and-dispose loop still stays resident, in one block, equal to eager', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x).dispose(); // first call: compiles; the input may move into the arena
  const pool = residentPool(cpuArena());
  const spares = pool.spareBytes; // the other program's spare, held by a kept output
  const pointers = new Set<number>();
  for (let i = 0; i < 30; i++) {
    const y = fast(x);
    assert.ok(isResident(y), `call ${i}: output resident although the pool is full`);
    pointers.add(ptrOf(y));
    same(y.toTypedArray(), `call ${i}`);
    y.dispose();
  }
  assert.is(pointers.size, 1, 'every call wrote into the block the previous one gave back');
  assert.is(pool.spareBytes, spares, 'the spare is back once its output was disposed');
  assert.ok(kept.length > 0);
});

S('without dispose each output takes the spare over: the holder is evicted to a JS copy, values intact, the arena grows by two blocks at most', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x).dispose();
  const arena = cpuArena();
  const top = arena.usedBytes;
  const outs: k.Tensor[] = [];
  const views: k.Tensor[] = [];
  for (let i = 0; i < 20; i++) {
    const y = fast(x);
    assert.ok(isResident(y), `call ${i}: the new output holds the spare`);
    if (i > 0) assert.not.ok(isResident(outs[i - 1]!), `call ${i}: the previous holder was evicted`);
    outs.push(y);
    views.push(y.reshape([-1]).narrow(0, 5, 7)); // a view shares the storage: it must follow the eviction
  }
  assert.ok(arena.usedBytes - top <= 2 * (256 * 1024 + 64), `arena grew by ${arena.usedBytes - top} bytes`);
  for (const [i, y] of outs.entries()) same(y.toTypedArray(), `output ${i} after eviction`);
  for (const [i, v] of views.entries()) assert.equal(Array.from(v.toTypedArray()), Array.from(outs[i]!.toTypedArray().slice(5, 12)), `view ${i}`);
  // an evicted output fed back in is copied in from its JS copy, not read from the block a later call reused
  const again = fast(outs[0]!);
  same(again.toTypedArray() as Float32Array, 'softmax of an evicted output', softmax(js(outs[0]!)).toTypedArray());
  assert.ok(kept.length > 0);
});

S('budgetBytes 0 turns spares off too; outputs below minBytes never take one', () => {
  const kept = fillPool();
  withSettings({ budgetBytes: 0 }, () => {
    const fast = compile(softmax);
    for (let i = 0; i < 3; i++) {
      const y = fast(x);
      assert.not.ok(isResident(y), 'resident outputs are off');
      same(y.toTypedArray(), `call ${i}`);
      y.dispose();
    }
  });
  const tiny = compile((t: k.Tensor) => t.mul(3));
  const small = k.randn([64]);
  assert.not.ok(isResident(tiny(small)), 'a 256-byte output is copied, as below minBytes always');
  assert.ok(kept.length > 0);
});

S.run();
