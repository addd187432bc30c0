// The parts every persistent cache key shares: the Kiln packages' versions and code stamps, V8's version
// (the payload is V8-serialized) and the compiler's config. A key is JSON text; -0 is spelled apart from 0,
// so two graphs that differ only there never share an entry.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleStamp, codeStamp } from '@kiln/lower';
import type { Compiler } from '../compiler.js';

const PACKAGES = ['@kiln/pytree', '@kiln/shapes', '@kiln/tensor', '@kiln/graph', '@kiln/lower', '@kiln/policy'] as const;

/**
 * Where a dependency of core is installed: core's own node_modules (pnpm), else the nearest node_modules above
 * (npm's flat layout), through symlinks to the real folder. Found with stat calls: resolving through the module
 * loader costs a fresh process more than the rest of a cached compile.
 */
function packageRoot(coreRoot: string, name: string): string {
  for (let dir = coreRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync.native(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed beside @kiln/core`);
  }
}

let shared: Record<string, unknown> | null | undefined;

/**
 * Versions and code stamps of core and the packages it runs; null when they cannot be read (no caching). Built
 * Kiln is stamped once per build (bundleStamp: every package's code and version, written into the bundles by
 * `pnpm build`), so a process reads no file for it; sources run directly are stamped file by file.
 */
function kilnIdentity(): Record<string, unknown> | null {
  if (shared !== undefined) return shared;
  try {
    // Core runs from its sources (tests, the kiln-source condition) or its build; so do the packages it runs.
    const codeDir = basename(fileURLToPath(new URL('..', import.meta.url)));
    const built = codeDir === 'dist' ? bundleStamp() : undefined;
    if (built) return (shared = { kilnBuild: built, v8: process.versions.v8 });
    const coreRoot = fileURLToPath(new URL('../..', import.meta.url));
    const version = (JSON.parse(readFileSync(join(coreRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const stamps: Record<string, string> = { '@kiln/core': codeStamp(new URL('../index.js', import.meta.url).href) };
    for (const name of PACKAGES) stamps[name] = codeStamp(pathToFileURL(join(packageRoot(coreRoot, name), codeDir, 'index.js')).href);
    shared = { kiln: version, v8: process.versions.v8, stamps };
  } catch {
    shared = null;
  }
  return shared;
}

/** JSON with -0 kept apart from 0 and non-finite numbers spelled out (JSON would write them as null). */
export function keyJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return `#num:${Object.is(v, -0) ? '-0' : String(v)}`;
    if (typeof v === 'bigint') return `#big:${v}`;
    return v;
  });
}

/** The key parts of a backend entry (graph → compiled code depends on no config), or undefined: no caching. */
export function backendKeyBase(): Record<string, unknown> | undefined {
  return kilnIdentity() ?? undefined;
}

/**
 * The key parts of a frame entry: a trace also depends on the config (its policy rules among them). Rules
 * added from code (`allowInGraph(fn)`, `skip(fn)`) name live functions no key can spell, so a process that
 * made any is not served from the frame cache at all.
 */
export function frameKeyBase(compiler: Compiler): Record<string, unknown> | undefined {
  const identity = kilnIdentity();
  if (!identity || (compiler.policy.inherited?.changeCount ?? 0) > 0) return undefined;
  // Plugins applied from code (compiler.use) are not in the config: their taps, by name, are in the key.
  const { hooks } = compiler;
  const taps = Object.fromEntries(
    (['policyDecision', 'graphCaptured', 'graphPasses', 'backends', 'frameStart', 'guardBuilt'] as const).map((h) => [h, hooks[h].taps.map((t) => `${t.name}@${t.stage ?? 0}`)]),
  );
  return { ...identity, config: compiler.config, taps };
}
