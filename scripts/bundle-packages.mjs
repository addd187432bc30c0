// After `tsc -b`: each package listed below gets its dist/ as one ES module, dist/bundle.js, which its
// package.json exports. Why: Node 20 pays ≈ 1 ms of CPU per ES module it loads (resolve, stat, read, link),
// and `import 'kiln'` loaded ≈ 340 of them — 0.5 s before a user's first line ran. One module per package
// leaves the code and its evaluation order as they are (esbuild concatenates the modules in ES order).
// Other packages' imports (@kiln/*, npm packages, node:) stay imports: every package stays one instance.
//
// Not bundled, because the tracer reads their files: @kiln/tensor (shape and dtype helpers and Tensor
// methods are traced from their own modules, matched by path), @kiln/policy (its polyfills are traced, by
// folder), @kiln/optim (optimizer updates are traced); and packages of a few modules, where it gains nothing.
//
// `import.meta.url` keeps meaning the module it was written in (packages find their package.json, sources and
// code stamps from it): each use is rewritten to that module's URL, computed from the bundle's own.
// Usage: node scripts/bundle-packages.mjs   (run by `pnpm build`)
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const BUNDLED_PACKAGES = ['pytree', 'shapes', 'graph', 'lower', 'backend-cpu', 'core', 'export'];

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

async function bundle(name) {
  const dist = join(root, 'packages', name, 'dist');
  await build({
    entryPoints: [join(dist, 'index.js')],
    outfile: join(dist, 'bundle.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [keepModuleUrls(dist)],
  });
}

await Promise.all(BUNDLED_PACKAGES.map(bundle));
