// What the persistent cache covers beyond whole frames, each in fresh processes (fixtures/driver.mjs): a frame
// that splits at a graph break and a frame that replays side effects keep their graphs' backend programs (a
// second process loads them: cache hits, results equal to eager), while the frames themselves are traced
// again — and explain and KILN_LOGS=cache say so, with the reason. A backend without persistence (WebGPU) is
// named in the log too.
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
}

function run(template: string, dir: string): Run {
  const program = join(dir, template.replace('.template', ''));
  writeFileSync(program, readFileSync(join(fixtures, template), 'utf8').replace("'KILN'", JSON.stringify(kilnUrl)));
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', join(fixtures, 'driver.mjs'), program, join(dir, '.kiln-cache')], { cwd: root, encoding: 'utf8', env: { ...process.env, KILN_LOGS: 'cache' } });
  assert.is(r.status, 0, `driver failed:\n${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Run, 'log'>), log: r.stderr };
}

function twice(template: string): [Run, Run] {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-coverage-'));
  try {
    return [run(template, dir), run(template, dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const Coverage = suite('plugin-cache: split frames, side effects, backends without persistence');

Coverage('a split frame: its graphs\' programs load in a fresh process (2 hits); explain and the log say why the frame is traced again', () => {
  const [first, second] = twice('split.template.mjs');
  for (const r of [first, second]) {
    assert.ok(r.maxDiff < 1e-5, `compiled differs from eager by ${r.maxDiff}`);
    assert.ok(r.persistentCache.some((n) => /^\[\d+\/0\] frame 'run' not kept in the persistent cache: it splits at the graph break at split\.mjs:7;/.test(n)), r.persistentCache.join('\n'));
    assert.ok(r.persistentCache.some((n) => /frame 'run_resume_\d+' not kept .*resume function/.test(n)), r.persistentCache.join('\n'));
    assert.match(r.log, /cache: frame 'run' not kept in the persistent cache: it splits at the graph break/);
  }
  assert.is(first.stats.stores, 2, 'the graph before the break and the resume function\'s graph');
  assert.is(second.stats.hits, 2, 'both backend programs from the cache');
  assert.is(second.stats.stores, 0);
  assert.ok(second.phases.includes('load') && !second.phases.includes('wasm'), `the program was loaded, not generated: ${second.phases.join(', ')}`);
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
});

Coverage.run();
