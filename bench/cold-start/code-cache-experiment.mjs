// An experiment, not a feature: how much a V8 code cache of Kiln's own bundles would take off the demo block's
// uncached first call (packages/core/README.md, "A V8 code cache of Kiln's own code"). Node 20 caches code
// only for classic scripts, so an ES-module loader hook serves each chosen bundle as a classic-script body
// (its imports passed in, its exports returned) run through `vm.Script` with `cachedData`, plus a module that
// re-exports the result. One process writes the caches at exit; then fresh processes of bench/cold-start/child.mjs
// alternate: served as scripts without a cache, and with it (both pay the loader hook, so the difference is the
// cache's). Exported bindings become snapshots here: fine for packages that export no `let` (lower and
// backend-cpu), not for core (and core's bundle has `export *` and dynamic imports, which this does not serve).
// Usage: node bench/cold-start/code-cache-experiment.mjs [pairs] [package…]   (after `pnpm build`; default 9 pairs,
// lower and backend-cpu)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');
const { parse } = createRequire(join(root, 'packages', 'core', 'package.json'))('acorn');
const [pairsArg, ...packageArgs] = process.argv.slice(2);
const pairs = Number(pairsArg ?? 9) || 9;
const packages = packageArgs.length ? packageArgs : ['lower', 'backend-cpu'];
const dir = mkdtempSync(join(tmpdir(), 'kiln-code-cache-'));

/** The bundle as `(function (deps, meta) { …; return exports })` and the module that runs it and re-exports. */
function serve(pkg) {
  const bundle = join(root, 'packages', pkg, 'dist', 'bundle.js');
  const src = readFileSync(bundle, 'utf8');
  const specs = [];
  const exported = [];
  const edits = [];
  if (/\bimport\s*\(/.test(src)) throw new Error(`${pkg}: its bundle has a dynamic import(), which this experiment does not serve`);
  for (const n of parse(src, { ecmaVersion: 'latest', sourceType: 'module' }).body) {
    if (n.type === 'ImportDeclaration') {
      if (!specs.includes(n.source.value)) specs.push(n.source.value);
      const d = `__d[${specs.indexOf(n.source.value)}]`;
      const binds = n.specifiers.map((s) => `const ${s.local.name} = ${s.type === 'ImportNamespaceSpecifier' ? d : `${d}[${JSON.stringify(s.type === 'ImportDefaultSpecifier' ? 'default' : s.imported.name)}]`};`);
      edits.push([n.start, n.end, binds.join(' ')]);
    } else if (n.type === 'ExportNamedDeclaration' && !n.declaration && !n.source) {
      for (const s of n.specifiers) exported.push([s.exported.name, s.local.name]);
      edits.push([n.start, n.end, '']);
    } else if (n.type.startsWith('Export')) {
      throw new Error(`${pkg}: its bundle has an ${n.type}, which this experiment does not serve`);
    }
  }
  let body = src;
  for (const [s, e, t] of edits.sort((a, b) => b[0] - a[0])) body = body.slice(0, s) + t + body.slice(e);
  const script = join(dir, `${pkg}.script.js`);
  const returned = exported.map(([e, l]) => `${JSON.stringify(e)}: ${l}`).join(', ');
  writeFileSync(script, `(function (__d, __meta) { "use strict";\n${body.replaceAll('import.meta', '__meta')}\nreturn { ${returned} };\n})`);
  const shim = join(dir, `${pkg}.module.mjs`);
  writeFileSync(
    shim,
    [
      ...specs.map((s, i) => `import * as __d${i} from ${JSON.stringify(s)};`),
      `import { runScript } from ${JSON.stringify(pathToFileURL(join(dir, 'run-script.mjs')).href)};`,
      `const __m = runScript(${JSON.stringify(script)}, import.meta.url, [${specs.map((_, i) => `__d${i}`).join(', ')}], import.meta);`,
      ...exported.map(([e], i) => `const __e${i} = __m[${JSON.stringify(e)}];`),
      `export { ${exported.map(([e], i) => `__e${i} as ${e}`).join(', ')} };`,
    ].join('\n'),
  );
  return [pathToFileURL(bundle).href, shim];
}

const served = Object.fromEntries(packages.map(serve));
writeFileSync(
  join(dir, 'run-script.mjs'),
  `import vm from 'node:vm';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const made = [];
export function runScript(path, url, deps, meta) {
  const cache = path + '.cache';
  const use = process.env.CODE_CACHE === 'use' && existsSync(cache);
  const script = new vm.Script(readFileSync(path, 'utf8'), { filename: url, ...(use ? { cachedData: readFileSync(cache) } : {}) });
  if (use && script.cachedDataRejected) throw new Error('V8 refused the code cache of ' + path);
  if (process.env.CODE_CACHE === 'make') made.push([script, cache]);
  return script.runInThisContext()(deps, meta);
}
process.on('exit', () => { for (const [script, cache] of made) writeFileSync(cache, script.createCachedData()); });
`,
);
writeFileSync(join(dir, 'hooks.mjs'), `import { readFileSync } from 'node:fs';\nconst served = ${JSON.stringify(served)};\nexport async function load(url, context, next) {\n  return served[url] ? { format: 'module', source: readFileSync(served[url], 'utf8'), shortCircuit: true } : next(url, context);\n}\n`);
writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);

function child(mode) {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, join(import.meta.dirname, 'child.mjs'), 'compile'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CODE_CACHE: mode },
  });
  if (r.status !== 0) throw new Error(`child (${mode}) failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  return { first: out.firstCallCpuMs, imports: Object.values(out.imports).reduce((a, b) => a + b, 0) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
try {
  child('make');
  const runs = { none: [], use: [] };
  for (let i = 0; i < pairs; i++) for (const mode of ['none', 'use']) runs[mode].push(child(mode));
  console.log(`packages served as classic scripts: ${packages.join(', ')}; ${pairs} alternating pairs of fresh processes; load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  for (const [mode, label] of [['none', 'no code cache'], ['use', 'code cache']]) {
    console.log(`${label.padEnd(14)} first call ${median(runs[mode].map((r) => r.first)).toFixed(1)} ms CPU, imports ${median(runs[mode].map((r) => r.imports)).toFixed(1)} ms CPU`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
