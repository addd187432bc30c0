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
  /** skip only: the functions its functions call are not compiled either (see OverrideOptions.recursive). */
  recursive?: boolean;
}

/** Several malformed rules at once: `errors` has one PolicyConfigError per rule. */
export class PolicyConfigErrors extends PolicyError {
  constructor(readonly errors: readonly PolicyConfigError[]) {
    super(`${errors.length} malformed policy ${errors.length === 1 ? 'rule' : 'rules'}:\n${errors.map((e) => `  - ${e.message.replace(/\n/g, '\n    ')}`).join('\n')}`);
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

type Registration = (o: Overrides) => void;

/** Reads one `policy` section: collects a registration per valid rule and an error per malformed one. */
class ConfigReader {
  readonly errors: PolicyConfigError[] = [];
  readonly registrations: Registration[] = [];
  private readonly modules: ModuleTable;
  private readonly key: string;

  constructor(private readonly source: ConfigSource) {
    this.key = source.key ?? 'policy';
    this.modules = { ...BUILTIN_MODULES, ...source.modules };
  }

  /** `kiln.config.js: policy.skip[2]`: where a rule comes from. */
  at(path: string): string {
    return `${this.source.file}: ${this.key}${path}`;
  }

  private error(rule: string, path: string, problem: string, hint?: string): void {
    this.errors.push(new PolicyConfigError(rule, this.at(path), problem, hint));
  }

  readSection(config: Record<string, unknown>): void {
    for (const [kind, value] of Object.entries(config)) {
      if (!(OVERRIDE_KINDS as readonly string[]).includes(kind)) {
        this.error(`'${kind}'`, `.${kind}`, `unknown rule kind '${kind}'`, `expected one of ${OVERRIDE_KINDS.join(', ')}`);
      } else if (kind === 'substitute') {
        this.readSubstitutes(value);
      } else if (!Array.isArray(value)) {
        this.error(kind, `.${kind}`, `must be an array, got ${typeof value}`);
      } else {
        value.forEach((entry: unknown, i) => this.readEntry(kind as Exclude<OverrideKind, 'substitute'>, entry, `.${kind}[${i}]`));
      }
    }
  }

  private resolve(name: unknown, path: string): AnyFunction | null {
    if (typeof name !== 'string') {
      this.error(JSON.stringify(name) ?? String(name), path, 'must be a qualified function name string');
      return null;
    }
    const r = resolveQualifiedName(name, this.modules);
    if (r.ok) return r.fn;
    const hint = name.includes('#') ? undefined : "name functions as 'module#path' (e.g. 'lodash#debounce', 'globalThis#Math.random')";
    this.error(`'${name}'`, path, `resolves to nothing: ${r.why}`, hint);
    return null;
  }

  private readSubstitutes(value: unknown): void {
    if (!isObject(value)) {
      this.error('substitute', '.substitute', 'must be an object mapping a function name to its polyfill name');
      return;
    }
    for (const [target, polyfill] of Object.entries(value)) {
      const path = `.substitute[${JSON.stringify(target)}]`;
      const fn = this.resolve(target, path);
      const replacement = this.resolve(polyfill, path);
      if (fn && replacement) this.registrations.push((o) => o.substitute(fn, replacement, { origin: this.at(path), label: target }));
    }
  }

  private readEntry(kind: Exclude<OverrideKind, 'substitute'>, entry: unknown, path: string): void {
    const isModuleRule = isObject(entry) || (typeof entry === 'string' && !entry.includes('#'));
    if ((kind === 'skip' || kind === 'inline') && isModuleRule) {
      this.readModuleEntry(kind, entry as string | Record<string, unknown>, path);
    } else if ((kind === 'allowInGraph' || kind === 'disallowInGraph') && typeof entry === 'string' && isModuleRule) {
      this.error(`'${entry}'`, path, `${kind} takes single functions ('module#name'), not module patterns`, 'no pattern or prefix ever allows a function into the graph; list each function');
    } else {
      const fn = this.resolve(entry, path);
      if (fn) this.registrations.push((o) => o[kind](fn, { origin: this.at(path), label: String(entry) }));
    }
  }

  private readModuleEntry(kind: 'skip' | 'inline', entry: string | Record<string, unknown>, path: string): void {
    const pattern = typeof entry === 'string' ? entry : entry.module;
    const scope = typeof entry === 'string' ? 'all' : entry.scope ?? 'all';
    const recursive = typeof entry === 'string' ? undefined : entry.recursive;
    if (typeof pattern !== 'string') {
      this.error(JSON.stringify(entry), path, "needs a 'module' string");
    } else if (!SCOPES.includes(scope as RuleScope)) {
      this.error(`'${pattern}'`, path, `unknown scope ${JSON.stringify(scope)}`, `expected one of ${SCOPES.join(', ')}`);
    } else if (recursive !== undefined && (kind !== 'skip' || typeof recursive !== 'boolean')) {
      this.error(`'${pattern}'`, path, kind !== 'skip' ? "'recursive' applies to skip rules only" : `'recursive' must be true or false, got ${JSON.stringify(recursive)}`);
    } else {
      this.registrations.push((o) => o[kind](pattern, { origin: this.at(path), scope: scope as RuleScope, ...(recursive !== undefined && { recursive: recursive as boolean }) }));
    }
  }
}

/**
 * Validates every rule of `config` and registers it on `overrides`. All problems are reported together, each
 * naming the rule, the file and the key (`kiln.config.js: policy.skip[2]`); nothing is registered when any
 * rule is malformed.
 */
export function applyPolicyConfig(overrides: Overrides, config: unknown, source: ConfigSource): void {
  if (!isObject(config)) {
    const got = Array.isArray(config) ? 'an array' : typeof config;
    throw new PolicyConfigErrors([new PolicyConfigError(source.key ?? 'policy', source.file, `must be an object, got ${got}`)]);
  }
  const reader = new ConfigReader(source);
  reader.readSection(config);
  const { errors, registrations: actions } = reader;
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

/** The modules a policy section's qualified names refer to (`./mod.mjs` of `./mod.mjs#helper`), as written. */
export function policyModuleSpecifiers(config: unknown): Set<string> {
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
  return specifiers;
}

/**
 * Like `applyPolicyConfig`, but first imports the modules that function names refer to (relative
 * specifiers are resolved against the config file's folder).
 */
export async function loadPolicyConfig(overrides: Overrides, config: unknown, source: ConfigSource): Promise<void> {
  const specifiers = policyModuleSpecifiers(config);
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
