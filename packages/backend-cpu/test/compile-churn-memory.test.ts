// A long-lived process that compiles many short-lived functions (a server, a notebook, a program generator)
// must not grow without bound: each function's caches (its code cache and kernels, its closure information,
// its resume functions) go when it is collected, not at reset(). Measured in a child process with a forced GC.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const Churn = suite('memory under compile churn');
const MB = 2 ** 20;

Churn('compiling 720 short-lived functions keeps the heap flat after the first round', () => {
  const child = join(import.meta.dirname, 'support/compile-churn.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', '--conditions=kiln-source', '--import', 'tsx/esm', child, '6', '120'], { encoding: 'utf8', timeout: 240_000 });
  assert.is(r.status, 0, r.stderr);
  const samples = JSON.parse(r.stdout.trim().split('\n').pop()!) as { functions: number; heapUsed: number; arenaInUse: number; wasmMemory: number }[];
  const line = samples.map((s) => `${s.functions}: ${(s.heapUsed / MB).toFixed(1)} MB`).join(', ');
  const warm = samples[1]!;
  const last = samples[samples.length - 1]!;
  // Before the caches were weak, each function kept ≈ 11 KB (600 more functions: ≈ 6.6 MB more heap).
  assert.ok(last.heapUsed - warm.heapUsed < 2 * MB, `heap grew ${((last.heapUsed - warm.heapUsed) / MB).toFixed(1)} MB over ${last.functions - warm.functions} functions (${line})`);
  assert.ok(last.arenaInUse - warm.arenaInUse < 0.25 * MB, `the CPU arena holds ${((last.arenaInUse - warm.arenaInUse) / MB).toFixed(2)} MB more (${line})`);
  assert.is(last.wasmMemory, warm.wasmMemory, `the CPU arena's wasm memory grew (${line})`);
});

Churn.run();
