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
  /** The file's path inside its package (`src/ops/views.ts`), when the package root is known. */
  readonly packagePath: string | undefined;
  readonly inNodeModules: boolean;
  readonly nodeBuiltin: boolean;
  /** No JS source: a native function. */
  readonly native: boolean;
}

interface PackageOfDir {
  readonly name: string;
  readonly root: string;
}
const packageOfDir = new Map<string, PackageOfDir | null>();

/** The nearest package.json above `dir`: its `name` and folder (cached per directory: the walk reads files). */
export function packageOfDirectory(dir: string): PackageOfDir | null {
  const cached = packageOfDir.get(dir);
  if (cached !== undefined) return cached;
  let found: PackageOfDir | null = null;
  try {
    const name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
    found = name ? { name, root: dir } : null;
  } catch {
    const parent = dirname(dir);
    found = parent === dir ? null : packageOfDirectory(parent);
  }
  packageOfDir.set(dir, found);
  return found;
}

function toPath(url: string): string | undefined {
  if (url.startsWith('file:')) return fileURLToPath(url);
  if (url.startsWith('/')) return url;
  return undefined;
}

/** The package named by the last `node_modules/` segment of a path (scoped names take two segments). */
function nodeModulesPackage(path: string): PackageOfDir | undefined {
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const base = i + '/node_modules/'.length;
  const parts = path.slice(base).split('/');
  const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return { name, root: path.slice(0, base + name.length) };
}

export function moduleInfo(url: string | undefined, fn: unknown): ModuleInfo {
  const none = { path: undefined, packageName: undefined, packagePath: undefined, inNodeModules: false, nodeBuiltin: false, native: false };
  if (url === undefined || url === '') {
    const native = typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
    return { ...none, url, native };
  }
  if (url.startsWith('node:')) return { ...none, url, packageName: url, nodeBuiltin: true };
  const path = toPath(url);
  if (!path) return { ...none, url };
  const installed = nodeModulesPackage(path);
  const pkg = installed ?? packageOfDirectory(dirname(path)) ?? undefined;
  return {
    ...none,
    url,
    path,
    packageName: pkg?.name,
    packagePath: pkg && path.startsWith(pkg.root + '/') ? path.slice(pkg.root.length + 1) : undefined,
    inNodeModules: installed !== undefined,
  };
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
  | { readonly type: 'package'; readonly pattern: string; readonly within?: readonly string[] }
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
    case 'package': return m.within ? `${m.pattern} (${m.within.join(', ')})` : m.pattern;
    case 'builtin': case 'path': return m.pattern;
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
    case 'package':
      return (
        info.packageName !== undefined && !info.nodeBuiltin && globMatch(m.pattern, info.packageName) &&
        (!m.within || (info.packagePath !== undefined && m.within.some((g) => globMatch(g, info.packagePath!))))
      );
    case 'path': return info.path !== undefined && globMatch(m.pattern, info.path);
    case 'native': return info.native;
    default: return m satisfies never;
  }
}
