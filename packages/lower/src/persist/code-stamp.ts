// A stamp of the code a package runs, for persistent caches: a kept artifact is only reused by the very same
// code. Version numbers alone do not change while a package is developed, so a package built in place is
// stamped by its build info, and sources run directly (tests) by every file's path, size and modification
// time (a stat per file, once per process). An installed package is stamped by its version alone.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const stamps = new Map<string, string>();

function listCode(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listCode(path, out);
    else if (/\.(m?js|ts)$/.test(entry.name)) out.push(path);
  }
}

/** The stamp of the code in the folder holding the module at `moduleUrl` (a package's `dist/` or `src/`). */
export function codeStamp(moduleUrl: string): string {
  const dir = dirname(fileURLToPath(moduleUrl));
  let stamp = stamps.get(dir);
  if (stamp === undefined) stamps.set(dir, (stamp = buildStamp(dir) ?? installedStamp(dir) ?? walkStamp(dir)));
  return stamp;
}

/** A package built in place (a workspace): its compiler's build info changes with every build of `dist/`. */
function buildStamp(dir: string): string | undefined {
  if (!dir.endsWith(`${sep}dist`)) return undefined;
  try {
    const st = statSync(join(dir, '..', 'tsconfig.tsbuildinfo'));
    return `build:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** A package installed from a registry never changes under its version (read from its package.json). */
function installedStamp(dir: string): string | undefined {
  if (!dir.includes(`${sep}node_modules${sep}`)) return undefined;
  try {
    return `installed:${(JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version?: string }).version}`;
  } catch {
    return undefined;
  }
}

function walkStamp(dir: string): string {
  const files: string[] = [];
  listCode(dir, files);
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    const st = statSync(file);
    hash.update(`${file}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}
