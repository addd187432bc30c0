import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PolicyConfigError, PolicyError } from './errors.js';
import type { AnyFunction } from './frame.js';
import { OVERRIDE_KINDS } from './overrides.js';
import type { Overrides, OverrideKind } from './overrides.js';
import type { ModuleTable } from './qualified.js';
import { BUILTIN_MODULES, parseQualifiedName, resolveQualifiedName } from './qualified.js';
import type { RuleScope } from './rules/skip.js';

/**
 * The `policy` section of the Kiln config (validated here; core's config loader passes it in). Functions are
 * qualified names (`lodash#debounce`, `./src/ops.js#myOp`, `globalThis#Math.random`); module rules are
 * patterns (`lodash`, `@scope/*`, `node:*`, `/abs/path/**`) or `{ module, scope }`.
 */
export interface PolicyConfig {
  allowInGraph?: string[];
  disallowInGraph?: string[];
  skip?: (string | ModuleEntry)[];
  inline?: (string | ModuleEntry)[];
  /** `{ "lodash#map": "./polyfills.js#map" }`: trace the right-hand function in place of the left. */
  substitute?: Record<string, string>;
}
export interface ModuleEntry {
  module: string;
  scope?: RuleScope;
}

/** Several malformed rules at once: `errors` has one PolicyConfigError per rule. */
export class PolicyConfigErrors extends PolicyError {
  constructor(readonly errors: readonly PolicyConfigError[]) {
    super(`${errors.length} malformed policy rule(s):\n${errors.map((e) => `  - ${e.message.replace(/\n/g, '\n    ')}`).join('\n')}`);
  }
}

export interface ConfigSource {
  /** The config file, for error messages and relative module specifiers. */
  readonly file: string;
  /** The key the policy section sits under (default `policy`). */
  readonly key?: string;
  /** Modules that function names refer to, by specifier (besides `@kiln/tensor`). */
  readonly modules?: ModuleTable;
}

const SCOPES: readonly RuleScope[] = ['all', 'top-level', 'call'];
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Validates every rule of `config` and registers it on `overrides`. All problems are reported together, each
 * naming the rule, the file and the key (`kiln.config.js: policy.skip[2]`); nothing is registered when any
 * rule is malformed.
 */
export function applyPolicyConfig(overrides: Overrides, config: unknown, source: ConfigSource): void {
  const key = source.key ?? 'policy';
  const modules = { ...BUILTIN_MODULES, ...source.modules };
  const errors: PolicyConfigError[] = [];
  const at = (path: string) => `${source.file}: ${key}${path}`;
  if (!isObject(config)) {
    throw new PolicyConfigErrors([new PolicyConfigError(key, source.file, `must be an object, got ${Array.isArray(config) ? 'an array' : typeof config}`)]);
  }
  const actions: ((o: Overrides) => void)[] = [];
  const fnOf = (name: unknown, path: string): AnyFunction | null => {
    if (typeof name !== 'string') {
      errors.push(new PolicyConfigError(JSON.stringify(name) ?? String(name), at(path), 'must be a qualified function name string'));
      return null;
    }
    const r = resolveQualifiedName(name, modules);
    if (r.ok) return r.fn;
    const hint = name.includes('#') ? undefined : "name functions as 'module#path' (e.g. 'lodash#debounce', 'globalThis#Math.random')";
    errors.push(new PolicyConfigError(`'${name}'`, at(path), `resolves to nothing: ${r.why}`, hint));
    return null;
  };
  for (const [kind, value] of Object.entries(config)) {
    if (!(OVERRIDE_KINDS as readonly string[]).includes(kind)) {
      errors.push(new PolicyConfigError(`'${kind}'`, at(`.${kind}`), `unknown rule kind '${kind}'`, `expected one of ${OVERRIDE_KINDS.join(', ')}`));
      continue;
    }
    const k = kind as OverrideKind;
    if (k === 'substitute') {
      if (!isObject(value)) {
        errors.push(new PolicyConfigError('substitute', at('.substitute'), 'must be an object mapping a function name to its polyfill name'));
        continue;
      }
      for (const [target, polyfill] of Object.entries(value)) {
        const path = `.substitute[${JSON.stringify(target)}]`;
        const fn = fnOf(target, path);
        const replacement = fnOf(polyfill, path);
        if (fn && replacement) actions.push((o) => o.substitute(fn, replacement, { origin: at(path), label: target }));
      }
      continue;
    }
    if (!Array.isArray(value)) {
      errors.push(new PolicyConfigError(k, at(`.${k}`), `must be an array, got ${typeof value}`));
      continue;
    }
    value.forEach((entry: unknown, i) => {
      const path = `.${k}[${i}]`;
      if ((k === 'skip' || k === 'inline') && (isObject(entry) || (typeof entry === 'string' && !entry.includes('#')))) {
        const pattern = isObject(entry) ? entry.module : entry;
        const scope = isObject(entry) ? entry.scope ?? 'all' : 'all';
        if (typeof pattern !== 'string') {
          errors.push(new PolicyConfigError(JSON.stringify(entry), at(path), "needs a 'module' string"));
        } else if (!SCOPES.includes(scope as RuleScope)) {
          errors.push(new PolicyConfigError(`'${pattern}'`, at(path), `unknown scope ${JSON.stringify(scope)}`, `expected one of ${SCOPES.join(', ')}`));
        } else {
          actions.push((o) => o[k](pattern, { origin: at(path), scope: scope as RuleScope }));
        }
        return;
      }
      if (typeof entry === 'string' && (k === 'allowInGraph' || k === 'disallowInGraph') && !entry.includes('#')) {
        errors.push(
          new PolicyConfigError(`'${entry}'`, at(path), `${k} takes single functions ('module#name'), not module patterns`, 'no pattern or prefix ever allows a function into the graph; list each function'),
        );
        return;
      }
      const fn = fnOf(entry, path);
      if (fn) actions.push((o) => o[k as 'allowInGraph'](fn, { origin: at(path), label: String(entry) }));
    });
  }
  // Registration itself catches a function allowed and skipped at once, naming both keys.
  const staged = overrides.clone();
  for (const action of actions) {
    try {
      action(staged);
    } catch (e) {
      if (e instanceof PolicyConfigError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new PolicyConfigErrors(errors);
  for (const action of actions) action(overrides);
}

/**
 * Like `applyPolicyConfig`, but first imports the modules that function names refer to (relative
 * specifiers are resolved against the config file's folder).
 */
export async function loadPolicyConfig(overrides: Overrides, config: unknown, source: ConfigSource): Promise<void> {
  const specifiers = new Set<string>();
  const collect = (name: unknown) => {
    const parsed = typeof name === 'string' ? parseQualifiedName(name) : null;
    if (parsed?.module && parsed.module !== 'globalThis' && !(parsed.module in BUILTIN_MODULES)) specifiers.add(parsed.module);
  };
  if (isObject(config)) {
    for (const [kind, value] of Object.entries(config)) {
      if (Array.isArray(value)) value.forEach(collect);
      else if (kind === 'substitute' && isObject(value)) Object.entries(value).forEach(([a, b]) => (collect(a), collect(b)));
    }
  }
  const modules: Record<string, object> = { ...source.modules };
  for (const spec of specifiers) {
    if (spec in modules) continue;
    const url = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(dirname(source.file), spec)).href : spec;
    try {
      modules[spec] = (await import(url)) as object;
    } catch {
      // Left out: the rule naming it then fails with "module '…' is not loaded", naming its key.
    }
  }
  applyPolicyConfig(overrides, config, { ...source, modules });
}
