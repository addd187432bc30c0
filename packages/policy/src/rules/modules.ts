import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a frame's function lives, derived from the URL the tracer reads from `[[FunctionLocation]]`: a Node
 * builtin module, a file inside node_modules (and its package), a file of a workspace package, or no source
 * at all (builtins, bound functions).
 */
export interface ModuleInfo {
  readonly url: string | undefined;
  /** Absolute file path, when the URL is a file. */
  readonly path: string | undefined;
  /** The package the file belongs to (`lodash`, `@kiln/tensor`), or the builtin (`node:fs`). */
  readonly packageName: string | undefined;
  readonly inNodeModules: boolean;
  readonly nodeBuiltin: boolean;
  /** No JS source: a native function. */
  readonly native: boolean;
}

const packageOfDir = new Map<string, string | null>();

/** The `name` of the nearest package.json above `dir` (cached per directory: the walk costs file reads). */
export function packageNameOfDir(dir: string): string | null {
  const cached = packageOfDir.get(dir);
  if (cached !== undefined) return cached;
  let name: string | null = null;
  try {
    name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name ?? null;
  } catch {
    const parent = dirname(dir);
    name = parent === dir ? null : packageNameOfDir(parent);
  }
  packageOfDir.set(dir, name);
  return name;
}

function toPath(url: string): string | undefined {
  if (url.startsWith('file:')) return fileURLToPath(url);
  if (url.startsWith('/')) return url;
  return undefined;
}

/** The package named by the last `node_modules/` segment of a path (scoped names take two segments). */
function nodeModulesPackage(path: string): string | undefined {
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const parts = path.slice(i + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

export function moduleInfo(url: string | undefined, fn: unknown): ModuleInfo {
  if (url === undefined || url === '') {
    const native = typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
    return { url, path: undefined, packageName: undefined, inNodeModules: false, nodeBuiltin: false, native };
  }
  if (url.startsWith('node:')) {
    return { url, path: undefined, packageName: url, inNodeModules: false, nodeBuiltin: true, native: false };
  }
  const path = toPath(url);
  const fromNodeModules = path ? nodeModulesPackage(path) : undefined;
  const packageName = fromNodeModules ?? (path ? packageNameOfDir(dirname(path)) ?? undefined : undefined);
  return { url, path, packageName, inNodeModules: fromNodeModules !== undefined, nodeBuiltin: false, native: false };
}

/** A glob over `/`-separated names: `*` stays within a segment, `**` crosses segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * What a module rule matches. Written in rules and config as a string:
 * `node:*` / `node:fs` (Node builtins), `node_modules/**` (anything installed), `lodash` / `@kiln/*`
 * (package names, `*` within a segment), `/abs/path/**` or `file:///…/**` (files), `<native>` (no source).
 */
export type ModuleMatcher =
  | { readonly type: 'builtin'; readonly pattern: string }
  | { readonly type: 'node_modules' }
  | { readonly type: 'package'; readonly pattern: string }
  | { readonly type: 'path'; readonly pattern: string }
  | { readonly type: 'native' };

export function parseModulePattern(pattern: string): ModuleMatcher | null {
  if (pattern === '<native>') return { type: 'native' };
  if (pattern === 'node_modules/**' || pattern === 'node_modules') return { type: 'node_modules' };
  if (pattern.startsWith('node:')) return /^node:[\w/*-]+$/.test(pattern) ? { type: 'builtin', pattern } : null;
  if (pattern.startsWith('file:')) return { type: 'path', pattern: fileURLToPath(pattern.replace(/\*/g, '__STAR__')).replace(/__STAR__/g, '*') };
  if (pattern.startsWith('/')) return { type: 'path', pattern };
  if (/^(@[\w.*-]+\/)?[\w.*-]+$/.test(pattern)) return { type: 'package', pattern };
  return null;
}

export function formatModuleMatcher(m: ModuleMatcher): string {
  switch (m.type) {
    case 'builtin': case 'package': case 'path': return m.pattern;
    case 'node_modules': return 'node_modules/**';
    case 'native': return '<native>';
    default: return m satisfies never;
  }
}

const regexCache = new Map<string, RegExp>();
const globMatch = (glob: string, s: string) => {
  let re = regexCache.get(glob);
  if (!re) regexCache.set(glob, (re = globToRegExp(glob)));
  return re.test(s);
};

export function matchesModule(m: ModuleMatcher, info: ModuleInfo): boolean {
  switch (m.type) {
    // Builtin URLs nest (`node:internal/fs/utils`): there `*` spans segments.
    case 'builtin': return info.nodeBuiltin && globMatch(m.pattern.replace(/\*+/g, '**'), info.url!);
    case 'node_modules': return info.inNodeModules;
    case 'package': return info.packageName !== undefined && !info.nodeBuiltin && globMatch(m.pattern, info.packageName);
    case 'path': return info.path !== undefined && globMatch(m.pattern, info.path);
    case 'native': return info.native;
    default: return m satisfies never;
  }
}
