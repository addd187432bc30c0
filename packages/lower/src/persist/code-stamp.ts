// A stamp of the code a package runs, for persistent caches: a kept artifact is only reused by the very same
// code. Version numbers alone do not change while a package is developed, so a package built in place is
// stamped by its build info, and sources run directly (tests) by every file's path, size and modification
// time (a stat per file, once per process). An installed package is stamped by its version alone.
// `pnpm build` also writes one stamp of every Kiln package's built code into the bundles (bundleStamp): a
// process that runs the bundles then stamps Kiln without touching a file.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const stamps = new Map<string, string>();

/**
 * Replaced by the build (scripts/stamp-build.mjs, run by `pnpm build` once the packages are bundled) with a
 * SHA-256 of the built code and package.json of every Kiln package of that build, in place of the dashes (the
 * length stays, so source maps stay true). Sources run directly, and unbundled files, keep the dashes.
 */
const BUNDLE_STAMP = '@kiln-build-stamp:----------------------------------------------------------------';

/**
 * The stamp of the whole Kiln build this bundle belongs to, or undefined (sources run directly, or files
 * `pnpm build` did not stamp): reading it costs a process nothing, where code stamps cost a stat per package.
 */
export function bundleStamp(): string | undefined {
  const stamp = BUNDLE_STAMP.slice(BUNDLE_STAMP.indexOf(':') + 1);
  return /^[0-9a-f]{64}$/.test(stamp) ? stamp : undefined;
}

function listCode(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listCode(path, out);
    else if (/\.(m?js|ts)$/.test(entry.name)) out.push(path);
  }
}

/**
 * For Kiln's own packages only (the build stamp covers no other code): the build's stamp when the module at
 * `moduleUrl` runs from a built `dist/` and the bundles carry one, else codeStamp(moduleUrl).
 */
export function kilnCodeStamp(moduleUrl: string): string {
  let stamp = kilnStamps.get(moduleUrl);
  if (stamp === undefined) {
    const built = bundleStamp();
    stamp = built && basename(dirname(fileURLToPath(moduleUrl))) === 'dist' ? `bundle:${built}` : codeStamp(moduleUrl);
    kilnStamps.set(moduleUrl, stamp);
  }
  return stamp;
}
const kilnStamps = new Map<string, string>();

/** The stamp of the code in the folder holding the module at `moduleUrl` (a package's `dist/` or `src/`). */
export function codeStamp(moduleUrl: string): string {
  const dir = dirname(fileURLToPath(moduleUrl));
  let stamp = stamps.get(dir);
  if (stamp === undefined) stamps.set(dir, (stamp = buildInfoStamp(dir) ?? installedStamp(dir) ?? walkStamp(dir)));
  return stamp;
}

/** A package built in place (a workspace): its compiler's build info changes with every build of `dist/`. */
function buildInfoStamp(dir: string): string | undefined {
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
