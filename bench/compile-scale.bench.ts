// Compile cost as a process ages: the first compile of a fresh function after 100 … 1,000 modules have been
// loaded (one new module per function, as a server or a notebook loads code), and after 100 … 1,500 functions
// made with `new Function` (as a program generator does). Each point is the median first-compile time of the
// functions around it; the ratio to the first point should stay near 1 (the cost must not grow with the
// number of scripts the isolate holds). Also prints the heap after the `new Function` run, with its compiled
// functions dropped and a GC forced where `--expose-gc` allows.
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

function firstCompileMs(fn: (t: Tensor) => Tensor): number {
  const t0 = performance.now();
  compile(fn)(x);
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median of the `window` samples ending at each checkpoint, as `n: ms (ratio to the first)`. */
function report(label: string, times: number[], checkpoints: number[], window = 9): void {
  const points = checkpoints.filter((c) => c <= times.length).map((c) => ({ c, ms: median(times.slice(Math.max(0, c - window), c)) }));
  const first = points[0]!.ms;
  console.log(`${label}: first compile (median of ${window}) after n functions`);
  console.log(points.map((p) => `  ${String(p.c).padStart(5)}: ${p.ms.toFixed(1).padStart(6)} ms  (${(p.ms / first).toFixed(2)}× the first point)`).join('\n'));
}

console.log(machineLine());
const dir = mkdtempSync(join(tmpdir(), 'kiln-scale-'));
try {
  const times: number[] = [];
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
const fnTimes: number[] = [];
for (let i = 0; i < FUNCTIONS; i++) {
  const fn = new Function('t', `return t.mul(${i + 1}).neg().add(${i});`) as (t: Tensor) => Tensor;
  fnTimes.push(firstCompileMs(fn));
}
report('new Function', fnTimes, [100, 200, 400, 800, 1000, 1500]);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`heap: ${mb(heapBefore)} MB before the new Function run, ${mb(process.memoryUsage().heapUsed)} MB after it${gc ? ' (after a forced GC)' : ' (run with --expose-gc for a forced GC)'}`);
