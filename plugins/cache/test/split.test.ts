// Split frames (graph breaks) through the persistent cache, each run a fresh process (fixtures/driver.mjs):
// the frame before the break and each resume function load from the cache instead of being traced, with the
// graphs, guards and breaks a fresh compile shows and eager's result; whatever a fresh compile would make
// differently (an edited file, another captured value, another config, another branch taken) is traced again.
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
const template = readFileSync(join(fixtures, 'split-cases.template.mjs'), 'utf8').replace("'KILN'", JSON.stringify(kilnUrl));

interface Run {
  readonly stats: { hits: number; misses: number; stores: number };
  readonly maxDiff: number;
  /** Per graph explain shows: the frame before the first break, then each resume function. */
  readonly allPhases: string[][];
  readonly persistentCache: string[];
  /** What explain shows of the compile. */
  readonly shown: Record<string, unknown>;
  /** Lines the statement run eagerly at the first break printed (compiled call, then eager call). */
  readonly eagerLines: number;
}

function run(dir: string, env: Record<string, string> = {}, config: object = {}): Run {
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx', join(fixtures, 'driver.mjs'), join(dir, 'cases.mjs'), join(dir, '.kiln-cache'), JSON.stringify(config)], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.is(r.status, 0, `driver failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Run, 'eagerLines'>;
  assert.ok(out.maxDiff < 1e-5, `compiled differs from eager by ${out.maxDiff}`);
  return { ...out, eagerLines: r.stderr.split('\n').filter((l) => l === 'rows 3').length };
}

function inProject(body: (dir: string, edit: (from: string, to: string) => void) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-split-'));
  const program = join(dir, 'cases.mjs');
  writeFileSync(program, template);
  const edit = (from: string, to: string) => {
    const text = readFileSync(program, 'utf8');
    assert.ok(text.includes(from), `fixture holds ${from}`);
    writeFileSync(program, text.replace(from, to));
  };
  try {
    body(dir, edit);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LOADED = ['cacheLoad', 'passes', 'load'];
/** 'load' per frame loaded from the cache, 'trace' per frame traced, in explain's graph order. */
const how = (r: Run): string[] => r.allPhases.map((p) => (p[0] === 'cacheLoad' ? 'load' : p[0] === 'trace' ? 'trace' : p.join('+')));

const Split = suite('plugin-cache: split frames in fresh processes');

Split('the frame before the break and its resume functions load from the cache: no tracing, what a fresh compile shows, eager\'s result', () => {
  inProject((dir) => {
    const fresh = run(dir);
    assert.equal(how(fresh), ['trace', 'trace', 'trace'], 'run, run_resume_2 (splits again at the if), the branch taken');
    assert.is(fresh.stats.stores, 6, 'three frames and their three backend programs');
    assert.ok(fresh.persistentCache[0]!.includes("frame 'run' offered to the persistent cache (it splits at the graph break at cases.mjs:12)"), fresh.persistentCache.join('\n'));
    const cached = run(dir);
    assert.equal(cached.allPhases, [LOADED, LOADED, LOADED]);
    assert.equal([cached.stats.hits, cached.stats.misses, cached.stats.stores], [6, 0, 0]);
    assert.equal(cached.persistentCache, [
      "[0/0] frame 'run' loaded from the persistent cache (guards re-checked; splits at the graph break at cases.mjs:12)",
      "[1/0] frame 'run_resume_2' loaded from the persistent cache (guards re-checked; splits at the graph break at cases.mjs:14)",
      "[2/0] frame 'run_resume_2_resume_2_then' loaded from the persistent cache (guards re-checked)",
    ]);
    // Graphs (API and core), guards with the user's names, breaks with reasons and resumes: as traced.
    assert.equal(cached.shown, fresh.shown);
    // The statement at the break still runs, in the compiled call as in the eager one.
    assert.is(cached.eagerLines, 2);
  });
});

Split('an input that takes the other branch: the frames before the if load, the branch is traced, and both branches are kept', () => {
  inProject((dir) => {
    run(dir);
    const other = run(dir, { SIGN: '-1' });
    assert.equal(how(other), ['load', 'load', 'trace']);
    assert.ok(other.persistentCache[2]!.includes("frame 'run_resume_2_resume_2_else' offered"), other.persistentCache.join('\n'));
    assert.equal(how(run(dir)), ['load', 'load', 'load'], 'the then-branch is still kept');
    assert.equal(how(run(dir, { SIGN: '-1' })), ['load', 'load', 'load']);
  });
});

Split('another captured value or another config: the frames that depend on it are traced again', () => {
  inProject((dir) => {
    run(dir);
    // SCALE is read before the break: run is traced; the resume functions do not capture it.
    assert.equal(how(run(dir, { SCALE: '0.25' })), ['trace', 'load', 'load']);
    // SHIFT is read after the break: run captures it (its primitive captures are compared), and each resume
    // function gets it as an argument and guards its value.
    assert.equal(how(run(dir, { SHIFT: '2' })), ['trace', 'trace', 'trace']);
    // A config a trace depends on is in every key.
    assert.equal(how(run(dir, {}, { recompileLimit: 3 })), ['trace', 'trace', 'trace']);
    assert.equal(how(run(dir)), ['load', 'load', 'load']);
  });
});

Split('an edited file: the code after the break, or another function of the same file, makes every frame trace again', () => {
  inProject((dir, edit) => {
    run(dir);
    edit('return s.add(SHIFT);', 'return s.add(SHIFT).mul(2);');
    assert.equal(how(run(dir)), ['trace', 'trace', 'trace']);
    assert.equal(how(run(dir)), ['load', 'load', 'load']);
    // The functions' text and position are unchanged; the file is not (locations could have moved).
    edit("'edited below'", "'edited again, elsewhere'");
    assert.equal(how(run(dir)), ['trace', 'trace', 'trace']);
  });
});

Split.run();
