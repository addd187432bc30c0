// Split frames (graph breaks) through the persistent cache, each run a fresh process (fixtures/driver.mjs):
// the frame before the break and each resume function load from the cache instead of being traced, with the
// graphs, guards and breaks a fresh compile shows and eager's result; whatever a fresh compile would make
// differently (an edited file, another captured value, another config, another branch taken) is traced again.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeEntry } from '../src/store.js';

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
  readonly stderr: string;
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
  return { ...out, eagerLines: r.stderr.split('\n').filter((l) => l === 'rows 3').length, stderr: r.stderr };
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

/** Rewrites the kept records of the frame entry whose function's text starts with `function ${name}(`. */
function editFrameEntry(dir: string, name: string, change: (record: Record<string, any>) => void): void {
  const cache = join(dir, '.kiln-cache');
  for (const file of readdirSync(cache).filter((f) => f.startsWith('frame-'))) {
    const bytes = readFileSync(join(cache, file));
    const head = 10 + 8; // magic, then the key's and the payload's lengths
    const keyBytes = bytes.readUInt32LE(10);
    const keyText = bytes.subarray(head, head + keyBytes).toString('utf8');
    const payload = JSON.parse(bytes.subarray(head + keyBytes, head + keyBytes + bytes.readUInt32LE(14)).toString('utf8'));
    if (!payload.records[0].top.text.startsWith(`function ${name}(`)) continue;
    payload.records.forEach(change);
    writeFileSync(join(cache, file), encodeEntry(keyText, Buffer.from(JSON.stringify(payload))));
    return;
  }
  assert.unreachable(`no frame entry for ${name}`);
}

Split('a kept split whose layout does not come out the same again is not used: the frame is traced, with eager\'s result', () => {
  inProject((dir) => {
    run(dir);
    // As if the layout were made differently now: the live locals it kept are not the ones it makes.
    editFrameEntry(dir, 'run', (record) => record.split.at.liveNames.push('extra'));
    const r = run(dir, { KILN_LOGS: 'cache' });
    assert.equal(how(r), ['trace', 'load', 'load']);
    assert.match(r.stderr, /kept split of frame 'run' not used \(the kept graph does not output the live locals of this layout\); tracing it again/);
    assert.is(r.eagerLines, 2);
  });
});

Split.run();
