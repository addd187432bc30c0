// @kiln/plugin-cache: a persistent compile cache on disk, like PT2's FX graph cache. A fresh process that
// compiles a function compiled before (same source, Kiln, config and backend) loads its traced frame and its
// generated kernels instead of tracing and generating them again; core re-checks every guard against the
// live function first, so a kept entry is only used where a fresh compile would make the same code.
//   // kiln.config.mjs
//   export default { plugins: ['@kiln/plugin-cache'] };
// The folder is `.kiln-cache/` in the working directory, or KILN_COMPILE_CACHE_DIR, or `cachePlugin({ dir })`.
import { resolve } from 'node:path';
import { KilnConfigError, log, logEnabled } from '@kiln/core';
import type { Compiler, KilnPlugin, PersistentCacheKey } from '@kiln/core';
import { entryPath, readEntry, writeEntry } from './store.js';

export const PLUGIN_NAME = 'cache';

export interface CachePluginOptions {
  /** The cache folder (default: KILN_COMPILE_CACHE_DIR, else `.kiln-cache` in the working directory). */
  readonly dir?: string;
}

/** What the cache did in this process (tests and the cold-start bench read it). */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Files found but unusable (damaged, truncated, another key): counted in misses too. */
  rejected: number;
  stores: number;
  storeErrors: number;
}

export interface CachePlugin extends KilnPlugin {
  readonly dir: string;
  readonly stats: CacheStats;
}

const debug = (message: string) => {
  if (logEnabled('cache')) log('cache', '', message);
};

/** The plugin factory (a config file calls it with no options). */
export default function cachePlugin(options: CachePluginOptions = {}): CachePlugin {
  const where = '@kiln/plugin-cache options';
  if (options === null || typeof options !== 'object') throw new KilnConfigError(where, '<root>', `must be an object, got ${options === null ? 'null' : typeof options}`, "e.g. cachePlugin({ dir: '.kiln-cache' })");
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) throw new KilnConfigError(where, 'dir', `must be a folder path (a non-empty string), got ${JSON.stringify(options.dir) ?? typeof options.dir}`, 'leave it out for .kiln-cache in the working directory');
  const dir = resolve(options.dir ?? process.env.KILN_COMPILE_CACHE_DIR ?? '.kiln-cache');
  const stats: CacheStats = { hits: 0, misses: 0, rejected: 0, stores: 0, storeErrors: 0 };
  let warnedWrite = false;
  return {
    name: PLUGIN_NAME,
    dir,
    stats,
    apply(compiler: Compiler) {
      compiler.hooks.compileCacheLoad.tap(PLUGIN_NAME, (key: PersistentCacheKey) => {
        const path = entryPath(dir, key.kind, key.text);
        const found = readEntry(path, key.text);
        if ('payload' in found) {
          stats.hits++;
          debug(`hit: ${key.label} (${path})`);
          return found.payload;
        }
        stats.misses++;
        if (found.miss !== 'absent') {
          stats.rejected++;
          debug(`miss: ${key.label}: ${path} is ${found.miss === 'damaged' ? `damaged (${found.detail})` : found.detail}`);
        } else debug(`miss: ${key.label} (no entry)`);
        return undefined;
      });
      compiler.hooks.compileCacheStore.tap(PLUGIN_NAME, (key: PersistentCacheKey, payload: Uint8Array) => {
        const path = entryPath(dir, key.kind, key.text);
        try {
          writeEntry(dir, path, key.text, payload);
          stats.stores++;
          debug(`stored: ${key.label} (${payload.length} bytes, ${path})`);
        } catch (err) {
          stats.storeErrors++;
          if (!warnedWrite) {
            warnedWrite = true;
            process.stderr.write(`[kiln] warning: plugin cache cannot write to ${dir} (${err instanceof Error ? err.message : String(err)}); compiles still work, uncached. Set KILN_COMPILE_CACHE_DIR to a writable folder.\n`);
          }
        }
      });
    },
  };
}

export { cachePlugin };
