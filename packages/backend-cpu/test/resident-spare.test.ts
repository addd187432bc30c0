// An output's spare block (runtime/resident.ts, SpareSlot): once the pool is full of outputs that are still
// out (alive, or dead and waiting for a major GC that a loop making young garbage never runs), each output
// of a program still goes into one block of its own. A loop that reads and disposes each result then
// writes every output into the same warm block; an undisposed previous output is evicted into a JS copy
// (the copy out the new output would have cost) and keeps its values. Before spares, every output of such
// a loop was copied out into a fresh JS array and dispose() saved nothing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { cpuArena, residentPool } from '@kiln/backend-cpu';
import { drainPool, isResident, js, withSettings } from './resident-support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

k.manualSeed(17);
const x = k.randn([256, 256]); // 256 KB outputs: past the resident minimum
const OUT_BYTES = 256 * 256 * 4;
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
  for (let i = 0; i < 200 && (kept.length < 2 || isResident(kept.at(-2)!)); i++) kept.push(other(x));
  assert.not.ok(isResident(kept.at(-2)!), 'the pool is full: outputs past it are not kept in the arena');
  return kept;
}

const S = suite('resident outputs: the spare block past a full pool');
S.before.each(drainPool);

S('a read-and-dispose loop stays resident in one warm block, equal to eager, however full the pool', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x).dispose(); // first call: compiles; the input may move into the arena
  const pool = residentPool(cpuArena());
  const evictions = pool.evictions;
  const pointers = new Set<number>();
  for (let i = 0; i < 30; i++) {
    const y = fast(x);
    assert.ok(isResident(y), `call ${i}: output resident although the pool is full`);
    pointers.add(ptrOf(y));
    same(y.toTypedArray(), `call ${i}`);
    y.dispose();
  }
  assert.is(pointers.size, 1, 'every call wrote into the block the previous one gave back');
  assert.is(pool.evictions, evictions, 'a disposed holder is never copied');
  assert.ok(kept.length > 0);
});

S('undisposed outputs are evicted into JS copies that keep their values; the arena grows by two blocks at most', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x);
  const arena = cpuArena();
  const pool = residentPool(arena);
  const top = arena.usedBytes;
  const evictions = pool.evictions;
  const outs: k.Tensor[] = [];
  const reads: ArrayLike<number>[] = [];
  for (let i = 0; i < 20; i++) {
    outs.push(fast(x));
    const read = outs.at(-1)!.toTypedArray();
    read.fill(-7); // the caller's array is its own: writing it changes no tensor
    reads.push(read);
  }
  assert.equal(outs.map(isResident), [...Array(19).fill(false), true], 'only the newest output holds the spare');
  assert.is(pool.evictions - evictions, 20, 'each call evicted the output before it (the first one, made before the loop, too)');
  assert.ok(arena.usedBytes - top <= 2 * (OUT_BYTES + 64), `arena grew by ${arena.usedBytes - top} bytes`);
  for (const [i, y] of outs.entries()) {
    same(y.toTypedArray(), `kept output ${i}`);
    same(y.narrow(0, 0, 256).contiguous().toTypedArray(), `a view of kept output ${i}`);
  }
  // an evicted output written in place, and fed back to a compiled call, reads its own values
  const evicted = outs[3]!;
  evicted.mul_(2);
  same(evicted.toTypedArray().map((v) => v / 2), 'evicted output written in place');
  same(outs[4]!.toTypedArray(), 'its neighbour, unchanged');
  const twice = compile((t: k.Tensor) => t.mul(0.5));
  same(twice(evicted).toTypedArray(), 'an evicted output as a compiled input');
  outs.at(-1)!.dispose();
  const next = fast(x);
  assert.ok(isResident(next), 'the spare is free again once its holder is disposed');
  same(next.toTypedArray(), 'after dispose');
  assert.ok(kept.length > 0);
});

S('a synchronous loop keeps no evicted copy alive past its tensor (no WeakRef holding targets until the job ends)', () => {
  const kept = fillPool();
  const fast = compile(softmax);
  fast(x);
  gc();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 60; i++) fast(x).toTypedArray();
  gc(); // in the same synchronous job: dead outputs and their copies must be collectable now
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 8 * OUT_BYTES, `JS array memory grew by ${grown} bytes over 60 calls (${OUT_BYTES} per output)`);
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
