// After `tsc -b`: each package listed below gets its dist/ as one ES module, dist/bundle.js, which its
// package.json exports. Why: Node 20 pays ≈ 1 ms of CPU per ES module it loads (resolve, stat, read, link),
// and `import 'kiln'` loaded ≈ 340 of them — 0.5 s before a user's first line ran. One module per package
// leaves the code and its evaluation order as they are (esbuild concatenates the modules in ES order).
// Other packages' imports (@kiln/*, npm packages, node:) stay imports: every package stays one instance.
//
// Files the tracer reads stay modules of their own, imported by the bundle (`keep`): @kiln/policy's
// polyfills are traced, matched by their folder (with errors.js, which they import: a kept file may import only
// kept files, so no module is ever both kept and bundled — that would make two copies of its classes).
// @kiln/tensor's shape and dtype helpers (size.js, dtype.js) are traced, matched by their path (the policy's
// rule for them names those files), so they stay beside its bundle with errors.js; the rest of the package
// (≈50 modules, ≈60 ms of a fresh process's import CPU when loaded one by one) is one module. The Tensor
// methods the tracer inlines (ndim, numel, isContiguous) are matched by identity and capture nothing, so
// reading them from the bundle costs no scan of its text. Not bundled at all: @kiln/optim (its updates are
// traced) and the packages of a few modules.
//
// `import.meta.url` keeps meaning the module it was written in (packages find their package.json, sources and
// code stamps from it): each use is rewritten to that module's URL, computed from the bundle's own.
//
// Each bundle gets a source map (dist/bundle.js.map) chained through tsc's maps to the TypeScript in src/, so
// that `node --enable-source-maps` shows a stack frame inside Kiln at its src/*.ts line, not at a line of a
// 7,000-line bundle. And each bundle ends with what its bindings' assignments are (one comment line, see
// packages/core/src/trace/built-assignments.ts): the tracer would otherwise parse a whole bundle with cold
// acorn (≈ 330 ms for @kiln/tensor's) the first time a user function inlines one of its helpers.
//
// One npm package is built into an ES module too (`VENDORED`): tapable, the hooks library core imports, is 15
// CommonJS files, each read, wrapped and compiled on its own, and the first CommonJS file wakes Node's
// CommonJS loader: ≈ 11 ms of a fresh process's import, against ≈ 2.5 ms for the same code as one ES module.
// Core's bundle imports it as `./vendor/tapable.js` (its license at the top); `tapable` stays a dependency
// for core's type declarations, and the sources (run by tests through tsx) import the package itself.
// Usage: node scripts/bundle-packages.mjs   (run by `pnpm build`)
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { workspacePackages, writeStamp } from './stamp-build.mjs';

const root = resolve(import.meta.dirname, '..');
// The tracer's own analysis (built by `tsc -b` just before), and the parser it uses.
const { assignmentsComment } = await import(pathToFileURL(join(root, 'packages/core/dist/trace/built-assignments.js')).href);
const { parse } = createRequire(join(root, 'packages/core/package.json'))('acorn');
/** Package folder → files of its dist/ that stay their own modules (paths relative to dist/, `*` for a folder's files). */
const BUNDLED_PACKAGES = {
  pytree: [], shapes: [], graph: [], lower: [], 'backend-cpu': [], core: [], export: [],
  policy: ['errors.js', 'polyfills/*'],
  tensor: ['size.js', 'dtype.js', 'errors.js'],
};
/**
 * Packages whose classes keep their own names in the bundle. esbuild renames a class that refers to itself
 * (`var Tensor = class _Tensor`), and users see @kiln/tensor's class names (`Tensor.name`, inspected tensors,
 * guard texts). Not esbuild's keepNames: it wraps every named function, inner ones included, in a `__name()`
 * call that redefines `name` each time the function is created (2 ms of the policy's import alone, and per
 * call on eager paths that make closures); only the renamed classes get their name back, once, at the end.
 */
const KEEP_CLASS_NAMES = new Set(['tensor']);

/**
 * Package folder → npm packages built into one ES module beside its bundle (dist/vendor/<name>.js), with the
 * names the package imports from them (a name missing here fails the build).
 */
const VENDORED = {
  core: { tapable: ['HookMap', 'SyncBailHook', 'SyncHook', 'SyncWaterfallHook'] },
};

/**
 * Builds `dependency` (CommonJS) into dist/vendor/<dependency>.js as an ES module exporting `names`. Its
 * `require` of a Node builtin becomes an ES import of it (esbuild's ES output has no `require`).
 */
async function vendor(name, dependency, names) {
  const require = createRequire(join(root, 'packages', name, 'package.json'));
  const main = require.resolve(dependency);
  const pkg = JSON.parse(await readFile(require.resolve(`${dependency}/package.json`), 'utf8'));
  const license = await readFile(join(dirname(require.resolve(`${dependency}/package.json`)), 'LICENSE'), 'utf8');
  const outfile = join(root, 'packages', name, 'dist', 'vendor', `${dependency}.js`);
  const builtins = {
    name: 'builtins-as-imports',
    setup(b) {
      b.onResolve({ filter: /^[a-z_]+$/ }, (args) => (args.importer && isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `export * from 'node:${args.path}';\n`, loader: 'js' }));
    },
  };
  await build({
    stdin: { contents: `export { ${names.join(', ')} } from ${JSON.stringify(main)};\n`, resolveDir: root, loader: 'js' },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: `/*\n${dependency} ${pkg.version}, built into one ES module by Kiln's scripts/bundle-packages.mjs.\n\n${license.trim().replaceAll('*/', '* /')}\n*/` },
    plugins: [builtins],
  });
  const built = await import(pathToFileURL(outfile).href);
  const missing = names.filter((n) => typeof built[n] !== 'function');
  if (missing.length) throw new Error(`bundle-packages: ${dependency} exports no ${missing.join(', ')}`);
}

/** Points the bundle's imports of vendored packages at their dist/vendor/ module. */
function vendoredImports(dependencies) {
  return {
    name: 'vendored-imports',
    setup(b) {
      for (const dependency of dependencies) {
        b.onResolve({ filter: new RegExp(`^${dependency}$`) }, () => ({ path: `./vendor/${dependency}.js`, external: true }));
      }
    },
  };
}

function restoreClassNames(text) {
  const renamed = [...text.matchAll(/^var ([A-Za-z_$][\w$]*) = class _\1\b/gm)].map((m) => m[1]);
  if (renamed.length === 0) return text;
  const fixes = renamed.map((n) => `Object.defineProperty(${n}, "name", { value: ${JSON.stringify(n)}, configurable: true });`);
  return `${text}\n// Class names esbuild changed (self-referencing classes), restored by scripts/bundle-packages.mjs.\n${fixes.join('\n')}\n`;
}

const posix = (path) => path.split(sep).join('/');
const matchesKept = (keep, rel) => keep.some((k) => (k.endsWith('/*') ? dirname(rel) === k.slice(0, -2) : rel === k));

/** Leaves the kept files as imports of the bundle (which sits in dist/ itself, so dist-relative paths hold). */
function keepFiles(dist, keep) {
  return {
    name: 'keep-files',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const rel = posix(relative(dist, resolve(args.resolveDir, args.path)));
        return matchesKept(keep, rel) ? { path: `./${rel}`, external: true } : undefined;
      });
    },
  };
}

/** A kept file's relative imports must be kept files too, or a module would be loaded twice (bundled and not). */
async function checkKeptImports(dist, keep, kept) {
  for (const file of kept) {
    const text = await readFile(join(dist, file), 'utf8');
    for (const [, spec] of text.matchAll(/(?:from|import)\s*['"](\.\.?\/[^'"]+)['"]/g)) {
      const rel = posix(relative(dist, resolve(dist, dirname(file), spec)));
      if (!matchesKept(keep, rel)) throw new Error(`bundle-packages: ${dist}/${file} is kept as its own module but imports ${spec}, which is bundled; keep it too`);
    }
  }
}

/** Rewrites `import.meta.url` in each module to the URL that module has in dist/ (relative to the bundle). */
function keepModuleUrls(dist) {
  return {
    name: 'keep-module-urls',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const own = `./${relative(dist, args.path).split(sep).join('/')}`;
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
}

async function bundle(name, keep) {
  const dist = join(root, 'packages', name, 'dist');
  const outfile = join(dist, 'bundle.js');
  const result = await build({
    entryPoints: [join(dist, 'index.js')],
    outfile,
    write: false,
    // The map file without esbuild's comment: the comment is written last, after the lines appended below.
    sourcemap: 'external',
    sourcesContent: false,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [vendoredImports(Object.keys(VENDORED[name] ?? {})), keepFiles(dist, keep), keepModuleUrls(dist)],
  });
  const kept = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.path.startsWith('./')).map((i) => i.path.slice(2)));
  await checkKeptImports(dist, keep, kept);
  const output = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext));
  let code = output('.js').text;
  if (KEEP_CLASS_NAMES.has(name)) code = restoreClassNames(code);
  code = code.replace(/\n*$/, '');
  const stamp = assignmentsComment(code, parse(code, { ecmaVersion: 'latest', sourceType: 'module' }));
  await writeFile(outfile, `${code}\n${stamp}\n//# sourceMappingURL=bundle.js.map\n`);
  await writeFile(`${outfile}.map`, output('.js.map').text);
}

await Promise.all(Object.entries(VENDORED).flatMap(([name, deps]) => Object.entries(deps).map(([dependency, names]) => vendor(name, dependency, names))));
await Promise.all(Object.entries(BUNDLED_PACKAGES).map(([name, keep]) => bundle(name, keep)));
// Kiln's build stamp, once every bundle is written: persistent caches key entries by it (scripts/stamp-build.mjs).
writeStamp(workspacePackages(root));
