// The build stamp: one SHA-256 of the built code (every .js and .mjs file of dist/) and package.json of every
// Kiln package, written into the bundles in place of @kiln/lower's placeholder (bundleStamp()). Persistent
// compile caches key their entries by Kiln's code; with the stamp in the bundle, a process knows that code
// without a file-system call, where stamping each package costs a fresh process a stat or a read per package.
// Every build that changes any package's code or version changes the stamp. Run by scripts/bundle-packages.mjs
// after bundling (so by `pnpm build`); running it again on the same files writes the same stamp.
// Usage: node scripts/stamp-build.mjs
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const PREFIX = '@kiln-build-stamp:';
const PLACEHOLDER = `${PREFIX}${'-'.repeat(64)}`;
/** A stamp already written, or the placeholder: hashed as the placeholder, so that stamping is repeatable. */
const ANY_STAMP = /@kiln-build-stamp:[-0-9a-f]{64}/g;

function codeFiles(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) codeFiles(path, out);
    else if (/\.m?js$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** The stamp of these package folders' built code (their dist/ files and package.json). */
export function computeStamp(packageDirs) {
  const hash = createHash('sha256');
  for (const dir of [...packageDirs].sort()) {
    const files = [join(dir, 'package.json'), ...codeFiles(join(dir, 'dist'), []).sort()];
    for (const file of files) {
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8').replace(ANY_STAMP, PLACEHOLDER);
      hash.update(`${relative(dir, file).split(sep).join('/')}\0${text.length}\0${text}\0`);
    }
  }
  return hash.digest('hex');
}

/** Writes the stamp of `packageDirs` into each of their dist/bundle.js that holds the placeholder; returns it. */
export function writeStamp(packageDirs) {
  const stamp = computeStamp(packageDirs);
  for (const dir of packageDirs) {
    const bundle = join(dir, 'dist', 'bundle.js');
    if (!existsSync(bundle)) continue;
    const text = readFileSync(bundle, 'utf8');
    const stamped = text.replace(ANY_STAMP, `${PREFIX}${stamp}`);
    if (stamped !== text) writeFileSync(bundle, stamped);
  }
  return stamp;
}

/** Every package of the workspace (packages/*). */
export function workspacePackages(root) {
  const packages = join(root, 'packages');
  return readdirSync(packages, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(packages, e.name, 'package.json'))).map((e) => join(packages, e.name));
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) writeStamp(workspacePackages(resolve(import.meta.dirname, '..')));
