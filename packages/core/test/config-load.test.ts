import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { explain } from '../src/explain.js';
import { getDefaultCompiler, setDefaultCompiler } from '../src/compiler.js';
import { configure, KilnConfigError } from '../src/config/index.js';
import { coreUrl, project, runNode, tensorUrl } from './support/project.js';

const Config = suite('config: loading');

/** A program that compiles without calling configure(), and prints what the config's plugin saw. */
const program = `
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
const f = (x) => x.mul(2).add(1);
console.log('result', compile(f)(ones([2])).toArray().join(','));
console.log('frames', globalThis.framesSeen ?? 0);
`;
const countingPlugin = `{ name: 'count-frames', apply(compiler) { compiler.hooks.frameStart.tap('count-frames', () => { globalThis.framesSeen = (globalThis.framesSeen ?? 0) + 1; }); } }`;

/** Runs `fn`, then puts back the process's default compiler (configure() replaces it). */
async function keepingDefaultCompiler<T>(fn: () => Promise<T>): Promise<T> {
  const saved = getDefaultCompiler();
  try {
    return await fn();
  } finally {
    setDefaultCompiler(saved);
  }
}

/** The error `configure(dir)` raises; the test fails unless it is a KilnConfigError. */
async function configureError(dir: string): Promise<KilnConfigError> {
  let error: unknown;
  await keepingDefaultCompiler(() => configure(dir).then(() => undefined, (err: unknown) => void (error = err)));
  assert.instance(error, KilnConfigError, 'configure() should have raised a KilnConfigError');
  return error as KilnConfigError;
}

Config('the first compile() of a process loads kiln.config.mjs (inline plugin objects), without configure()', () => {
  const dir = project({ 'kiln.config.mjs': `export default { plugins: [${countingPlugin}] };\n`, 'main.mjs': program });
  const r = runNode(dir, ['main.mjs']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /result 3,3/);
  assert.match(r.stdout, /frames 1/);
});

Config('a Node that cannot require() ES modules (before 20.19): the first compile() says so and what to do; configure() works', () => {
  const configured = `import { configure } from '${coreUrl}';\nawait configure();\nawait import('./main.mjs');\n`;
  const dir = project({ 'kiln.config.mjs': `export default { plugins: [${countingPlugin}] };\n`, 'main.mjs': program, 'configured.mjs': configured });
  // Node 20.20 turns require() of ES modules off with this flag, as Node < 20.19 has it.
  const r = runNode(dir, ['--no-experimental-require-module', 'main.mjs']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /KilnConfigError: .*kiln\.config\.mjs: <file>: the config file is an ES module, and this Node \(v[\d.]+\) cannot require\(\) one/);
  assert.match(r.stderr, /hint: call `await configure\(\)` before compiling, or start the program with `kiln run`, or use Node >= 20\.19/);
  assert.not.match(r.stderr, /threw while loading/);
  const ok = runNode(dir, ['--no-experimental-require-module', 'configured.mjs']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /frames 1/);
});

Config('a program without a config never loads cosmiconfig; a config in a parent folder or package.json still loads', () => {
  const loaded = `\nimport { createRequire } from 'node:module';\nconsole.log('cosmiconfig', Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/cosmiconfig/')));\n`;
  const none = runNode(project({ 'main.mjs': program + loaded }), ['main.mjs']);
  assert.is(none.status, 0, none.stderr);
  assert.match(none.stdout, /result 3,3\nframes 0\ncosmiconfig false/);
  const parent = project({ 'kiln.config.mjs': `export default { plugins: [${countingPlugin}] };\n`, 'app/main.mjs': program });
  const up = runNode(join(parent, 'app'), ['main.mjs']);
  assert.is(up.status, 0, up.stderr);
  assert.match(up.stdout, /frames 1/);
  const pkg = project({ 'main.mjs': program, 'plugin.mjs': `export default ${countingPlugin};\n` });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module', kiln: { plugins: ['./plugin.mjs'] } }));
  const fromPackage = runNode(pkg, ['main.mjs']);
  assert.is(fromPackage.status, 0, fromPackage.stderr);
  assert.match(fromPackage.stdout, /frames 1/);
});

Config('kiln.config.ts loads on Node 20 (transpiled by typescript), automatically and through configure()', () => {
  const dir = project({
    'kiln.config.ts': `interface Plugin { name: string; apply(c: any): void }\nconst count: Plugin = ${countingPlugin};\nexport default { plugins: [count] as Plugin[], recompileLimit: 4 as number };\n`,
    'main.mjs': program,
    'explicit.mjs': `import { configure } from '${coreUrl}';\nconst c = await configure();\nconsole.log('limit', c.config.recompileLimit, c.configFile.endsWith('kiln.config.ts'));\n`,
  });
  const auto = runNode(dir, ['main.mjs']);
  assert.is(auto.status, 0, auto.stderr);
  assert.match(auto.stdout, /frames 1/);
  const explicit = runNode(dir, ['explicit.mjs']);
  assert.is(explicit.status, 0, explicit.stderr);
  assert.match(explicit.stdout, /limit 4 true/);
});

Config('a syntax error in kiln.config.mjs names the file and its real line, at the first compile()', () => {
  const dir = project({ 'kiln.config.mjs': `// config\nexport default {\n  plugins: [,,\n  logs: 'graph'\n};\n`, 'main.mjs': program });
  const r = runNode(dir, ['main.mjs']);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /KilnConfigError: .*kiln\.config\.mjs:4: <file>: syntax error/);
});

Config('a syntax error in kiln.config.ts names its line', async () => {
  const dir = project({ 'kiln.config.ts': `const a: number = 1;\nexport default {\n  logs: 'graph' +\n};\n` });
  assert.match((await configureError(dir)).message, /kiln\.config\.ts:4: <file>: syntax error/);
});

/** A project whose `typescript` is TypeScript 7's npm package: it exports only its version, no transpile API. */
const TYPESCRIPT_7 = {
  'node_modules/typescript/package.json': JSON.stringify({ name: 'typescript', version: '7.0.2', exports: { '.': './lib/version.cjs' } }),
  'node_modules/typescript/lib/version.cjs': `module.exports = { version: '7.0.2', versionMajorMinor: '7.0' };\n`,
};

Config('kiln.config.ts with TypeScript 7 installed (no transpile API) loads through esbuild, and its syntax errors keep their line', async () => {
  const dir = project({
    ...TYPESCRIPT_7,
    'kiln.config.ts': `interface Plugin { name: string; apply(c: any): void }\nconst count: Plugin = ${countingPlugin};\nexport default { plugins: [count] as Plugin[], recompileLimit: 5 as number };\n`,
    'main.mjs': program,
  });
  const auto = runNode(dir, ['main.mjs']);
  assert.is(auto.status, 0, auto.stderr);
  assert.match(auto.stdout, /frames 1/);
  await keepingDefaultCompiler(async () => assert.is((await configure(dir)).config.recompileLimit, 5));
  const broken = project({ ...TYPESCRIPT_7, 'kiln.config.ts': `const a: number = 1;\nexport default {\n  logs: 'graph' +\n};\n` });
  const error = await configureError(broken);
  assert.match(error.message, /kiln\.config\.ts:4: <file>: syntax error/);
  assert.not.match(error.message, /Cannot read properties/);
});

Config('a config with only named exports says it has no default export; a misspelt key suggests the right one', async () => {
  const named = project({ 'kiln.config.mjs': `export const config = { plugins: [] };\n`, 'main.mjs': program });
  const auto = runNode(named, ['main.mjs']);
  assert.is.not(auto.status, 0);
  assert.match(auto.stderr, /KilnConfigError: .*kiln\.config\.mjs: <file>: the config file has no default export \(it exports 'config'\)\n  hint: add export default config;/);
  assert.not.match(auto.stderr, /unknown key/);
  assert.match((await configureError(named)).message, /no default export \(it exports 'config'\)/);
  const typo = await configureError(project({ 'kiln.config.mjs': `export default { plugin: ['./p.mjs'] };\n` }));
  assert.match(typo.message, /kiln\.config\.mjs: plugin: unknown key \(did you mean 'plugins'\?\)/);
  const empty = project({ 'kiln.config.mjs': '// nothing yet\n', 'main.mjs': program });
  assert.is(runNode(empty, ['main.mjs']).status, 0, 'an empty config file is an empty config');
});

Config('relative module paths of policy rules resolve against the config file (skip and allowInGraph)', async () => {
  const dir = project({
    'kiln.config.json': JSON.stringify({ policy: { skip: ['./lib/mod.mjs#helper'], allowInGraph: ['./lib/helpers.mjs#fused'] } }),
    'lib/mod.mjs': 'export function helper(x) { return x.add(1); }\n',
    'lib/helpers.mjs': 'export function fused(x) { return x.mul(2).relu(); }\n',
  });
  const { helper } = (await import(join(dir, 'lib/mod.mjs'))) as { helper: (t: Tensor) => Tensor };
  const { fused } = (await import(join(dir, 'lib/helpers.mjs'))) as { fused: (t: Tensor) => Tensor };
  await keepingDefaultCompiler(async () => {
    const compiler = await configure(dir);
    const usesHelper = (x: Tensor) => helper(x.mul(3)).neg();
    const skipped = explain(usesHelper, { compiler })(k.ones([2]));
    assert.ok(skipped.breakCount >= 1, String(skipped));
    const usesFused = (x: Tensor) => fused(x.add(1)).sum();
    const opaque = explain(usesFused, { compiler })(k.ones([2]));
    assert.is(opaque.breakCount, 0, String(opaque));
    assert.match(String(opaque), /fused/);
  });
});

Config('a plugin whose async apply() rejects fails configure(), naming the file, key and plugin, with the cause', async () => {
  const dir = project({
    'kiln.config.mjs': `export default {\n  plugins: [{ name: 'slow-setup', async apply() { await null; throw new Error('no device'); } }],\n};\n`,
  });
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  try {
    const err = await configureError(dir);
    assert.match(err.message, /kiln\.config\.mjs:2: plugins\[0\]: plugin 'slow-setup' rejected in apply\(\): no device/);
    assert.is(err.plugin, 'slow-setup');
    assert.match((err.cause as Error).message, /no device/);
  } finally {
    await new Promise((r) => setTimeout(r, 10));
    process.off('unhandledRejection', onUnhandled);
  }
  assert.is(unhandled, 0);
});

Config('an async plugin is awaited by configure() before the next plugin applies', async () => {
  const dir = project({
    'kiln.config.mjs': `const order = [];\nexport default { plugins: [\n  { name: 'a', async apply() { await new Promise((r) => setTimeout(r, 5)); order.push('a'); } },\n  { name: 'b', apply(c) { order.push('b'); c.order = order; } },\n] };\n`,
  });
  const compiler = await keepingDefaultCompiler(() => configure(dir));
  assert.equal((compiler as unknown as { order: string[] }).order, ['a', 'b']);
});

Config('an async plugin at the automatic load is a clear error that says to await configure()', () => {
  const dir = project({ 'kiln.config.mjs': `export default { plugins: [{ name: 'gpu-setup', async apply() {} }] };\n`, 'main.mjs': program });
  const r = runNode(dir, ['main.mjs']);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /plugins\[0\]: plugin 'gpu-setup' has an async apply\(\)/);
  assert.match(r.stderr, /await configure\(\)/);
  assert.not.match(r.stderr, /unhandled/i);
});

Config("a plugin spec 'node:fs' is a module, not a relative path", async () => {
  const dir = project({ 'kiln.config.json': JSON.stringify({ plugins: ['node:fs'] }) });
  assert.match((await configureError(dir)).message, /plugins\[0\]: plugin 'node:fs' exports no plugin object/);
});

Config('a plugin that throws in apply() names its line in the config file', async () => {
  const dir = project({ 'kiln.config.mjs': `export default {\n  plugins: [{\n    name: 'broken',\n    apply() { throw new TypeError('bad tap'); },\n  }],\n};\n` });
  const err = await configureError(dir);
  assert.match(err.message, /kiln\.config\.mjs:4: plugins\[0\]: plugin 'broken' threw in apply\(\): bad tap/);
  assert.instance(err.cause, TypeError);
});

Config.run();
