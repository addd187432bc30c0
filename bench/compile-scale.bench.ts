// Compile cost as a process ages: the first compile of a fresh function after 100 … 1,000 modules have been
// loaded (one new module per function, as a server or a notebook loads code), and after 100 … 1,500 functions
// made with `new Function` (as a program generator does). Each point is the median first-compile time of the
// functions before it, in CPU and wall time (CPU time is steadier on a shared machine); the ratio to the first
// point should stay near 1: the cost must not grow with the number of scripts the isolate holds. Also prints
// the heap after the `new Function` run, its compiled functions dropped and a GC forced (with --expose-gc).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import '@kiln/backend-cpu';
import { compile } from '@kiln/core';
import { machineLine } from './support.js';

const MODULES = Number(process.env.KILN_SCALE_MODULES ?? 1000);
const FUNCTIONS = Number(process.env.KILN_SCALE_FUNCTIONS ?? 1500);
const x = k.randn([64]);

/** Wall and CPU time of one first compile (CPU time is the steadier figure on a shared machine). */
function firstCompileMs(fn: (t: Tensor) => Tensor): { wall: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  compile(fn)(x);
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Medians of the `window` samples ending at each checkpoint, with the CPU time's ratio to the first point. */
function report(label: string, times: { wall: number; cpu: number }[], checkpoints: number[], window = 15): void {
  const at = (c: number, key: 'wall' | 'cpu') => median(times.slice(Math.max(0, c - window), c).map((t) => t[key]));
  const points = checkpoints.filter((c) => c <= times.length).map((c) => ({ c, wall: at(c, 'wall'), cpu: at(c, 'cpu') }));
  const first = points[0]!.cpu;
  console.log(`${label}: first compile after n functions (median of ${window})`);
  console.log(points.map((p) => `  ${String(p.c).padStart(5)}: cpu ${p.cpu.toFixed(1).padStart(6)} ms  wall ${p.wall.toFixed(1).padStart(6)} ms  (cpu ${(p.cpu / first).toFixed(2)}× the first point)`).join('\n'));
}

console.log(machineLine());
const dir = mkdtempSync(join(tmpdir(), 'kiln-scale-'));
try {
  const times: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < MODULES; i++) {
    const file = join(dir, `m${i}.mjs`);
    writeFileSync(file, `const scale = ${i + 1};\nexport const f = (t) => t.mul(scale).relu().add(${i});\n`);
    const mod = (await import(pathToFileURL(file).href)) as { f: (t: Tensor) => Tensor };
    times.push(firstCompileMs(mod.f));
  }
  report('modules', times, [100, 200, 400, 800, 1000]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const heapBefore = process.memoryUsage().heapUsed;
const fnTimes: { wall: number; cpu: number }[] = [];
for (let i = 0; i < FUNCTIONS; i++) {
  const fn = new Function('t', `return t.mul(${i + 1}).neg().add(${i});`) as (t: Tensor) => Tensor;
  fnTimes.push(firstCompileMs(fn));
}
report('new Function', fnTimes, [100, 200, 400, 800, 1000, 1500]);
// What a WeakRef made or read in this synchronous job points to lives until the job ends: yield first.
await new Promise((resolve) => setImmediate(resolve));
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers drop the emptied cache entries
gc?.();
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`heap: ${mb(heapBefore)} MB before the new Function run, ${mb(process.memoryUsage().heapUsed)} MB after it${gc ? ' (after a forced GC)' : ' (run with --expose-gc for a forced GC)'}`);
