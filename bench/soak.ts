// Soak: a long-lived process's view of Kiln. 10⁶ compiled calls over 10³ distinct functions and 10⁴ distinct
// input shapes (most calls hit the cache: automatic dynamic shapes make one entry serve many shapes), with the
// JS heap, the CPU backend's arena (bytes in use and its wasm memory's size) and RSS sampled after a forced
// GC every 50,000 calls. After
// warm-up (the first 20 % of calls) memory must stay flat: prints the samples, then a verdict, and exits 1
// when it grew. Run: `npx -y pnpm@12.4.2 soak` (needs --expose-gc, which the script sets).
// KILN_SOAK_CALLS / KILN_SOAK_FUNCTIONS / KILN_SOAK_SHAPES shrink it for a quick look; KILN_SOAK_RESIDENT=off
// turns resident inputs and outputs off (to tell the resident pool's share of arena growth). Each sample also
// prints the arena's high-water mark since the last sample (its top, holes included, before any GC) and the
// resident pool's bytes out at that moment: the measures that found the growth's cause (bench/README.md).
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { configureResident, cpuArena, residentPool } from '@kiln/backend-cpu';
import { compile, getDefaultCompiler } from '@kiln/core';
import { machineLine } from './support.js';

const CALLS = Number(process.env.KILN_SOAK_CALLS ?? 1_000_000);
const FUNCTIONS = Number(process.env.KILN_SOAK_FUNCTIONS ?? 1000);
const SHAPES = Number(process.env.KILN_SOAK_SHAPES ?? 10_000);
const SAMPLE_EVERY = Math.max(1, Math.floor(CALLS / 20));
const WARMUP = 0.2;
/** Growth allowed after warm-up, per measure: a flat process drifts by GC timing, not by megabytes. */
const LIMITS_MB = { heapUsed: 8, arenaInUse: 1, wasmMemory: 16, rss: 64 };

if (process.env.KILN_SOAK_RESIDENT === 'off') configureResident({ budgetBytes: 0, keepInputs: false });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npx -y pnpm@12.4.2 soak does)');

// Distinct code per function (its own cache), a mix of elementwise and reducing work.
const fns = Array.from({ length: FUNCTIONS }, (_, i) => {
  const body = i % 3 === 0 ? `return t.mul(${i + 1}).add(1).relu();` : i % 3 === 1 ? `return t.sub(${i}).tanh().sum(1);` : `return t.abs().add(${i}).mean();`;
  return compile(new Function('t', body) as (t: Tensor) => Tensor);
});
// 10⁴ distinct shapes [rows, cols], rows and cols in 1…side.
const side = Math.ceil(Math.sqrt(SHAPES));
const shapeOf = (j: number): [number, number] => [1 + (j % side), 1 + (Math.floor(j / side) % side)];

const pool = residentPool(cpuArena());
let peakTop = 0;
let peakPool = 0;
let misses = 0;
getDefaultCompiler().hooks.cacheMiss.tap('soak', () => void misses++);

interface Sample {
  calls: number;
  heapUsed: number;
  arenaInUse: number;
  wasmMemory: number;
  rss: number;
  /** The arena's highest top since the previous sample, and the resident pool's bytes out at that point. */
  peakTop: number;
  peakPool: number;
  seconds: number;
}
const samples: Sample[] = [];
const mb = (b: number) => b / 2 ** 20;
const start = performance.now();
console.log(machineLine());
console.log(`soak: ${CALLS} calls, ${FUNCTIONS} functions, ${side * side} shapes (up to [${side}, ${side}])`);
for (let i = 0; i < CALLS; i++) {
  const fn = fns[i % FUNCTIONS]!;
  const [r, c] = shapeOf((i * 7919) % SHAPES);
  fn(k.full([r, c], (i % 17) - 8.5));
  if (cpuArena().usedBytes > peakTop) [peakTop, peakPool] = [cpuArena().usedBytes, pool.bytes];
  // A server yields between requests: finalizers (resident blocks, emptied caches) run there.
  if ((i + 1) % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
  if ((i + 1) % SAMPLE_EVERY === 0) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let finalizers run, then collect what they freed
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const m = process.memoryUsage();
    const arena = cpuArena();
    samples.push({ calls: i + 1, heapUsed: m.heapUsed, arenaInUse: arena.bytesInUse, wasmMemory: arena.memory.buffer.byteLength, rss: m.rss, peakTop, peakPool, seconds: (performance.now() - start) / 1000 });
    peakTop = peakPool = 0;
    const s = samples[samples.length - 1]!;
    console.log(
      `${String(s.calls).padStart(8)} calls  heap ${mb(s.heapUsed).toFixed(1).padStart(6)} MB  arena in use ${mb(s.arenaInUse).toFixed(2).padStart(6)} MB  ` +
        `wasm memory ${mb(s.wasmMemory).toFixed(0).padStart(4)} MB  high-water ${mb(s.peakTop).toFixed(1).padStart(6)} MB (resident ${mb(s.peakPool).toFixed(1)})  ` +
        `rss ${mb(s.rss).toFixed(0).padStart(5)} MB  ${s.seconds.toFixed(0)} s  (cache misses so far: ${misses})`,
    );
  }
}

const after = samples.filter((s) => s.calls > CALLS * WARMUP);
const base = after[0]!;
const growth = (key: keyof typeof LIMITS_MB) => mb(Math.max(...after.map((s) => s[key])) - base[key]);
const report = (Object.keys(LIMITS_MB) as (keyof typeof LIMITS_MB)[]).map((key) => ({ key, grew: growth(key), limit: LIMITS_MB[key] }));
const flat = report.every((r) => r.grew <= r.limit);
console.log(`cache hits: ${CALLS - misses} of ${CALLS} calls (${misses} misses)`);
console.log(`after warm-up (from ${base.calls} calls): ${report.map((r) => `${r.key} +${r.grew.toFixed(1)} MB (limit ${r.limit})`).join(', ')}`);
console.log(`verdict: ${flat ? 'FLAT' : 'GROWING'} memory over ${CALLS} calls in ${((performance.now() - start) / 1000).toFixed(0)} s`);
process.exit(flat ? 0 : 1);
