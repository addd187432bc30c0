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
const same = (got: ArrayLike<number>, what: string) => {
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6, `${what}: element ${i}: ${got[i]} vs ${want[i]}`);
};
const ptrOf = (t: k.Tensor) => (t.storage.external as unknown as { ptr: number }).ptr;

/** Outputs of another program, kept alive, until the pool copies its outputs out (limit or burst reached). */
function fillPool(): k.Tensor[] {
  const other = compile((t: k.Tensor) => t.mul(2));
  const kept: k.Tensor[] = [];
  for (let i = 0; i < 200 && (kept.length === 0 || isResident(kept.at(-1)!)); i++) kept.push(other(x));
  assert.not.ok(isResident(kept.at(-1)!), 'the pool is full: a new output is copied out');
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

S('without dispose the spare is taken once: later outputs are copied out, the arena grows by one block at most', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x).dispose();
  const arena = cpuArena();
  const top = arena.usedBytes;
  const outs: k.Tensor[] = [];
  for (let i = 0; i < 20; i++) outs.push(fast(x));
  assert.is(outs.filter(isResident).length, 1, 'only the first output took the spare');
  assert.ok(arena.usedBytes - top <= 256 * 1024 + 64, `arena grew by ${arena.usedBytes - top} bytes`);
  for (const [i, y] of outs.entries()) same(y.toTypedArray(), `kept output ${i}`);
  outs[0]!.dispose();
  const next = fast(x);
  assert.ok(isResident(next), 'the spare is free again once its output is disposed');
  same(next.toTypedArray(), 'after dispose');
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
