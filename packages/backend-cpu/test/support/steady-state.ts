// Child process of steady-state-memory.test.ts (run with --expose-gc): a server-like mix of compiled calls —
// cache hits, recompiles for new sizes (automatic dynamic shapes), graph breaks, resident outputs the caller
// drops or keeps a while, errors raised inside compiled code — yielding to the event loop every 200 calls as
// a server does between requests. Prints one JSON sample per 1,000 calls: the arena's high-water mark in that
// window (its top, holes included), its wasm memory, the bytes of blocks in use outside the resident pool,
// cache misses so far and the JS heap. The heap is measured after a forced GC only at the end of warm-up (a
// quarter of the calls) and at the end: forcing one every sample would return dead resident blocks on time
// and hide what a real process, whose major GCs come rarely, sees.
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, getDefaultCompiler } from '@kiln/core';
import { cpuArena, residentPool } from '../../src/index.js';

const CALLS = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const scale = compile((t: Tensor) => t.mul(2).add(1).relu()); // one entry, a hit on every call
const rows = compile((t: Tensor) => t.sum(1).neg().add(t.shape[0]!)); // sizes change: recompiles, then dynamic
const printed: number[] = [];
const breaks = compile((t: Tensor) => {
  const y = t.exp();
  printed.push(Number(y.max().item())); // a float item(): a graph break, the rest resumes compiled
  return y.mul(3);
});
const rem = compile((a: Tensor, b: Tensor) => a.add(1).remainder(b)); // int32 remainder by 0 raises inside
const big = k.randn([64, 64]); // 16 KiB outputs: resident
const ints = k.tensor([1, 2, 3, 4], { dtype: 'int32' });
const zeros = k.tensor([1, 0, 1, 1], { dtype: 'int32' });
const kept: Tensor[] = [];
let misses = 0;
getDefaultCompiler().hooks.cacheMiss.tap('steady-state', () => void misses++);

const arena = cpuArena();
const pool = residentPool(arena);
let highWater = 0;
const samples: { calls: number; highWater: number; wasmMemory: number; looseBytes: number; misses: number; errors: number; heapUsed: number }[] = [];
let errors = 0;
for (let i = 0; i < CALLS; i++) {
  const kind = i % 5;
  if (kind === 0) scale(big);
  else if (kind === 1) rows(k.full([1 + (i % 97), 64], 0.5));
  else if (kind === 2) breaks(k.full([64, 64], (i % 7) / 10));
  else if (kind === 3) {
    // Resident outputs kept for a while (the last 16), then dropped.
    kept.push(scale(k.full([64, 64], i % 11)));
    if (kept.length > 16) kept.shift();
  } else {
    try {
      rem(ints, i % 10 === 4 ? zeros : ints);
    } catch {
      errors++;
    }
  }
  highWater = Math.max(highWater, arena.usedBytes);
  if ((i + 1) % 200 === 0) await new Promise((r) => setImmediate(r));
  if ((i + 1) % 1000 === 0) {
    const looseBytes = arena.bytesInUse - pool.bytes; // blocks a call took and never gave back
    if (i + 1 === CALLS / 4 || i + 1 === CALLS) gc();
    samples.push({ calls: i + 1, highWater, wasmMemory: arena.memory.buffer.byteLength, looseBytes, misses, errors, heapUsed: process.memoryUsage().heapUsed });
    highWater = 0;
    printed.length = 0;
  }
}
console.log(JSON.stringify(samples));
