// Runs every bench/*.bench.ts (or those matching the arguments) one after another, each in its own
// process so that one library's JIT warm-up and memory do not colour another's figures.
// The bench is a separate install (its peers are ~600 MB): `npx -y pnpm@12.4.2 bench:install` first.
// Also: `--soak` runs bench/soak.ts; `--typecheck` typechecks bench/ (`--typecheck-if-installed`: skips,
// saying so, when the bench is not installed — what `pnpm test` runs).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bench = join(root, 'bench');
const args = process.argv.slice(2);

/** The bench's dependencies that are not installed (all of them before `pnpm bench:install`). */
function missingDependencies() {
  const { dependencies } = JSON.parse(readFileSync(join(bench, 'package.json'), 'utf8'));
  return Object.keys(dependencies).filter((name) => !existsSync(join(bench, 'node_modules', name, 'package.json')));
}

const missing = missingDependencies();
if (args[0] === '--typecheck-if-installed' && missing.length) {
  console.log(`bench typecheck skipped: the bench is not installed (${missing.length} packages missing; run \`npx -y pnpm@12.4.2 bench:install\`)`);
  process.exit(0);
}
if (missing.length) {
  console.error(`The bench is not installed: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing from bench/node_modules.`);
  console.error('Its peers stay out of the default install; run `npx -y pnpm@12.4.2 bench:install` (after the root install) first.');
  process.exit(1);
}

const run = (argv) => spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root }).status ?? 1;
if (args[0] === '--typecheck' || args[0] === '--typecheck-if-installed') {
  process.exit(run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(bench, 'tsconfig.json'), '--noEmit']));
}
if (args[0] === '--soak') {
  process.exit(run(['--expose-gc', '--conditions=kiln-source', '--import', 'tsx/esm', join(bench, 'soak.ts'), ...args.slice(1)]));
}

const benches = readdirSync(bench)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => args.length === 0 || args.some((p) => f.includes(p)))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file}`);
  if (run(['--conditions=kiln-source', '--import', 'tsx/esm', join(bench, file)]) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
