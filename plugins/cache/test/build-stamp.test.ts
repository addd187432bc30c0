// Kiln's build stamp (scripts/stamp-build.mjs): one SHA-256 of every package's built code and package.json,
// written into the bundles by `pnpm build`, so that a process running built Kiln keys its cache entries by
// Kiln's code without reading a file. Checked: any change to a package's code or version changes the stamp,
// stamping is repeatable and keeps the bundle's length; built Kiln's entries carry the stamp of this build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from './support.js';

interface StampScript {
  computeStamp(dirs: readonly string[]): string;
  writeStamp(dirs: readonly string[]): string;
}
const script = (await import(pathToFileURL(join(root, 'scripts', 'stamp-build.mjs')).href)) as StampScript;

const PLACEHOLDER = `@kiln-build-stamp:${'-'.repeat(64)}`;

/** Two fake packages: a bundle holding the placeholder, a nested built file, a type file. */
function fakeWorkspace(): { dirs: string[]; dir: string; write: (path: string, text: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-build-stamp-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('a/package.json', '{"name":"a","version":"1.0.0"}');
  write('a/dist/bundle.js', `const STAMP = '${PLACEHOLDER}';\nexport const f = () => 1;\n`);
  write('a/dist/inner/kept.js', 'export const g = 2;\n');
  write('a/dist/index.d.ts', 'export declare const f: () => number;\n');
  write('b/package.json', '{"name":"b","version":"1.0.0"}');
  write('b/dist/index.js', 'export const h = 3;\n');
  return { dirs: [join(dir, 'a'), join(dir, 'b')], dir, write };
}

const stamp = suite('build stamp');

stamp('any change to a package\'s built code or version changes the stamp; types and maps do not', () => {
  const w = fakeWorkspace();
  try {
    const base = script.computeStamp(w.dirs);
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.is(script.computeStamp([...w.dirs].reverse()), base, 'the order of the folders does not matter');
    const changes: [string, string][] = [
      ['a/dist/inner/kept.js', 'export const g = 3;\n'],
      ['b/dist/index.js', 'export const h = 4;\n'],
      ['b/package.json', '{"name":"b","version":"1.0.1"}'],
      ['b/dist/extra.mjs', 'export {};\n'],
    ];
    const seen = new Set([base]);
    for (const [path, text] of changes) {
      w.write(path, text);
      const next = script.computeStamp(w.dirs);
      assert.not.ok(seen.has(next), `changing ${path} changes the stamp`);
      seen.add(next);
    }
    const last = script.computeStamp(w.dirs);
    w.write('a/dist/index.d.ts', 'export declare const f: () => 1;\n');
    w.write('a/dist/bundle.js.map', '{}');
    assert.is(script.computeStamp(w.dirs), last, 'type declarations and source maps are not code');
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
});

stamp('the stamp goes into the bundle in place of the placeholder (same length), and stamping again changes nothing', () => {
  const w = fakeWorkspace();
  try {
    const bundle = join(w.dirs[0]!, 'dist', 'bundle.js');
    const before = readFileSync(bundle, 'utf8');
    const written = script.writeStamp(w.dirs);
    const after = readFileSync(bundle, 'utf8');
    assert.is(after, before.replace(PLACEHOLDER, `@kiln-build-stamp:${written}`));
    assert.is(after.length, before.length);
    assert.is(script.writeStamp(w.dirs), written, 'a stamped bundle hashes as the unstamped one');
    assert.is(readFileSync(bundle, 'utf8'), after);
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
});

stamp('built Kiln keys its entries by the build stamp: no per-package stamps, the same stamp in every entry', () => {
  const lowerBundle = join(root, 'packages', 'lower', 'dist', 'bundle.js');
  const built = [lowerBundle, join(root, 'packages', 'kiln', 'dist', 'index.js'), join(root, 'plugins', 'cache', 'dist', 'index.js')];
  assert.equal(built.filter((f) => !existsSync(f)), [], 'build first (npx -y pnpm@12.4.2 build)');
  const written = /@kiln-build-stamp:([0-9a-f]{64})/.exec(readFileSync(lowerBundle, 'utf8'))?.[1];
  assert.ok(written, '`pnpm build` stamped the bundles');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-build-stamp-'));
  const program = join(dir, 'model.mjs');
  writeFileSync(
    program,
    `import { compile, getDefaultCompiler, randn } from ${JSON.stringify(pathToFileURL(built[1]!).href)};\n` +
      `import cachePlugin from ${JSON.stringify(pathToFileURL(built[2]!).href)};\n` +
      `const plugin = cachePlugin({ dir: ${JSON.stringify(join(dir, '.kiln-cache'))} });\ngetDefaultCompiler().use(plugin);\n` +
      'const f = (x) => x.exp().add(1).softmax(-1);\nconst x = randn([4, 8]);\n' +
      'const got = compile(f)(x).toTypedArray();\nconst want = f(x).toTypedArray();\n' +
      'console.log(JSON.stringify({ stats: plugin.stats, same: got.every((v, i) => Math.abs(v - want[i]) < 1e-6) }));\n',
  );
  const run = () => {
    const r = spawnSync(process.execPath, [program], { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { stats: { hits: number; stores: number }; same: boolean };
  };
  try {
    const first = run();
    assert.ok(first.same && first.stats.stores === 2, JSON.stringify(first));
    const second = run();
    assert.ok(second.same && second.stats.hits === 2, `the second process is served from the cache: ${JSON.stringify(second)}`);
    const cache = join(dir, '.kiln-cache');
    for (const f of readdirSync(cache).filter((n) => n.endsWith('.bin'))) {
      const bytes = readFileSync(join(cache, f));
      const key = JSON.parse(bytes.subarray(18, 18 + bytes.readUInt32LE(10)).toString('utf8')) as Record<string, unknown>;
      assert.is(key.kilnBuild, written, `${f}: keyed by this build's stamp`);
      assert.is(key.stamps, undefined, `${f}: no per-package stamps`);
      if (f.startsWith('backend-')) assert.is(key.stamp, `bundle:${written}`, 'the CPU backend is stamped by the build too');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

stamp.run();
