// What the built bundles (scripts/bundle-packages.mjs) carry beside their code: a source map per bundle, so a
// stack frame inside Kiln reads as its TypeScript file and line under `node --enable-source-maps`; and what
// each bundle's bindings' assignments are, so a user function that inlines a Kiln helper costs no parse of a
// whole bundle. These run the build (`pnpm build`, which `pnpm test` runs first) in child processes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const packagesDir = join(import.meta.dirname, '..', '..');

/** Packages whose build is one module (package.json exports dist/bundle.js). */
const bundledPackages = (): string[] =>
  readdirSync(packagesDir).filter((p) => {
    const manifest = join(packagesDir, p, 'package.json');
    return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: { '.': { default?: string } } }).exports?.['.']?.default === './dist/bundle.js';
  });

/** Runs `program` (an ES module) from packages/kiln, so that `kiln` resolves to the build. */
function run(program: string, nodeFlags: string[] = []): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', program], { cwd: join(packagesDir, 'kiln'), encoding: 'utf8', env: { ...process.env, KILN_LOGS: '' } });
  assert.is(r.status, 0, `the child failed:\n${r.stderr}`);
  return { stdout: r.stdout.trim(), stderr: r.stderr };
}

const built = suite('the built bundles');

built.before(() => {
  const unbuilt = bundledPackages().filter((p) => !existsSync(join(packagesDir, p, 'dist', 'bundle.js')));
  assert.equal(unbuilt, [], `build first (npx -y pnpm@12.4.2 build): no build in ${unbuilt.join(', ')}`);
});

built('every bundle has a source map whose sources are the package\'s TypeScript files', () => {
  for (const pkg of bundledPackages()) {
    const dist = join(packagesDir, pkg, 'dist');
    const text = readFileSync(join(dist, 'bundle.js'), 'utf8');
    assert.ok(text.trimEnd().endsWith('//# sourceMappingURL=bundle.js.map'), `@kiln/${pkg}'s bundle names its map last`);
    const map = JSON.parse(readFileSync(join(dist, 'bundle.js.map'), 'utf8')) as { sources: string[] };
    const missing = map.sources.map((s) => resolve(dist, s)).filter((f) => !existsSync(f));
    assert.equal(missing, [], `@kiln/${pkg}: mapped sources that do not exist`);
    assert.ok(map.sources.length > 0 && map.sources.every((s) => s.endsWith('.ts') && resolve(dist, s).startsWith(join(packagesDir, pkg, 'src'))), `@kiln/${pkg}'s map points into its src/: ${map.sources.slice(0, 3).join(', ')}`);
  }
});

built('under --enable-source-maps, an error thrown inside Kiln shows its TypeScript file and line, not the bundle', () => {
  const { stdout } = run(
    `
    const k = await import('kiln');
    const frames = (f) => { try { f(); } catch (e) { return e.stack.split('\\n').filter((l) => l.trim().startsWith('at ')).slice(0, 3); } return []; };
    console.log(JSON.stringify({
      eager: frames(() => k.ones([2, 3]).reshape([7])),
      compiled: frames(() => k.compile(42)),
    }));
  `,
    ['--enable-source-maps'],
  );
  const got = JSON.parse(stdout) as { eager: string[]; compiled: string[] };
  for (const [what, frames, src] of [['eager reshape', got.eager, 'tensor'], ['compile(42)', got.compiled, 'core']] as const) {
    assert.ok(frames.length > 0, `${what}: no stack frames`);
    assert.not.ok(frames.some((f) => f.includes('bundle.js')), `${what}: ${frames.join(' | ')}`);
    assert.match(frames[0]!, new RegExp(`packages/${src}/src/[\\w/-]+\\.ts:\\d+:\\d+\\)$`), `${what}: ${frames[0]}`);
  }
});

built("a compiled function that calls one of Kiln's helpers directly parses no whole bundle", () => {
  // sumToShape is traced (the policy inlines it) and captures @kiln/tensor's `sum` and `reshape`, which the
  // bundle declares with `var`: without the bundle's build-time assignments, the tracer parsed all 180 KB of it
  // with acorn (≈ 330 ms of CPU in a fresh process) to learn that they never change.
  const { stdout } = run(`
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.resolve('@kiln/core'));
    const { Parser } = await import(require.resolve('acorn').replace(/\\.js$/, '.mjs'));
    const parsed = [];
    const parse = Parser.parse;
    Parser.parse = function (input, options) { parsed.push(input.length); return parse.call(this, input, options); };
    const k = await import('kiln');
    const f = (g) => k.sumToShape(g.mul(2), [1, 3]);
    const x = k.tensor([[1, 2, 3], [4, 5, 6]]);
    const got = k.compile(f)(x).toArray();
    console.log(JSON.stringify({ got, eager: f(x).toArray(), longest: Math.max(...parsed) }));
  `);
  const r = JSON.parse(stdout) as { got: number[][]; eager: number[][]; longest: number };
  assert.equal(r.got, r.eager);
  assert.equal(r.got, [[10, 14, 18]]);
  assert.ok(r.longest < 10_000, `a ${r.longest}-character script was parsed`);
});

built.run();
