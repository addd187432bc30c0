// What the persistent cache covers beyond whole frames, each in fresh processes (fixtures/driver.mjs): a frame
// that splits at a graph break is loaded whole (the frame before the break and its resume function; more in
// split.test.ts); a frame that replays side effects keeps its graph's backend program (a second process loads
// it: a cache hit, results equal to eager) while the frame itself is traced again — and explain and
// KILN_LOGS=cache say so, with the reason. WebGPU programs are kept as the CPU's are
// (their WGSL and layout).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures');
const kilnUrl = pathToFileURL(join(root, 'packages', 'kiln', 'src', 'index.ts')).href;

interface Run {
  readonly stats: { hits: number; misses: number; stores: number };
  readonly maxDiff: number;
  readonly phases: string[];
  readonly persistentCache: string[];
  readonly log: string;
  /** Why the driver did not run (no WebGPU adapter). */
  readonly skipped?: string;
}

function run(template: string, dir: string, config: object = {}): Run {
  const program = join(dir, template.replace('.template', ''));
  writeFileSync(program, readFileSync(join(fixtures, template), 'utf8').replace("'KILN'", JSON.stringify(kilnUrl)));
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', join(fixtures, 'driver.mjs'), program, join(dir, '.kiln-cache'), JSON.stringify(config)], { cwd: root, encoding: 'utf8', env: { ...process.env, KILN_LOGS: 'cache' } });
  assert.is(r.status, 0, `driver failed:\n${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Run, 'log'>), log: r.stderr };
}

function twice(template: string, config: object = {}): [Run, Run] {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-coverage-'));
  try {
    return [run(template, dir, config), run(template, dir, config)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const Coverage = suite('plugin-cache: split frames, side effects, WebGPU programs');

Coverage('a split frame: a fresh process loads the frame before the break, the resume function and both programs (4 hits); explain and the log say so', () => {
  const [first, second] = twice('split.template.mjs');
  for (const r of [first, second]) assert.ok(r.maxDiff < 1e-5, `compiled differs from eager by ${r.maxDiff}`);
  assert.ok(first.persistentCache.some((n) => /^\[\d+\/0\] frame 'run' offered to the persistent cache \(it splits at the graph break at split\.mjs:7\)/.test(n)), first.persistentCache.join('\n'));
  assert.ok(first.persistentCache.some((n) => /frame 'run_resume_\d+' offered to the persistent cache/.test(n)), first.persistentCache.join('\n'));
  assert.match(first.log, /cache: frame 'run' offered to the persistent cache \(it splits at the graph break/);
  assert.is(first.stats.stores, 4, 'two frames (before the break, the resume function) and their graphs\' programs');
  assert.ok(second.persistentCache.some((n) => /^\[\d+\/0\] frame 'run' loaded from the persistent cache \(guards re-checked; splits at the graph break at split\.mjs:7\)/.test(n)), second.persistentCache.join('\n'));
  assert.ok(second.persistentCache.some((n) => /frame 'run_resume_\d+' loaded from the persistent cache/.test(n)), second.persistentCache.join('\n'));
  assert.match(second.log, /cache: frame 'run' loaded from the persistent cache/);
  assert.is(second.stats.hits, 4, 'both frames and both backend programs from the cache');
  assert.is(second.stats.stores, 0);
  assert.equal(second.phases, ['cacheLoad', 'passes', 'load'], `neither traced nor generated: ${second.phases.join(', ')}`);
});

Coverage('a frame that replays side effects: its program loads in a fresh process; the frame is traced again, and explain says why', () => {
  const [first, second] = twice('effects.template.mjs');
  for (const r of [first, second]) {
    assert.ok(r.maxDiff < 1e-5, `compiled differs from eager by ${r.maxDiff}`);
    assert.ok(r.persistentCache.some((n) => /frame 'run' not kept in the persistent cache: it changes values from outside the frame/.test(n)), r.persistentCache.join('\n'));
  }
  assert.is(first.stats.stores, 1);
  assert.is(second.stats.hits, 1, 'the backend program from the cache');
  assert.ok(second.phases.includes('load') && second.phases.includes('trace'), second.phases.join(', '));
});

Coverage('a whole frame says it was offered, then loaded (explain\'s Persistent cache lines)', () => {
  const [first, second] = twice('model.template.mjs');
  assert.ok(first.persistentCache.some((n) => /frame 'run' offered to the persistent cache/.test(n)), first.persistentCache.join('\n'));
  assert.ok(second.persistentCache.some((n) => /frame 'run' loaded from the persistent cache \(guards re-checked\)/.test(n)), second.persistentCache.join('\n'));
  // KILN_LOGS=cache: lines about no one compile read `[kiln] cache: …`, with no empty tag.
  assert.match(first.log, /^\[kiln\] cache: miss: frame 'run' \(no entry\)$/m, first.log);
  assert.match(second.log, /^\[kiln\] cache: hit: frame 'run' /m, second.log);
  assert.not.match(first.log + second.log, /\[kiln\]  /);
});

Coverage('a WebGPU program: its lowered form and WGSL load in a fresh process (no lowering, no WGSL generation), and results equal eager', () => {
  const [first, second] = twice('model.template.mjs', { backend: 'webgpu', plugins: ['@kiln/backend-webgpu'] });
  if (first.skipped) {
    console.log(`  skipped: no WebGPU adapter (${first.skipped})`);
    return;
  }
  for (const r of [first, second]) assert.ok(r.maxDiff < 1e-5, `compiled differs from eager by ${r.maxDiff}`);
  assert.ok(first.phases.includes('wgsl'), `the first process generates WGSL: ${first.phases.join(', ')}`);
  assert.is(first.stats.stores, 2, 'the frame and the WebGPU program');
  assert.match(first.log, /cache: stored: backend webgpu/);
  assert.is(second.stats.hits, 2, 'the frame and the WebGPU program from the cache');
  assert.is(second.stats.stores, 0);
  assert.equal(second.phases, ['cacheLoad', 'passes', 'load'], `nothing traced, lowered or generated: ${second.phases.join(', ')}`);
});

Coverage.run();
