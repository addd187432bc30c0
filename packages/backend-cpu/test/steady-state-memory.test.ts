// A long-lived process must reach a steady state: after warm-up, a mix of compiled calls (hits, recompiles
// for new sizes, graph breaks, resident outputs dropped by the caller, errors inside compiled code) neither
// raises the CPU arena's high-water mark (wasm memory never shrinks, so a rising mark is a leak for good) nor
// adds cache entries or JS heap. Counted, not timed: the child process prints its samples (support/steady-state.ts).
// Before the resident pool measured its live set, dead resident blocks waiting for a major GC raised the mark
// towards the 256 MiB budget (the soak: 97 → 224 MB over 10⁶ calls; here 37 MB within 3,000 calls).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { RESIDENT_FLOOR_BYTES } from '@kiln/backend-cpu';

const Steady = suite('memory reaches a steady state');
const MB = 2 ** 20;
const CALLS = 20_000;

Steady(`${CALLS} mixed compiled calls: the arena's high-water mark, the caches and the heap stop growing after warm-up`, () => {
  const child = join(import.meta.dirname, 'support/steady-state.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', '--conditions=kiln-source', '--import', 'tsx', child, String(CALLS)], { encoding: 'utf8', timeout: 240_000 });
  assert.is(r.status, 0, r.stderr);
  const samples = JSON.parse(r.stdout.trim().split('\n').pop()!) as { calls: number; highWater: number; wasmMemory: number; looseBytes: number; misses: number; errors: number; heapUsed: number }[];
  const line = samples.map((s) => `${s.calls}: ${(s.highWater / MB).toFixed(1)}/${(s.wasmMemory / MB).toFixed(0)} MB`).join(', ');
  const warm = samples[Math.floor(samples.length / 4) - 1]!; // after 5,000 calls
  const after = samples.filter((s) => s.calls > warm.calls);
  const last = samples[samples.length - 1]!;
  assert.ok(last.errors >= CALLS / 10 / 2 - 1, `the remainder by 0 raised ${last.errors} times`);
  // The pool may keep up to RESIDENT_FLOOR_BYTES of dead outputs waiting for a GC (twice the live set, which
  // is 16 × 16 KiB here); the calls' own blocks are a few KiB. Before: 37 MB by 3,000 calls.
  const bound = RESIDENT_FLOOR_BYTES + 2 * MB;
  for (const s of after) {
    assert.ok(s.highWater <= bound, `high-water ${(s.highWater / MB).toFixed(1)} MB at ${s.calls} calls, bound ${(bound / MB).toFixed(1)} MB (${line})`);
    assert.ok(s.wasmMemory <= bound, `wasm memory ${(s.wasmMemory / MB).toFixed(1)} MB at ${s.calls} calls, bound ${(bound / MB).toFixed(1)} MB (${line})`);
    assert.is(s.looseBytes, 0, `${s.looseBytes} bytes of call blocks never given back at ${s.calls} calls`);
  }
  assert.is(last.misses, warm.misses, `cache misses after warm-up: ${warm.misses} → ${last.misses}`);
  assert.ok(last.heapUsed - warm.heapUsed < 2 * MB, `heap grew ${((last.heapUsed - warm.heapUsed) / MB).toFixed(1)} MB after warm-up`);
});

Steady.run();
