// What the persistent cache tests share: a user's program in a temporary folder (fixtures/model.template.mjs,
// or any files), run in a fresh process by fixtures/driver.mjs from Kiln's sources, and checks on what the
// cache did and how far the result is from eager.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as assert from 'uvu/assert';

export const root = join(import.meta.dirname, '..', '..', '..');
const driver = join(import.meta.dirname, 'fixtures', 'driver.mjs');
const template = readFileSync(join(import.meta.dirname, 'fixtures', 'model.template.mjs'), 'utf8');
/** Kiln's sources, as a program written into a project imports them. */
export const kilnUrl = pathToFileURL(join(root, 'packages', 'kiln', 'src', 'index.ts')).href;

export interface Run {
  readonly stats: { hits: number; misses: number; rejected: number; stores: number; storeErrors: number };
  readonly maxDiff: number;
  readonly phases: string[];
  /** node:inspector round trips while the function compiled. */
  readonly inspectorCalls: number;
}

export const nodeArgs = (program: string, cacheDir: string, config: object) => ['--conditions=kiln-source', '--import', 'tsx', driver, program, cacheDir, JSON.stringify(config)];

export function parseRun(stdout: string, stderr: string, status: number | null): Run {
  assert.is(status, 0, `driver failed:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Run;
}

export function runProgram(program: string, cacheDir: string, env: Record<string, string> = {}, config: object = {}): Run {
  const r = spawnSync(process.execPath, nodeArgs(program, cacheDir, config), { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return parseRun(r.stdout, r.stderr, r.status);
}

/** A temporary folder with the user's program (optionally edited) and an empty cache folder. */
export function project(edit: (source: string) => string = (s) => s): { program: string; cache: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-plugin-cache-'));
  const program = join(dir, 'model.mjs');
  writeFileSync(program, edit(template.replace("'KILN'", JSON.stringify(kilnUrl))));
  return { program, cache: join(dir, '.kiln-cache'), dir };
}

export const close = (r: Run) => assert.ok(r.maxDiff < 1e-5, `compiled differs from eager by ${r.maxDiff}`);
/**
 * A run that traced the frame afresh. (The plugin may still have found the file: core re-checks it against
 * the live function and refuses it; and a backend entry is keyed by the graph itself, so one for an equal
 * graph is the same program.)
 */
export function assertFresh(r: Run, why: string): void {
  close(r);
  assert.ok(r.phases.includes('trace') && !r.phases.includes('cacheLoad'), `${why}: expected a fresh trace, phases ${r.phases.join(', ')}`);
}
export function assertHit(r: Run): void {
  close(r);
  assert.equal(r.phases.slice(0, 1), ['cacheLoad'], `expected the frame from the cache, phases ${r.phases.join(', ')}`);
  assert.is(r.stats.hits, 2, 'frame and backend program both from the cache');
  assert.is(r.stats.stores, 0);
}
