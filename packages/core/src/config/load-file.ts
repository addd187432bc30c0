// Finding and loading the config file (cosmiconfig 9: the version that supports Node 20), and loading the
// modules it names. Two modes: `sync` for the automatic load at the first compile() (require() of ES modules,
// which Node ≥ 20.19 supports for modules without top-level await) and `async` for configure() and the CLI
// (import()). JS and TS configs go through our own loaders so that errors keep the file's real line.
// cosmiconfig itself (and the JSON/YAML parsers it requires) is loaded only when a candidate file exists:
// most programs have no config, and loading it cost a fresh process ≈ 30 ms of processor time at the first compile().
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'acorn';
import { KilnConfigError, errorMessage, lineInStack, syncLoadError } from './errors.js';

export const SEARCH_PLACES = [
  'package.json',
  'kiln.config.json', 'kiln.config.js', 'kiln.config.mjs', 'kiln.config.cjs', 'kiln.config.ts', 'kiln.config.mts',
  '.kilnrc', '.kilnrc.json', '.kilnrc.yaml', '.kilnrc.yml', '.kilnrc.js', '.kilnrc.mjs', '.kilnrc.cjs',
];

const TS_EXTENSIONS = ['.ts', '.mts'];
const isTs = (file: string) => TS_EXTENSIONS.some((e) => file.endsWith(e));

export interface FoundConfig {
  readonly file: string;
  readonly config: unknown;
}

/** A module of the config: a package name, `node:` builtin, or a path relative to the config file. */
export const isRelativeSpec = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || isAbsolute(spec);

/** Loads `spec` as the config file `file` would import it (synchronously: require(); Node ≥ 20.19). */
export function requireFrom(file: string, spec: string): Record<string, unknown> {
  return createRequire(anchor(file))(spec) as Record<string, unknown>;
}

/** Where a config's modules resolve from: its file, or the working directory for an inline config object. */
const anchor = (file: string): string => (isAbsolute(file) ? file : join(process.cwd(), 'kiln.config.inline'));

/** Loads `spec` as the config file `file` would import it. */
export async function importFrom(file: string, spec: string): Promise<Record<string, unknown>> {
  if (isBuiltin(spec)) return (await import(spec)) as Record<string, unknown>;
  const from = anchor(file);
  const path = isRelativeSpec(spec) ? resolve(dirname(from), spec) : createRequire(from).resolve(spec);
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

/** The config value a loaded JS module exports: `export default`, or CommonJS `module.exports`. */
function exported(mod: Record<string, unknown>, file: string): unknown {
  if (mod && typeof mod === 'object' && 'default' in mod) return mod.default;
  // An ES module without a default export (`export const config = …`) is not a config of its own keys.
  if (mod && (mod as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module') {
    const names = Object.keys(mod);
    if (names.length === 0) return undefined; // an empty file: an empty config
    throw new KilnConfigError(file, '<file>', `the config file has no default export (it exports ${names.map((n) => `'${n}'`).join(', ')})`, names.length === 1 ? `add export default ${names[0]};` : 'export default { plugins: [...] }');
  }
  return mod;
}

/** Why a JS/TS config failed to load, with its line: acorn finds a syntax error's, the stack a throw's. */
function loadError(file: string, err: unknown, source: string | undefined): KilnConfigError {
  let line = lineInStack(err, file);
  if (err instanceof SyntaxError && source !== undefined && !isTs(file)) {
    try {
      parse(source, { ecmaVersion: 'latest', sourceType: file.endsWith('.cjs') ? 'script' : 'module', allowHashBang: true });
    } catch (syntax) {
      line = (syntax as { loc?: { line: number } }).loc?.line ?? line;
    }
  }
  const what = err instanceof SyntaxError ? 'syntax error' : 'the config file threw while loading';
  return new KilnConfigError(file, '<file>', `${what}: ${errorMessage(err)}`, err instanceof SyntaxError ? 'fix the file at that line' : 'the original error and its stack are in .cause', { line, cause: err });
}

/** `name` as the config file would import it, else as Kiln would; undefined when neither finds it. */
function optionalModule(file: string, name: string): Record<string, unknown> | undefined {
  for (const from of [file, import.meta.url]) {
    try {
      return createRequire(from)(name) as Record<string, unknown>;
    } catch {
      // next place
    }
  }
  return undefined;
}

/**
 * TypeScript configs on Node 20: transpiled by the project's `typescript` 5 (an optional peer dependency) or,
 * failing that, by `esbuild` (which tsx brings). TypeScript 7's package has no JavaScript API (it exports only
 * its version), so `npm i -D typescript` alone no longer gives a transpiler.
 */
function transpileTs(file: string, source: string): string {
  const ts = optionalModule(file, 'typescript') as typeof import('typescript') | undefined;
  if (typeof ts?.transpileModule === 'function') return transpileWithTypescript(ts, file, source);
  const esbuild = optionalModule(file, 'esbuild') as { transformSync?: (code: string, options: object) => { code: string } } | undefined;
  if (typeof esbuild?.transformSync === 'function') {
    try {
      return esbuild.transformSync(source, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: file }).code;
    } catch (err) {
      const first = (err as { errors?: { text: string; location?: { line: number } }[] }).errors?.[0];
      if (!first) throw err;
      throw new KilnConfigError(file, '<file>', `syntax error: ${first.text}`, 'fix the file at that line', { line: first.location?.line, cause: err });
    }
  }
  const found = ts ? `typescript ${String((ts as { version?: unknown }).version)} is installed, but it has no transpile API (TypeScript 7's package has none)` : 'neither `typescript` nor `esbuild` is installed';
  throw new KilnConfigError(file, '<file>', `a TypeScript config needs a transpiler: ${found}`, 'install one (npm i -D typescript@5, or npm i -D esbuild), or write the config as kiln.config.mjs');
}

function transpileWithTypescript(ts: typeof import('typescript'), file: string, source: string): string {
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  const first = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (first) {
    const line = first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start).line + 1 : undefined;
    throw new KilnConfigError(file, '<file>', `syntax error: ${ts.flattenDiagnosticMessageText(first.messageText, '\n')}`, 'fix the file at that line', { line });
  }
  return out.outputText;
}

/**
 * The JS file to evaluate: the file itself, or for TypeScript (without Node's own type stripping) its
 * transpiled text in a temporary `.mjs` beside it, so that its relative imports resolve as written.
 */
function jsFileFor(file: string, source: string): { path: string; cleanup: () => void } {
  if (!isTs(file) || (process.features as { typescript?: unknown }).typescript) return { path: file, cleanup: () => undefined };
  const js = transpileTs(file, source);
  const path = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.mjs`);
  writeFileSync(path, js);
  return { path, cleanup: () => rmSync(path, { force: true }) };
}

const attribute = (file: string, err: unknown, source: string, jsPath: string) =>
  err instanceof KilnConfigError ? err : loadError(file, err, jsPath === file ? source : undefined);

function loadJsSync(file: string): unknown {
  const source = readFileSync(file, 'utf8');
  const js = jsFileFor(file, source);
  try {
    return exported(createRequire(js.path)(js.path) as Record<string, unknown>, file);
  } catch (err) {
    throw syncLoadError(err, file, '<file>', 'the config file') ?? attribute(file, err, source, js.path);
  } finally {
    js.cleanup();
  }
}

async function loadJsAsync(file: string): Promise<unknown> {
  const source = readFileSync(file, 'utf8');
  const js = jsFileFor(file, source);
  try {
    // A fresh URL per load: configure() called again after the file changed sees the new file.
    return exported((await import(`${pathToFileURL(js.path).href}?t=${Date.now()}`)) as Record<string, unknown>, file);
  } catch (err) {
    throw attribute(file, err, source, js.path);
  } finally {
    js.cleanup();
  }
}

const JS_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];

function explorerOptions<L>(load: L) {
  // 'project': from the start folder up to the nearest package.json (the project's root).
  return { searchPlaces: SEARCH_PLACES, searchStrategy: 'project' as const, cache: false, loaders: Object.fromEntries(JS_EXTENSIONS.map((e) => [e, load])) };
}

/** The JSON/YAML parse errors of cosmiconfig, attributed to the file. */
function wrapSearchError(err: unknown, dir: string): never {
  if (err instanceof KilnConfigError) throw err;
  const m = /(?:JSON|YAML) Error in (\S+):/.exec(errorMessage(err));
  throw new KilnConfigError(m?.[1] ?? dir, '<file>', `cannot be parsed: ${err instanceof Error ? err.message.replace(/^.*\n/, '') : String(err)}`, 'fix the file at the position the message gives', { cause: err });
}

type Cosmiconfig = typeof import('cosmiconfig');
const loadCosmiconfig = (): Cosmiconfig => createRequire(import.meta.url)('cosmiconfig') as Cosmiconfig;

/** Where cosmiconfig looks for its own options ("meta config"), in the working directory only. */
const META_PLACES = ['package.yaml', ...['json', 'yaml', 'yml', 'js', 'ts', 'cjs', 'mjs'].map((e) => `.config/config.${e}`)];

/** Whether `package.json` in `dir` has the key `key` (an unreadable or invalid file counts as having it). */
function packageHasKey(dir: string, key: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof pkg !== 'object' || pkg === null || key in pkg;
  } catch {
    return true; // cosmiconfig reports the parse error with the file's name
  }
}

/**
 * False only when cosmiconfig's search from `dir` would surely find nothing: no search place exists in
 * `dir` or any folder above it (cosmiconfig 9's 'project' strategy walks up to the file system's root), no
 * package.json there has a `kiln` key, and no meta config in the working directory changes the search.
 */
export function mayHaveConfig(dir: string): boolean {
  const cwd = process.cwd();
  if (META_PLACES.some((p) => existsSync(join(cwd, p))) || packageHasKey(cwd, 'cosmiconfig')) return true;
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (SEARCH_PLACES.some((p) => (p === 'package.json' ? packageHasKey(d, 'kiln') : existsSync(join(d, p))))) return true;
    if (dirname(d) === d) return false;
  }
}

/** The config found from `dir` upwards (or the file `explicit`), loaded synchronously. */
export function findConfigSync(dir: string, explicit?: string): FoundConfig | undefined {
  if (!explicit && !mayHaveConfig(dir)) return undefined;
  try {
    const explorer = loadCosmiconfig().cosmiconfigSync('kiln', explorerOptions((file: string) => loadJsSync(file)));
    const found = explicit ? explorer.load(resolve(explicit)) : explorer.search(dir);
    return found ? { file: found.filepath, config: found.config } : undefined;
  } catch (err) {
    return wrapSearchError(err, explicit ?? dir);
  }
}

export async function findConfig(dir: string, explicit?: string): Promise<FoundConfig | undefined> {
  if (!explicit && !mayHaveConfig(dir)) return undefined;
  try {
    const explorer = loadCosmiconfig().cosmiconfig('kiln', explorerOptions((file: string) => loadJsAsync(file)));
    const found = explicit ? await explorer.load(resolve(explicit)) : await explorer.search(dir);
    return found ? { file: found.filepath, config: found.config } : undefined;
  } catch (err) {
    return wrapSearchError(err, explicit ?? dir);
  }
}
