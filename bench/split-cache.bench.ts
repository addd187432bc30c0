// A split frame's cold start: a function with a graph break (the demo's transformer block, a console.error
// line, the block again) compiled and called once in a fresh process, without and with the persistent
// compile cache (@kiln/plugin-cache), which keeps the graph before the break, where the frame splits and the
// resume function's graph. Beside them, the same work without the break (one whole frame, cached): the floor
// the split frame's cached start can reach. Fresh processes alternate between the three
// (bench/split-cache/child.mjs, against the built packages); medians of CPU time (the machines are shared:
// wall time includes waiting for a core).
// Run: node scripts/bench.mjs split-cache (after `pnpm build`). KILN_BENCH_RUNS=N sets the processes per row (7).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineLine } from './machine.js';

const root = join(import.meta.dirname, '..');
const child = join(import.meta.dirname, 'split-cache', 'child.mjs');
const RUNS = Math.max(1, Number(process.env.KILN_BENCH_RUNS ?? 7) || 7);

if (!existsSync(join(root, 'packages', 'kiln', 'dist', 'index.js')) || !existsSync(join(root, 'plugins', 'cache', 'dist', 'index.js'))) {
  console.error('split-cache: the packages are not built; run `npx -y pnpm@12.4.2 build` first (this bench measures the built packages, as users run them)');
  process.exit(1);
}

interface ChildResult {
  readonly firstCallCpuMs: number;
  readonly firstCallWallMs: number;
  readonly phases: readonly Record<string, number>[];
  readonly cache?: { hits: number; misses: number; stores: number };
}

function runChild(mode: 'split' | 'whole', cacheDir?: string): ChildResult {
  const r = spawnSync(process.execPath, [child, mode, ...(cacheDir ? [cacheDir] : [])], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`split-cache child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
const phaseLine = (results: readonly ChildResult[]): string => {
  const graphs = results[0]!.phases.length;
  return Array.from({ length: graphs }, (_, g) => {
    const keys = Object.keys(results[0]!.phases[g] ?? {});
    return keys.map((k) => `${k} ${median(results.map((r) => r.phases[g]?.[k] ?? 0)).toFixed(1)}`).join(', ');
  }).join(' | ');
};

const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-split-cache-'));
try {
  // Fills the cache (a first run traces and stores); every cached run after it must hit.
  for (const mode of ['split', 'whole'] as const) {
    const filled = runChild(mode, dir);
    if (!filled.cache || filled.cache.stores === 0) throw new Error(`split-cache: the first ${mode} run stored nothing`);
  }
  const cachedRun = (mode: 'split' | 'whole'): ChildResult => {
    const r = runChild(mode, dir);
    if (!r.cache || r.cache.misses > 0 || r.cache.stores > 0) throw new Error(`split-cache: a cached ${mode} run missed (${JSON.stringify(r.cache)})`);
    return r;
  };
  const cold: ChildResult[] = [];
  const cached: ChildResult[] = [];
  const whole: ChildResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    cold.push(runChild('split'));
    cached.push(cachedRun('split'));
    whole.push(cachedRun('whole'));
  }
  const cpu = (rs: readonly ChildResult[]) => median(rs.map((r) => r.firstCallCpuMs));
  const wall = (rs: readonly ChildResult[]) => median(rs.map((r) => r.firstCallWallMs));
  console.log(machineLine());
  console.log(`medians of ${RUNS} fresh processes per row, alternating; first call = compile + run`);
  console.log(`split frame, without the cache:      ${fmt(cpu(cold))} CPU (${fmt(wall(cold))} wall)`);
  console.log(`split frame, with the cache:         ${fmt(cpu(cached))} CPU (${fmt(wall(cached))} wall): ${(cpu(cold) / cpu(cached)).toFixed(2)}× less CPU`);
  console.log(`no break (whole frame), with cache:  ${fmt(cpu(whole))} CPU (${fmt(wall(whole))} wall): the split costs ${(cpu(cached) / cpu(whole)).toFixed(2)}× this floor`);
  // explain's compile runs after the first call, in the same (warmed) process.
  console.log(`  phases of a second compile in the process (explain; ms, before the break | resume):`);
  console.log(`    without the cache: ${phaseLine(cold)}`);
  console.log(`    with the cache:    ${phaseLine(cached)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
