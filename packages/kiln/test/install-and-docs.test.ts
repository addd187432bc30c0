// What a fresh clone installs, and the commands its READMEs tell a user to type. The default install holds
// what the demo and the tests need; the bench's peers (jax-js, tfjs, ONNX Runtime Web: most of 732 MB once)
// are the bench's own install. A README command must run what it says: `pnpm audit` is pnpm's own
// vulnerability audit, not Kiln's (`pnpm run audit`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const Install = suite('the default install');

Install("the root lockfile has none of the bench's peers; the bench is its own workspace", () => {
  const lock = read('pnpm-lock.yaml');
  const peers = lock.split('\n').filter((line) => /^ {2}'?(@jax-js\/|@tensorflow\/|onnxruntime-web@)/.test(line));
  assert.equal(peers, [], 'bench peers in the root install');
  assert.not.match(read('pnpm-workspace.yaml'), /^\s*-\s*'?bench/m, 'bench/ is not a package of the root workspace');
  assert.ok(existsSync(join(root, 'bench', 'pnpm-workspace.yaml')), 'bench/ has its own workspace');
  assert.match(read('package.json'), /"bench:install":/, 'an opt-in step installs it');
});

Install('every folder pattern of pnpm-workspace.yaml holds packages', () => {
  const patterns = [...read('pnpm-workspace.yaml').matchAll(/^\s*-\s*'?([\w./-]+)\/\*'?\s*$/gm)].map((m) => m[1]!);
  assert.ok(patterns.length > 0);
  for (const folder of patterns) {
    const packages = existsSync(join(root, folder)) ? readdirSync(join(root, folder)).filter((p) => existsSync(join(root, folder, p, 'package.json'))) : [];
    assert.ok(packages.length > 0, `pnpm-workspace.yaml lists ${folder}/*, which holds no package`);
  }
});

Install('every package a user can install has its metadata, a LICENSE and a README, and ships them', () => {
  const missing: string[] = [];
  for (const folder of ['packages', 'plugins'].flatMap((group) => readdirSync(join(root, group)).map((p) => join(group, p)))) {
    if (!existsSync(join(root, folder, 'package.json'))) continue;
    const manifest = JSON.parse(read(join(folder, 'package.json'))) as { private?: boolean; description?: string; license?: string; engines?: { node?: string }; files?: string[] };
    if (manifest.private) continue;
    if (!manifest.description) missing.push(`${folder}: description`);
    if (manifest.license !== 'MIT') missing.push(`${folder}: license "MIT"`);
    if (!manifest.engines?.node) missing.push(`${folder}: engines.node`);
    for (const file of ['LICENSE', 'README.md']) {
      if (!existsSync(join(root, folder, file))) missing.push(`${folder}: the file ${file}`);
      if (!manifest.files?.includes(file)) missing.push(`${folder}: ${file} in "files"`);
    }
  }
  assert.equal(missing, []);
});

const Docs = suite("the READMEs' pnpm commands");

/** Every README of the project (top, packages, plugins, bench), by path. */
function readmes(): string[] {
  const nested = ['packages', 'plugins'].flatMap((group) => readdirSync(join(root, group)).map((p) => join(group, p, 'README.md')));
  return ['README.md', 'bench/README.md', ...nested].filter((p) => existsSync(join(root, p)));
}

/** `pnpm …` commands a reader would type: lines of fenced blocks and inline code spans (not a "plain `…`" aside). */
function pnpmCommands(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
  const prose = markdown.replace(/```[a-z]*\n[\s\S]*?```/g, '');
  const inline = [...prose.matchAll(/(\bplain )?`([^`\n]+)`/g)].filter((m) => !m[1]).map((m) => m[2]!);
  return [...fenced, ...inline].flatMap((text) => [...text.matchAll(/\bpnpm(?:@[\d.]+)?(?: +(?:--dir|-C|--filter)[ =]\S+| +-r)* +([\w:-]+)/g)].map((m) => m[1]!));
}

// pnpm's own commands a root script may share a name with: `pnpm <name>` runs pnpm's, `pnpm run <name>` the script.
const PNPM_BUILTINS = new Set(['add', 'audit', 'bin', 'config', 'create', 'dedupe', 'deploy', 'dlx', 'exec', 'fetch', 'import', 'init', 'install', 'i', 'licenses', 'link', 'list', 'ls', 'outdated', 'pack', 'patch', 'prune', 'publish', 'rebuild', 'remove', 'root', 'run', 'store', 'unlink', 'update', 'why']);
// Scripts pnpm runs by their own name although it has a command of that name (`pnpm test` runs the script).
const RUN_AS_SCRIPT = new Set(['test', 'start']);

Docs('each `pnpm X` runs a root script or pnpm command of that name; a script shadowed by a pnpm command is written `pnpm run X`', () => {
  const scripts = new Set(Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts));
  const wrong: string[] = [];
  for (const file of readmes()) {
    for (const name of pnpmCommands(read(file))) {
      if (PNPM_BUILTINS.has(name) && scripts.has(name) && !RUN_AS_SCRIPT.has(name)) wrong.push(`${file}: \`pnpm ${name}\` runs pnpm's own ${name}, not the script: write \`pnpm run ${name}\``);
      else if (!PNPM_BUILTINS.has(name) && !RUN_AS_SCRIPT.has(name) && !scripts.has(name)) wrong.push(`${file}: \`pnpm ${name}\` is neither a pnpm command nor a root script`);
    }
  }
  assert.equal(wrong, []);
});

Docs('the check reads commands as a user types them', () => {
  assert.equal(pnpmCommands('```sh\nnpx -y pnpm@12.4.2 install && npx -y pnpm@12.4.2 demo\n```\nrun `pnpm run audit` or `pnpm kiln audit` (plain `pnpm audit` is pnpm\'s)'), ['install', 'demo', 'run', 'kiln']);
  assert.equal(pnpmCommands('`npx -y pnpm@12.4.2 --dir bench install`, `pnpm audit`'), ['install', 'audit']);
});

Docs("the README's quick start shows the compile report: the config line the pack test runs, and where the page goes", () => {
  const readme = read('README.md');
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  assert.ok(quickStart.includes("export default { plugins: ['@kiln/plugin-report'] };"), 'the kiln.config.mjs line (pack.test.ts writes the same into a fresh project)');
  assert.ok(quickStart.includes('kiln-report/index.html'), 'where the report is written');
});

Install.run();
Docs.run();
