// Resident outputs and arena memory: views re-made after the memory grows, blocks never reused while a
// tensor reads them, released once unreachable, and the byte budget past which outputs are copied out.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { ResidentConfigError, compileGraphForCpu, configureResident, cpuArena, residentPool } from '@kiln/backend-cpu';
import { drainPool, isResident, js, withSettings } from './resident-support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Fn = (...args: k.Tensor[]) => k.Tensor;
k.manualSeed(11);
const values = (t: k.Tensor) => Array.from(t.toTypedArray());
const pool = () => residentPool(cpuArena());

/** Collects garbage and lets the FinalizationRegistry run until `done()` or ~50 rounds. */
async function collect(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
  return done();
}

const hypot: Fn = (x, y) => x.mul(x).add(y.mul(y)).sqrt();
const fast = compile(hypot, { backend: 'cpu' });
const a = k.randn([32, 128]);
const b = k.randn([32, 128]);

const Growth = suite('resident: the memory grows between calls');
Growth.before(drainPool);

Growth('views are re-made after a grow; values, eager ops and the pointer path stay right', () => {
  const y = fast(a, b);
  const want = js(y);
  const stale = y.storage.data;
  const before = cpuArena().memory.buffer.byteLength;
  const big = k.randn([1 << 22]); // 16 MB in and out: more than the arena had
  const grown = compile((x: k.Tensor) => x.mul(2), { backend: 'cpu' })(big);
  assert.ok(cpuArena().memory.buffer.byteLength > before, 'the memory grew');
  // An unshared memory detaches its old buffer on a grow (why storages re-make their views); a shared one
  // (threads) never detaches, and an old view still reads the same bytes.
  if (cpuArena().threads) assert.equal(Array.from(stale), values(want), 'a shared memory keeps old views');
  else assert.is(stale.length, 0, 'a view kept across the grow is detached (why storages re-make theirs)');
  assert.is(y.storage.data.length, 32 * 128);
  assert.equal(values(y), values(want));
  assert.equal(values(y.add(1)), values(want.add(1)));
  assert.equal(values(fast(y, y)), values(fast(want, want)), 'read by pointer after the grow');
  y.mul_(2);
  assert.equal(values(y), values(want.mul(2)), 'written in place after the grow');
  assert.is(grown.numel, 1 << 22);
});

Growth('a resident input copied into a program that grows the memory during the call', () => {
  const y = fast(a, b);
  // transposed, so copied in; the big input before it grows the memory before the source is read
  // (compile() graph-breaks on a non-contiguous input, so the runner is driven directly)
  const g = (z: k.Tensor, x: k.Tensor) => x.add(z.sum());
  const program = compileGraphForCpu(traceOps(g, [k.ones([4]), y.transpose(0, 1)], { dynamic: true }).coreGraph);
  const f = (z: k.Tensor, x: k.Tensor) => (program.run([z, x]) as k.Tensor[])[0]!;
  const before = cpuArena().memory.buffer.byteLength;
  const big = k.full([before / 4 + 1], 0.5); // more bytes than the whole memory: it must grow
  const got = f(big, y.transpose(0, 1));
  assert.ok(cpuArena().memory.buffer.byteLength > before, 'the memory grew');
  const want = js(y).transpose(0, 1).add(big.sum());
  got.toTypedArray().forEach((v, i) => assert.ok(Math.abs(v - want.toTypedArray()[i]!) < 1e-2, `element ${i}`));
});

Growth.run();

const Lifetime = suite('resident: block lifetime');
Lifetime.before(drainPool);

Lifetime('a live output is never reused by later calls, even after dead blocks are released', async () => {
  const y = fast(a, b);
  const want = values(y);
  const other = compile((x: k.Tensor) => x.exp().softmax(-1).mul(3), { backend: 'cpu' });
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 20; i++) {
      fast(k.randn([32, 128]), b);
      other(a);
    }
    await collect(() => false); // dead outputs released: their blocks go back to the free list
  }
  assert.equal(values(y), want);
  assert.equal(values(fast(y, a)), values(hypot(js(y), a)));
});

Lifetime('blocks of unreachable outputs are released', async () => {
  const start = pool().bytes;
  (() => {
    for (let i = 0; i < 10; i++) fast(a, b);
  })();
  assert.ok(pool().bytes >= start + 10 * 32 * 128 * 4);
  assert.ok(await collect(() => pool().bytes <= start), `released: ${pool().bytes} bytes out, ${start} at the start`);
});

Lifetime.run();

const Budget = suite('resident: budget and minimum size');
Budget.before(drainPool);

Budget('over the budget, outputs are copied out to JS arrays', () => {
  const bytes = 32 * 128 * 4;
  // recompute off: otherwise the later calls evict the earlier outputs instead (recycle.test.ts)
  const outs = withSettings({ budgetBytes: pool().bytes + 3 * bytes, recompute: false }, () => Array.from({ length: 5 }, () => fast(a, b)));
  assert.equal(outs.map(isResident), [true, true, true, false, false]);
  for (const t of outs) assert.equal(values(t), values(hypot(a, b)));
});

Budget('a synchronous burst is capped until the event loop turns (finalizers cannot run before)', async () => {
  const bytes = 32 * 128 * 4;
  const saved = configureResident();
  await new Promise((r) => setTimeout(r, 0)); // start from a fresh turn
  configureResident({ burstBytes: 3 * bytes, recompute: false }); // see the test above
  try {
    const outs = Array.from({ length: 5 }, () => fast(a, b));
    assert.equal(outs.map(isResident), [true, true, true, false, false]);
    await new Promise((r) => setTimeout(r, 0));
    assert.ok(isResident(fast(a, b)), 'resident again after a turn');
  } finally {
    configureResident(saved);
  }
});

Budget('budget 0 turns resident outputs off; small outputs are copied', () => {
  const off = withSettings({ budgetBytes: 0 }, () => fast(a, b));
  assert.not.ok(isResident(off));
  assert.not.ok(isResident(fast(a.narrow(0, 0, 1).narrow(1, 0, 8), b.narrow(0, 0, 1).narrow(1, 0, 8))), '32 bytes: copied');
  const small = withSettings({ minBytes: 0 }, () => compile((x: k.Tensor) => x.sum(), { backend: 'cpu' })(a));
  assert.ok(isResident(small), 'minBytes 0: even a scalar stays resident');
  assert.ok(Math.abs(Number(small.item()) - Number(a.sum().item())) < 1e-3);
});

Budget('settings are checked', () => {
  assert.throws(() => configureResident({ budgetBytes: -1 }), (e: unknown) => e instanceof ResidentConfigError);
  assert.throws(() => configureResident({ minBytes: Number.NaN }), (e: unknown) => e instanceof ResidentConfigError);
  assert.throws(() => configureResident({ budget: 1 } as never), (e: unknown) => e instanceof ResidentConfigError);
  assert.is(configureResident().budgetBytes, 256 * 2 ** 20);
});

Budget.run();
