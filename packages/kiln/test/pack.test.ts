// The packages as a user installs them: `pnpm pack` every package, install the tarballs with npm into a fresh
// project outside the monorepo (third-party dependencies come from the npm registry), and run a small compiled
// program there against eager; then what a new user does next (the README's quick start): the `kiln` command
// from the `kiln` package, and `plugins: ['@kiln/plugin-report']` in a kiln.config.mjs writing a compile report
// with the graphs drawn. Slow (a minute or so: packing, then an npm install); it needs the packages
// built (`pnpm build`, which `pnpm test` runs first) and skips, saying why, when the registry is unreachable.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..', '..', '..');
const PACKAGES = ['packages/pytree', 'packages/shapes', 'packages/tensor', 'packages/graph', 'packages/lower', 'packages/policy', 'packages/core', 'packages/export', 'packages/backend-cpu', 'packages/optim', 'packages/kiln', 'plugins/cache', 'plugins/report', 'plugins/profile'];
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network|offline/i;

const PROGRAM = `
import * as k from 'kiln';
import cachePlugin from '@kiln/plugin-cache';
const x = k.randn([4, 8], { generator: new k.Generator(3) });
const W = k.randn([8, 8], { generator: new k.Generator(4) });
const f = (x) => x.matmul(W).relu().softmax(-1);
const report = k.explain(f)(x);
const got = k.compile(f)(x).toTypedArray();
const want = f(x).toTypedArray();
let maxDiff = 0;
for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
console.log(JSON.stringify({ maxDiff, backends: report.backends.map((b) => [b.backend, b.kernels]), plugin: cachePlugin().name }));
`;

// The README's quick start: the report plugin named in the config, loaded without the program importing anything.
const CONFIG = `export default { plugins: ['@kiln/plugin-report'] };\n`;

function sh(command: string, args: string[], cwd: string) {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
}

const pack = suite('packages installed from their tarballs');

pack('pack every package, npm-install them into a fresh project, run a compiled program there', () => {
  const unbuilt = PACKAGES.filter((p) => !existsSync(join(root, p, 'dist', 'index.js')));
  assert.equal(unbuilt, [], `build first (npx -y pnpm@12.4.2 build): no dist/ in ${unbuilt.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
  try {
    const tarballs = join(dir, 'tarballs');
    const filters = PACKAGES.map((p) => `--filter=./${p}`);
    const packed = sh('npx', ['-y', 'pnpm@12.4.2', '-r', ...filters, 'pack', '--pack-destination', tarballs], root);
    assert.is(packed.status, 0, `pnpm pack failed:\n${packed.stderr}`);
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    assert.is(files.length, PACKAGES.length, `one tarball per package: ${files.join(', ')}`);
    for (const file of files) {
      const listing = sh('tar', ['tzf', join(tarballs, file)], dir).stdout;
      for (const needed of ['package/LICENSE', 'package/README.md', 'package/dist/index.js', 'package/package.json']) {
        assert.ok(listing.includes(needed), `${file} lacks ${needed}`);
      }
    }
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'kiln-pack-check', private: true, type: 'module' }));
    writeFileSync(join(app, 'main.mjs'), PROGRAM);
    writeFileSync(join(app, 'kiln.config.mjs'), CONFIG);
    const installed = sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => join(tarballs, f))], app);
    if (installed.status !== 0 && NETWORK.test(installed.stderr)) {
      console.log(`  skipped: the npm registry is unreachable (${installed.stderr.split('\n').find((l) => NETWORK.test(l))?.trim()})`);
      return;
    }
    assert.is(installed.status, 0, `npm install of the tarballs failed:\n${installed.stderr}`);
    const ran = sh(process.execPath, ['main.mjs'], app);
    assert.is(ran.status, 0, `the program failed in the installed project:\n${ran.stderr}`);
    const out = JSON.parse(ran.stdout.trim().split('\n').pop()!) as { maxDiff: number; backends: [string, number][]; plugin: string };
    assert.ok(out.maxDiff < 1e-5, `compiled differs from eager by ${out.maxDiff}`);
    assert.equal(out.backends.map(([b]) => b), ['cpu'], 'compiled to WebAssembly kernels by the CPU backend');
    assert.ok(out.backends[0]![1] > 0);
    assert.is(out.plugin, 'cache');
    assertReportWritten(app, ran.stderr);
    assertKilnCommand(app);
    assertCacheReused(app);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The config's report plugin wrote the page at exit, with each graph as a picture of the program's ops. */
function assertReportWritten(app: string, stderr: string) {
  assert.match(stderr, /\[kiln\] compile report: kiln-report\/index\.html \(\d+ compiles?/);
  const page = readFileSync(join(app, 'kiln-report', 'index.html'), 'utf8');
  assert.ok(page.includes('<svg'), 'the report draws the graphs');
  for (const op of ['matmul', 'relu', 'softmax']) assert.match(page, new RegExp(`<text[^>]*>[^<]*= ${op}\\b`), `a picture node for ${op}`);
}

/** Installing `kiln` gives the full `kiln` command (no other package of Kiln declares one). */
function assertKilnCommand(app: string) {
  const help = sh(join(app, 'node_modules', '.bin', 'kiln'), ['--help'], app);
  assert.is(help.status, 0, help.stderr);
  for (const c of ['run', 'explain', 'report', 'audit', 'ops']) assert.match(help.stdout, new RegExp(`\\n  ${c}\\s`), `kiln --help lists ${c}`);
  // @kiln/aot is not among the packed packages: its --help still prints the usage, which says to install it.
  const aot = sh(join(app, 'node_modules', '.bin', 'kiln'), ['aot', '--help'], app);
  assert.is(aot.status, 0, aot.stderr);
  assert.match(aot.stdout, /^usage: kiln aot .*needs @kiln\/aot/);
  const ran = sh(join(app, 'node_modules', '.bin', 'kiln'), ['run', 'main.mjs'], app);
  assert.is(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /"plugin":"cache"/);
}

/** `plugins: ['@kiln/plugin-cache']`: the first run fills `.kiln-cache/` in the project, the next loads from it. */
function assertCacheReused(app: string) {
  writeFileSync(join(app, 'kiln.config.mjs'), `export default { plugins: ['@kiln/plugin-cache'] };\n`);
  const run = () => spawnSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, KILN_LOGS: 'cache' } });
  const first = run();
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /^\[kiln\] cache: stored: frame 'f' /m, first.stderr);
  assert.ok(readdirSync(join(app, '.kiln-cache')).some((f) => f.startsWith('frame-')), 'the default folder is .kiln-cache/ in the project');
  const second = run();
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stderr, /^\[kiln\] cache: hit: frame 'f' /m, second.stderr);
  assert.equal(JSON.parse(second.stdout.trim().split('\n').pop()!).maxDiff < 1e-5, true, 'the cached program still matches eager');
}

pack.run();
