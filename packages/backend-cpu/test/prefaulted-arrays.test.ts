// Large reads take buffers whose pages a helper thread mapped beforehand (runtime/prefaulted-arrays.ts): the
// read itself does not page-fault, and what it returns is an ordinary ArrayBuffer of its own, equal to eager,
// that the caller may write. Only where the process runs threads; sizes outside the range allocate as
// before; what the helper holds is bounded and let go when reads stop; the helper never keeps a process alive.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import {
  PREFAULT_MAX_BYTES, PREFAULT_MAX_HELD_BYTES, PREFAULT_MIN_BYTES, PrefaultedArrays, configureThreads, prefaultedArrays, threadCount,
} from '@kiln/backend-cpu';
import { drainPool, isResident, js } from './resident-support.js';

/** Minor page faults of the calling thread so far (Linux); undefined where /proc does not say. */
const threadFaults = (): number | undefined => {
  if (!existsSync('/proc/thread-self/stat')) return undefined;
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]); // field 10, minflt
};

/** Whether two arrays hold the same values within `tol` (uvu's diff of two large arrays would take minutes). */
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 0): string | true => {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= tol)) return `element ${i}: ${got[i]} vs ${want[i]}`;
  return true;
};
const assertClose = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 0) => {
  const same = close(got, want, tol);
  assert.ok(same === true, `${what}: ${same}`);
};

/** Waits (up to 20 s: a busy machine) until `pool` has `bytes` ready. */
async function untilReady(pool: PrefaultedArrays, bytes: number): Promise<void> {
  for (let i = 0; i < 2000 && pool.readyBytes < bytes; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pool.readyBytes >= bytes, `the helper made ${bytes} bytes of buffers within 20 s (ready: ${pool.readyBytes})`);
}

const Helper = suite('prefaulted arrays: the helper and its buffers');

Helper('a size in range is asked for at the first take and taken later: zeroed, unshared, exactly that long', async () => {
  const pool = new PrefaultedArrays();
  const bytes = 3 << 20;
  assert.is(pool.take(bytes), undefined, 'nothing ready at first');
  assert.equal(pool.stats, { taken: 0, missed: 1, asked: 2 });
  await untilReady(pool, 2 * bytes);
  const a = pool.take(bytes)!;
  const b = pool.take(bytes)!;
  assert.ok(a instanceof ArrayBuffer && !(a instanceof SharedArrayBuffer) && b instanceof ArrayBuffer);
  assert.ok(a !== b, 'each take is a buffer of its own');
  assert.is(a.byteLength, bytes);
  assert.ok(new Uint8Array(a).every((v) => v === 0), 'zeroed');
  assert.is(pool.stats.taken, 2);
  pool.clear();
});

Helper('sizes below PREFAULT_MIN_BYTES or above PREFAULT_MAX_BYTES are never asked for', () => {
  const pool = new PrefaultedArrays();
  assert.is(pool.take(PREFAULT_MIN_BYTES - 64), undefined);
  assert.is(pool.take(PREFAULT_MAX_BYTES + 64), undefined);
  assert.equal(pool.stats, { taken: 0, missed: 0, asked: 0 });
});

Helper('the bytes held (ready or asked for) never pass PREFAULT_MAX_HELD_BYTES; a new size pushes old ones out', async () => {
  const pool = new PrefaultedArrays();
  const big = PREFAULT_MAX_BYTES;
  pool.take(big);
  assert.ok(pool.heldBytes <= PREFAULT_MAX_HELD_BYTES, `held ${pool.heldBytes}`);
  await untilReady(pool, PREFAULT_MAX_HELD_BYTES);
  const small = 2 << 20;
  pool.take(small); // a new size: the old size's ready buffers make room
  assert.ok(pool.heldBytes <= PREFAULT_MAX_HELD_BYTES, `held ${pool.heldBytes}`);
  await untilReady(pool, 2 * small);
  const taken = pool.take(small);
  assert.is(taken?.byteLength, small);
  assert.ok(pool.heldBytes <= PREFAULT_MAX_HELD_BYTES, `held ${pool.heldBytes}`);
  pool.clear();
});

Helper('buffers ready are let go once reads stop for idleMs', async () => {
  const pool = new PrefaultedArrays();
  const bytes = 2 << 20;
  pool.take(bytes);
  await untilReady(pool, bytes);
  pool.idleMs = 50; // the timer armed at the take finds the reads stopped when it fires (PREFAULT_IDLE_MS)
  for (let i = 0; i < 500 && pool.readyBytes > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(pool.readyBytes, 0, 'nothing held after the reads stopped');
});

Helper.run();

const Reads = suite('prefaulted arrays: large reads of compiled outputs');
Reads.before(drainPool);

const threaded = threadCount() > 1;
const skip = (why: string) => console.log(`  (skipped: ${why})`);

Reads('a resident output read with a buffer ready: the read page-faults little, equals eager, is the caller\'s own', async () => {
  if (!threaded) return skip('one thread on this machine or KILN_THREADS=1: no helper');
  k.manualSeed(5);
  const x = k.randn([512, 1024]); // 2 MiB out
  const softmax = (t: k.Tensor) => t.softmax(-1);
  const fast = compile(softmax);
  const want = softmax(js(x)).toTypedArray();
  const bytes = want.byteLength;
  fast(x).toTypedArray({ dispose: true }); // asks the helper for this size
  await untilReady(prefaultedArrays, bytes);
  const y = fast(x);
  assert.ok(isResident(y), 'the output stays in wasm memory until read');
  const taken = prefaultedArrays.stats.taken;
  const f0 = threadFaults();
  const got = y.toTypedArray();
  const faults = f0 === undefined ? undefined : threadFaults()! - f0;
  assert.is(prefaultedArrays.stats.taken, taken + 1, 'the read took a buffer the helper made');
  // a fresh 2 MiB array faults on each of its 512 pages at the first write; a mapped one on none
  if (faults !== undefined) assert.ok(faults < 64, `${faults} page faults in the read (a fresh array: ≈ 512)`);
  assert.ok(got.buffer instanceof ArrayBuffer && !(got.buffer instanceof SharedArrayBuffer), 'an unshared ArrayBuffer');
  assert.is(got.buffer.byteLength, bytes);
  assertClose(got, want, 'equal to eager', 1e-6);
  const first = Float32Array.from(got);
  got.fill(-1);
  assertClose(y.toTypedArray(), first, 'writing what a read returned leaves the tensor');
  y.dispose();
});

Reads('outputs copied out of wasm memory and read back in a synchronous loop equal eager in every call', async () => {
  if (!threaded) return skip('one thread on this machine or KILN_THREADS=1: no helper');
  k.manualSeed(6);
  const x = k.randn([1 << 18]); // 1 MiB out, the smallest size served
  const f = (t: k.Tensor) => t.mul(t).add(1).sqrt();
  const fast = compile(f);
  const want = f(js(x)).toTypedArray();
  const taken = prefaultedArrays.stats.taken;
  const outs: k.Tensor[] = [];
  const reads: Float32Array[] = [];
  for (let i = 0; i < 24; i++) {
    const y = fast(x); // undisposed: past the burst allowance each is copied out, through a buffer when one is ready
    outs.push(y);
    reads.push(y.toTypedArray() as Float32Array);
    if (i % 4 === 3) await untilReady(prefaultedArrays, want.byteLength);
  }
  assert.ok(prefaultedArrays.stats.taken > taken, 'some copies took buffers the helper made');
  for (const [i, r] of reads.entries()) {
    r.fill(i); // every array is its own: filling one changes no other, nor any tensor
  }
  for (const [i, y] of outs.entries()) assertClose(y.toTypedArray(), want, `call ${i}`, 1e-6);
  for (const [i, r] of reads.entries()) assert.ok(r.every((v) => v === i), `read ${i} kept what was written to it`);
});

Reads('with one thread (configureThreads) reads allocate as before and ask the helper for nothing', () => {
  if (!threaded) return skip('one thread on this machine or KILN_THREADS=1: no helper');
  const fast = compile((t: k.Tensor) => t.add(2));
  const x = k.randn([1 << 19]); // 2 MiB
  fast(x).dispose();
  const before = { ...prefaultedArrays.stats };
  configureThreads({ threads: 1 });
  try {
    const got = fast(x).toTypedArray({ dispose: true });
    assert.is(got[7], Math.fround(x.toTypedArray()[7]! + 2));
  } finally {
    configureThreads({});
  }
  assert.equal(prefaultedArrays.stats, before);
});

Reads('a process whose reads started the helper exits by itself', () => {
  if (!threaded) return skip('one thread on this machine or KILN_THREADS=1: no helper');
  const child = join(import.meta.dirname, 'support/prefault-exit.ts');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', child], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.signal, null, `the child did not exit by itself within 120 s (${Date.now() - t0} ms): ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { taken: number; same: boolean };
  assert.ok(seen.taken >= 1, `a read took a helper's buffer: ${r.stdout}`);
  assert.ok(seen.same, 'the read equals eager');
});

Reads.run();
