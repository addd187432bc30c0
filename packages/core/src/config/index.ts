// Config: kiln.config.{js,mjs,cjs,ts,mts,json}, .kilnrc*, or a `kiln` key in package.json, found from the
// working directory up to the project root. Loaded automatically (synchronously) by the first compile() of a
// process that has not called configure(), and by every `kiln` command; `await configure()` loads it
// explicitly (and is the way for configs with top-level await or plugins with an async apply()).
// Plugins are package names, paths relative to the config file, `[name, options]`, or inline plugin objects.
// Every error names the file (and the line where there is one), the key, and the plugin.
import { dirname, resolve } from 'node:path';
import { applyPolicyConfig, policyModuleSpecifiers } from '@kiln/policy';
import { Compiler, setDefaultCompiler, setDefaultCompilerLoader } from '../compiler.js';
import type { KilnConfig, KilnPlugin, PluginSpec } from '../compiler.js';
import { setDefaultLogs } from '../logs/index.js';
import { KilnConfigError, errorMessage, lineInStack, syncLoadError } from './errors.js';
import { findConfig, findConfigSync, importFrom, requireFrom } from './load-file.js';
import { validateConfig } from './validate.js';

export { KilnConfigError } from './errors.js';
export { validateConfig } from './validate.js';

type Mode = 'sync' | 'async';
type ModuleTable = Record<string, Record<string, unknown>>;

interface PluginToApply {
  readonly plugin: KilnPlugin;
  readonly key: string;
  readonly name: string;
}

const isTuple = (p: PluginSpec): p is readonly [string, unknown] => Array.isArray(p);
const specOf = (p: PluginSpec): string | undefined => (typeof p === 'string' ? p : isTuple(p) ? p[0] : undefined);

/** The modules a config names (plugins by spec, and the modules of `policy`'s qualified names), with their key. */
function modulesNamed(config: KilnConfig): Array<{ spec: string; key: string }> {
  const list: Array<{ spec: string; key: string }> = [];
  config.plugins.forEach((p, i) => {
    const spec = specOf(p);
    if (spec !== undefined) list.push({ spec, key: `plugins[${i}]` });
  });
  if (config.policy) for (const spec of policyModuleSpecifiers(config.policy)) list.push({ spec, key: 'policy' });
  return list;
}

function loadFailure(file: string, key: string, spec: string, err: unknown): KilnConfigError {
  const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' || (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
  const what = key === 'policy' ? `module '${spec}' (named by a policy rule)` : `plugin '${spec}'`;
  return new KilnConfigError(
    file, key, missing ? `cannot find ${what}` : `cannot load ${what}: ${errorMessage(err)}`,
    missing ? 'install the package, or fix the path (relative paths start with ./ and are relative to the config file)' : 'the original error and its stack are in .cause',
    { plugin: key === 'policy' ? undefined : spec, cause: err, line: missing ? undefined : lineInStack(err, file) },
  );
}

function loadModulesSync(config: KilnConfig, file: string): ModuleTable {
  const table: ModuleTable = {};
  for (const { spec, key } of modulesNamed(config)) {
    if (spec in table) continue;
    try {
      table[spec] = requireFrom(file, spec);
    } catch (err) {
      throw syncLoadError(err, file, key, `'${spec}'`, key === 'policy' ? undefined : spec) ?? loadFailure(file, key, spec, err);
    }
  }
  return table;
}

async function loadModules(config: KilnConfig, file: string): Promise<ModuleTable> {
  const table: ModuleTable = {};
  for (const { spec, key } of modulesNamed(config)) {
    if (spec in table) continue;
    try {
      table[spec] = await importFrom(file, spec);
    } catch (err) {
      throw loadFailure(file, key, spec, err);
    }
  }
  return table;
}

/** The plugin object for one entry of `plugins`: a module's default (or `plugin`) export, or a factory's result. */
function pluginOf(entry: PluginSpec, key: string, file: string, modules: ModuleTable): PluginToApply {
  if (typeof entry === 'object' && !isTuple(entry)) return { plugin: entry, key, name: entry.name ?? `(inline plugin ${key})` };
  const [spec, options] = typeof entry === 'string' ? [entry, undefined] : entry;
  const mod = modules[spec]!;
  let plugin: unknown = mod.default ?? mod.plugin;
  // A function is a factory (every function has an inherited `apply`, so test the type, not the key).
  if (typeof plugin === 'function') {
    try {
      plugin = (plugin as (o: unknown) => unknown)(options);
    } catch (err) {
      throw new KilnConfigError(file, key, `plugin '${spec}': its factory threw: ${errorMessage(err)}`, "the error is the plugin's; its stack is in .cause", { plugin: spec, cause: err });
    }
  } else if (options !== undefined) {
    throw new KilnConfigError(file, key, `plugin '${spec}' takes no options (it exports a plugin object, not a factory)`, `list it as '${spec}'`, { plugin: spec });
  }
  if (!plugin || typeof (plugin as KilnPlugin).apply !== 'function') {
    throw new KilnConfigError(file, key, `plugin '${spec}' exports no plugin object`, 'export default { name, apply(compiler) { … } } or a factory returning one', { plugin: spec });
  }
  return { plugin: plugin as KilnPlugin, key, name: (plugin as KilnPlugin).name ?? spec };
}

function applyFailure(file: string, p: PluginToApply, err: unknown, how: string): KilnConfigError {
  return new KilnConfigError(file, p.key, `plugin '${p.name}' ${how} in apply(): ${errorMessage(err)}`, "the error is the plugin's; its stack is in .cause", { plugin: p.name, cause: err, line: lineInStack(err, file) });
}

/** Module rules written as relative paths (`skip: ['./vendor/**']`) mean paths next to the config file. */
function absoluteModulePatterns(policy: Readonly<Record<string, unknown>>, file: string): Record<string, unknown> {
  const fix = (entry: unknown): unknown => {
    if (typeof entry === 'string') return !entry.includes('#') && isRelativePattern(entry) ? resolve(dirname(file), entry) : entry;
    if (typeof entry === 'object' && entry !== null && typeof (entry as { module?: unknown }).module === 'string') {
      return { ...entry, module: fix((entry as { module: string }).module) };
    }
    return entry;
  };
  const out: Record<string, unknown> = { ...policy };
  for (const kind of ['skip', 'inline']) if (Array.isArray(out[kind])) out[kind] = (out[kind] as unknown[]).map(fix);
  return out;
}

const isRelativePattern = (p: string) => p.startsWith('./') || p.startsWith('../');

/** A compiler with the config's policy and logs, before its plugins are applied. */
function baseCompiler(config: KilnConfig, file: string, modules: ModuleTable): { compiler: Compiler; plugins: PluginToApply[] } {
  const plugins = config.plugins.map((p, i) => pluginOf(p, `plugins[${i}]`, file, modules));
  const compiler = new Compiler(config, file);
  // Into this compiler's own policy: a second compiler with another config decides by its own rules.
  if (config.policy) applyPolicyConfig(compiler.policy.overrides, absoluteModulePatterns(config.policy, file), { file, key: 'policy', modules });
  if (config.logs !== undefined) setDefaultLogs(config.logs);
  return { compiler, plugins };
}

/** Runs one plugin's apply() (what it returns: a promise where it is async); a throw names the plugin. */
function applyPlugin(compiler: Compiler, file: string, p: PluginToApply): unknown {
  try {
    return p.plugin.apply(compiler);
  } catch (err) {
    throw applyFailure(file, p, err, 'threw');
  }
}

function finish(compiler: Compiler, config: KilnConfig): Compiler {
  // The backend name is checked at the first compiled call: a plugin or the caller may tap it later.
  compiler.hooks.configResolved.call(config as unknown as Record<string, unknown>);
  return compiler;
}

/** Builds a compiler from a config object; plugins are applied in order, an async apply() awaited before the next. */
export async function createCompiler(raw: unknown, file = '<inline config>'): Promise<Compiler> {
  const config = validateConfig(raw, file);
  const { compiler, plugins } = baseCompiler(config, file, await loadModules(config, file));
  for (const p of plugins) {
    const result = applyPlugin(compiler, file, p);
    try {
      await result;
    } catch (err) {
      throw applyFailure(file, p, err, 'rejected');
    }
  }
  return finish(compiler, config);
}

/** createCompiler, synchronously: modules through require(); a plugin whose apply() is async is an error. */
export function createCompilerSync(raw: unknown, file = '<inline config>'): Compiler {
  const config = validateConfig(raw, file);
  const { compiler, plugins } = baseCompiler(config, file, loadModulesSync(config, file));
  for (const p of plugins) {
    const result = applyPlugin(compiler, file, p);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, () => undefined); // reported here, not as an unhandled rejection
      throw new KilnConfigError(file, p.key, `plugin '${p.name}' has an async apply(), which the automatic config load at the first compile() cannot wait for`, 'call `await configure()` before compiling, or start the program with `kiln run`', { plugin: p.name });
    }
  }
  return finish(compiler, config);
}

/** `KILN_CONFIG`: a config file to use instead of searching, or `none` for no config at all. */
function configOverride(): string | undefined {
  const v = process.env.KILN_CONFIG;
  return v === undefined || v === '' ? undefined : v;
}

function checkSearchFrom(searchFrom: unknown): asserts searchFrom is string {
  if (typeof searchFrom !== 'string') {
    throw new KilnConfigError('configure()', 'searchFrom', `must be a directory path (a string), got ${searchFrom === null ? 'null' : typeof searchFrom}`, 'call configure() to search from the working directory, or configure(dir)');
  }
}

/**
 * Searches for the config from `searchFrom` upwards (or loads `KILN_CONFIG`), builds the compiler and makes
 * it the default that compile() uses. Returns the compiler (with defaults when no config file exists).
 */
export async function configure(searchFrom: string = process.cwd()): Promise<Compiler> {
  checkSearchFrom(searchFrom);
  const explicit = configOverride();
  const found = explicit === 'none' ? undefined : await findConfig(searchFrom, explicit);
  const compiler = found ? await createCompiler(found.config, found.file) : new Compiler();
  setDefaultCompiler(compiler);
  return compiler;
}

/** configure(), synchronously: what the first compile() of a process runs when configure() was not called. */
export function configureSync(searchFrom: string = process.cwd()): Compiler {
  checkSearchFrom(searchFrom);
  const explicit = configOverride();
  const found = explicit === 'none' ? undefined : findConfigSync(searchFrom, explicit);
  const compiler = found ? createCompilerSync(found.config, found.file) : new Compiler();
  setDefaultCompiler(compiler);
  return compiler;
}

setDefaultCompilerLoader(() => configureSync());
