// Config via cosmiconfig (kiln.config.{js,mjs,ts,json}, .kilnrc*, a `kiln` key in package.json), validated
// once; plugins are package names or paths relative to the config file, each exporting a plugin object or
// a factory of one. Every error names the file, the key and (for plugins) the plugin.
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig } from 'cosmiconfig';
import { KilnError } from '@kiln/tensor';
import { applyPolicyConfig } from '@kiln/policy';
import { Compiler, DEFAULT_CONFIG, setDefaultCompiler } from './compiler.js';
import type { KilnConfig, KilnPlugin } from './compiler.js';
import { LOG_ARTIFACTS, setDefaultLogs } from './logs.js';

export class KilnConfigError extends KilnError {
  constructor(
    readonly file: string,
    readonly key: string,
    message: string,
    hint?: string,
  ) {
    super(`${file}: ${key}: ${message}`, hint);
  }
}

const KEYS = new Set(['backend', 'plugins', 'policy', 'logs', 'dynamic', 'recompileLimit']);

/** Checks a raw config object; returns it with defaults filled in. */
export function validateConfig(raw: unknown, file: string): KilnConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new KilnConfigError(file, '<root>', 'the config must be an object');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!KEYS.has(key)) throw new KilnConfigError(file, key, 'unknown key', `known keys: ${[...KEYS].join(', ')}`);
  }
  const check = (key: string, ok: boolean, what: string, hint: string) => {
    if (r[key] !== undefined && !ok) throw new KilnConfigError(file, key, `must be ${what}, got ${JSON.stringify(r[key]) ?? typeof r[key]}`, hint);
  };
  check('backend', typeof r.backend === 'string', 'a backend name', "e.g. 'auto' (the best available backend) or 'eager'");
  check('plugins', Array.isArray(r.plugins) && r.plugins.every((p) => typeof p === 'string'), 'an array of package names or relative paths', 'plugin objects go to compiler.use(plugin); the config lists modules that export them');
  check('policy', typeof r.policy === 'object' && r.policy !== null && !Array.isArray(r.policy), 'an object', "e.g. { skip: ['lodash'] }");
  check('logs', typeof r.logs === 'string', 'a KILN_LOGS-style string', "e.g. 'graph_breaks,recompiles'");
  check('dynamic', typeof r.dynamic === 'boolean', 'true or false', 'leave it out for automatic dynamic shapes');
  if (typeof r.logs === 'string') {
    for (const part of r.logs.split(',').map((p) => p.trim()).filter(Boolean)) {
      if (!(LOG_ARTIFACTS as readonly string[]).includes(part.replace(/^\+/, ''))) {
        throw new KilnConfigError(file, 'logs', `unknown log artifact '${part}'`, `known artifacts: ${LOG_ARTIFACTS.join(', ')} (comma-separated, e.g. 'graph_breaks,recompiles')`);
      }
    }
  }
  check('recompileLimit', Number.isInteger(r.recompileLimit) && (r.recompileLimit as number) > 0, 'a positive integer', 'the default is 8');
  return {
    backend: (r.backend as string | undefined) ?? DEFAULT_CONFIG.backend,
    plugins: (r.plugins as string[] | undefined) ?? [],
    policy: r.policy as Record<string, unknown> | undefined,
    logs: r.logs as string | undefined,
    dynamic: r.dynamic as boolean | undefined,
    recompileLimit: (r.recompileLimit as number | undefined) ?? DEFAULT_CONFIG.recompileLimit,
  };
}

async function loadPlugin(spec: string, index: number, file: string): Promise<KilnPlugin> {
  const key = `plugins[${index}]`;
  let url: string;
  try {
    url = spec.startsWith('.') || isAbsolute(spec)
      ? pathToFileURL(resolve(dirname(file), spec)).href
      : pathToFileURL(createRequire(file).resolve(spec)).href;
  } catch {
    throw new KilnConfigError(file, key, `cannot resolve plugin '${spec}'`, 'use a package name or a path relative to the config file');
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new KilnConfigError(file, key, `cannot load plugin '${spec}': ${err instanceof Error ? err.message : String(err)}`);
  }
  let plugin = mod.default ?? mod.plugin;
  // A function is a factory (every function has an inherited `apply`, so test the type, not the key).
  if (typeof plugin === 'function') plugin = (plugin as () => unknown)();
  if (!plugin || typeof (plugin as KilnPlugin).apply !== 'function') {
    throw new KilnConfigError(file, key, `plugin '${spec}' exports no plugin object`, 'export default { name, apply(compiler) { … } } or a factory returning one');
  }
  return plugin as KilnPlugin;
}

/** Builds a compiler from a config object (plugins applied in order). */
export async function createCompiler(raw: unknown, file = '<inline config>'): Promise<Compiler> {
  const config = validateConfig(raw, file);
  const compiler = new Compiler(config);
  // Into this compiler's own policy: a second compiler with another config decides by its own rules.
  if (config.policy) applyPolicyConfig(compiler.policy.overrides, config.policy, { file, key: 'policy' });
  if (config.logs !== undefined) setDefaultLogs(config.logs);
  for (const [i, spec] of config.plugins.entries()) {
    const plugin = await loadPlugin(spec, i, file);
    try {
      plugin.apply(compiler);
    } catch (err) {
      throw new KilnConfigError(file, `plugins[${i}]`, `plugin '${plugin.name ?? spec}' threw in apply(): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The backend name is checked at the first compiled call: a plugin or the caller may tap it later.
  compiler.hooks.configResolved.call(config as unknown as Record<string, unknown>);
  return compiler;
}

const SEARCH_PLACES = [
  'package.json',
  'kiln.config.json', 'kiln.config.js', 'kiln.config.mjs', 'kiln.config.cjs', 'kiln.config.ts',
  '.kilnrc', '.kilnrc.json', '.kilnrc.yaml', '.kilnrc.yml', '.kilnrc.js', '.kilnrc.mjs', '.kilnrc.cjs',
];

/**
 * Searches for the config from `searchFrom` upwards, builds the compiler and makes it the default that
 * compile() uses. Returns the compiler (with defaults when no config file exists).
 */
export async function configure(searchFrom = process.cwd()): Promise<Compiler> {
  if (typeof searchFrom !== 'string') {
    throw new KilnConfigError('configure()', 'searchFrom', `must be a directory path (a string), got ${searchFrom === null ? 'null' : typeof searchFrom}`, 'call configure() to search from the working directory, or configure(dir)');
  }
  const found = await cosmiconfig('kiln', { searchPlaces: SEARCH_PLACES }).search(searchFrom);
  const compiler = found ? await createCompiler(found.config, found.filepath) : new Compiler();
  setDefaultCompiler(compiler);
  return compiler;
}
