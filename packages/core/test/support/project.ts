// Throwaway projects for config and CLI tests: a folder with a package.json and the given files, and a way to
// run a script there in a fresh Node process (the first compile() of a process is what loads the config).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** `@kiln/core` and `kiln` from source, as absolute URLs (a project in the temp folder cannot resolve them). */
export const coreUrl = pathToFileURL(join(repoRoot, 'packages/core/src/index.ts')).href;
export const kilnUrl = pathToFileURL(join(repoRoot, 'packages/kiln/src/index.ts')).href;
/** tsx's ESM loader by absolute URL: the temp project has no node_modules. */
const tsxEsm = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx/esm')).href;
export const tensorUrl = pathToFileURL(join(repoRoot, 'packages/tensor/src/index.ts')).href;

export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-project-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module' }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <args>` in `cwd` from source (TypeScript through tsx's ESM loader), never throwing. */
export function runNode(cwd: string, args: readonly string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', tsxEsm, ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, KILN_LOGS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
