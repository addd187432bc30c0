// Bundles the runtime (runtime/index.ts) with esbuild into one minified ES module. The @kiln packages'
// files are marked free of side effects for the bundle, so only the runtime code the entry reaches is kept
// (importing Arena from @kiln/backend-cpu keeps the arena, not the code generator or the backend's
// registration). `node:` modules stay external: test/runtime-size.test.ts checks that none is left.
import type { Plugin } from 'esbuild';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The runtime is always bundled from its TypeScript source (the package ships src/), from src/ and dist/ alike.
const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'runtime');
export const RUNTIME_ENTRY = join(RUNTIME_DIR, 'index.ts');
export const WEBGPU_RUNTIME_ENTRY = join(RUNTIME_DIR, 'webgpu-index.ts');
export const EAGER_KERNELS_ENTRY = join(RUNTIME_DIR, 'eager-kernels.ts');

export const kilnSideEffectFree: Plugin = {
  name: 'kiln-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /^@kiln\/|^\.\.?\// }, async (args) => {
      if (args.pluginData === 'inner') return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'inner' });
      if (resolved.errors.length) return { errors: resolved.errors };
      const inKiln = resolved.path.includes(`${sep}packages${sep}`) && !resolved.path.includes(`${sep}node_modules${sep}.pnpm${sep}`);
      return { ...resolved, sideEffects: inKiln ? false : resolved.sideEffects };
    });
  },
};

export interface BundleResult {
  readonly code: string;
  /** Bytes of the minified output. */
  readonly bytes: number;
}

/** Bundles `contents` (an ES module that imports the runtime by `RUNTIME_ENTRY`). */
export async function bundleModule(contents: string, options: { minify?: boolean } = {}): Promise<BundleResult> {
  // Loaded on first use: importing @kiln/aot (or kiln) does not pay for esbuild's start-up.
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents, resolveDir: RUNTIME_DIR, sourcefile: 'aot-module.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['kiln-source'],
    minify: options.minify ?? true,
    // Error classes name themselves (new.target.name): keep the names minification would shorten.
    keepNames: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    // Reached only by code the bundle drops (backend-webgpu opens Dawn through import('webgpu') in Node).
    external: ['node:*', 'webgpu'],
    plugins: [kilnSideEffectFree],
  });
  const code = result.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code) };
}

const runtimeOnly = new Map<string, Promise<BundleResult>>();

/** A runtime alone, minified: what every AOT module of that backend carries besides its plan, kernels and weights. */
export function bundleRuntime(backend: 'cpu' | 'webgpu' = 'cpu'): Promise<BundleResult> {
  let bundle = runtimeOnly.get(backend);
  if (!bundle) runtimeOnly.set(backend, (bundle = bundleModule(`export * from ${JSON.stringify(backend === 'cpu' ? RUNTIME_ENTRY : WEBGPU_RUNTIME_ENTRY)};`)));
  return bundle;
}
