// Runs every package's uvu tests from source in one Node process and ends with the
// `N passed, N failed[, N skipped]` line that CI reads.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const filters = process.argv.slice(2);

function testFiles() {
  const files = [];
  for (const group of ['packages', 'plugins']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const pkg of readdirSync(groupDir).sort()) {
      const testDir = join(groupDir, pkg, 'test');
      if (!existsSync(testDir) || !statSync(testDir).isDirectory()) continue;
      for (const f of readdirSync(testDir).sort()) {
        if (f.endsWith('.test.ts')) files.push(join(testDir, f));
      }
    }
  }
  return files.filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
}

const files = testFiles();
const child = spawn(
  process.execPath,
  ['--conditions=kiln-source', '--import', 'tsx/esm', join(root, 'scripts/uvu-all.mjs'), ...files],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KILN_TEST: '1' } },
);
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  const count = (label) => Number(/\s+(\d+)/.exec(out.slice(out.lastIndexOf(label) + label.length))?.[1] ?? 0);
  const hasTotals = out.includes('Total:');
  const total = hasTotals ? count('Total:') : 0;
  const passed = hasTotals ? count('Passed:') : 0;
  const skipped = hasTotals ? count('Skipped:') : 0;
  // A crash before uvu prints its totals counts as one failure, so CI never reads it as green.
  const failed = hasTotals ? total - passed : 1;
  const exitCode = code !== 0 || failed > 0 || total === 0 ? 1 : 0;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
  process.exit(exitCode);
});
