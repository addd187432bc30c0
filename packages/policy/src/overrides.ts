import { PolicyConfigError } from './errors.js';
import type { AnyFunction, DecisionKind } from './frame.js';
import { checkPolyfillSignature } from './polyfills/index.js';
import type { ModuleMatcher } from './rules/modules.js';
import { formatModuleMatcher, parseModulePattern } from './rules/modules.js';
import type { RuleScope } from './rules/skip.js';

/** The user override kinds, as written in code and in the `policy` section of the config. */
export const OVERRIDE_KINDS = ['allowInGraph', 'disallowInGraph', 'skip', 'inline', 'substitute'] as const;
export type OverrideKind = (typeof OVERRIDE_KINDS)[number];

/** What each override kind decides. */
export const OVERRIDE_DECISION: { readonly [K in OverrideKind]: DecisionKind } = {
  allowInGraph: 'allowInGraph',
  disallowInGraph: 'skip',
  skip: 'skip',
  inline: 'inline',
  substitute: 'skip',
};

export interface FunctionOverride {
  readonly id: string;
  readonly kind: OverrideKind;
  readonly fn: AnyFunction;
  /** How the user named it, for reasons and reports. */
  readonly label: string;
  readonly polyfill?: AnyFunction;
  /** Code location or `file: key` of the config entry. */
  readonly origin: string;
  /** skip(fn, { recursive: true }): nothing the function calls is compiled either. */
  readonly recursive?: true;
  /** allowInGraph(fn, { meta }): the result's shapes and dtypes without a fake-tensor run of `fn`. */
  readonly meta?: (...args: any[]) => unknown;
}

export interface ModuleOverride {
  readonly id: string;
  readonly kind: 'skip' | 'inline';
  readonly matcher: ModuleMatcher;
  readonly scope: RuleScope;
  readonly origin: string;
  readonly recursive?: true;
}

export interface OverrideOptions {
  /** Where the rule comes from: `kiln.config.js: policy.skip[0]`. Defaults to the caller's source line. */
  readonly origin?: string;
  /** How to name the function in reasons; defaults to `fn.name`. */
  readonly label?: string;
  /** For module rules: which frames they cover (default 'all'). */
  readonly scope?: RuleScope;
  /**
   * skip() only. By default a skipped *user* function still runs its own callees compiled (the tracer runs
   * a copy of it whose calls are redirected, as PEP 523 lets Dynamo see every frame); `recursive: true`
   * keeps the whole subtree eager, like `torch.compiler.disable(fn, recursive=True)`.
   */
  readonly recursive?: boolean;
  /**
   * allowInGraph() of a user function only: the shapes and dtypes of its result, from the call's arguments
   * (tensors arrive as metadata: shape, strides, dtype), as `{ shape, dtype }` or an array of those. Without
   * it the function is run once on fake tensors to find them, as torch's allow_in_graph does.
   */
  readonly meta?: (...args: any[]) => unknown;
}

/** `{ meta }` is for allowInGraph() only and must be a function. */
function checkMeta(kind: OverrideKind, rule: string, origin: string, options: OverrideOptions): OverrideOptions['meta'] {
  const m: unknown = options.meta;
  if (m === undefined) return undefined;
  if (kind !== 'allowInGraph') throw new PolicyConfigError(rule, origin, `{ meta } applies to allowInGraph() only, not ${kind}()`, 'remove the option');
  if (typeof m !== 'function') throw new PolicyConfigError(rule, origin, `{ meta } must be a function of the call's arguments, got ${m === null ? 'null' : typeof m}`, 'e.g. { meta: (x) => ({ shape: x.shape, dtype: x.dtype }) }');
  return m as OverrideOptions['meta'];
}

/** `{ recursive }` is for skip() only and must be a boolean: a typo must not silently compile a subtree. */
function checkRecursive(kind: OverrideKind, rule: string, origin: string, options: OverrideOptions): true | undefined {
  const r: unknown = options.recursive;
  if (r === undefined) return undefined;
  if (kind !== 'skip') throw new PolicyConfigError(rule, origin, `{ recursive } applies to skip() only, not ${kind}()`, 'remove the option');
  if (typeof r !== 'boolean') throw new PolicyConfigError(rule, origin, `{ recursive } must be true or false, got ${JSON.stringify(r) ?? typeof r}`);
  return r ? true : undefined;
}

const OPTION_KEYS = ['origin', 'label', 'scope', 'recursive', 'meta'] as const;
const SCOPES = ['all', 'top-level', 'call'];

/** The options object itself: an object of known keys with the right types, or left out. */
function checkOptions(rule: string, origin: string, options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new PolicyConfigError(rule, origin, `options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, `known options: ${OPTION_KEYS.join(', ')}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw new PolicyConfigError(rule, origin, `unknown option '${key}'`, `known options: ${OPTION_KEYS.join(', ')}`);
  }
  for (const key of ['origin', 'label'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw new PolicyConfigError(rule, origin, `{ ${key} } must be a string, got ${typeof o[key]}`);
  }
  if (o.scope !== undefined && !SCOPES.includes(o.scope as string)) {
    throw new PolicyConfigError(rule, origin, `{ scope } must be one of ${SCOPES.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(o.scope) ?? typeof o.scope}`);
  }
}

/** A label for a rule's target that cannot itself throw (the target may be anything a caller passed). */
function labelOf(fn: unknown, options: OverrideOptions | null | undefined): string {
  const given = options !== null && typeof options === 'object' ? options.label : undefined;
  if (typeof given === 'string') return given;
  return typeof fn === 'function' && fn.name ? fn.name : '(anonymous)';
}

const POLICY_FRAME = /\/policy\/(src|dist)\/(overrides|default|config|decide)\.[jt]s:/;

/** The caller's `file:line`, skipping the policy's own frames: where a rule written in code comes from. */
function callerLocation(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  const outside = lines.find((l) => !POLICY_FRAME.test(l));
  const m = outside && /\(?((?:file:\/\/)?[^()\s]+:\d+):\d+\)?\s*$/.exec(outside);
  return m ? m[1]! : 'code';
}

/**
 * User overrides (lookup step 1), registered from code or from config. A function may carry one kind only:
 * a second, different kind for the same function is an error naming both rules; the same kind again is
 * kept and reported by the audit as a duplicate.
 */
export class Overrides {
  private readonly functions = new Map<AnyFunction, FunctionOverride[]>();
  private readonly modules: ModuleOverride[] = [];
  private version = 0;
  private nextId = 0;

  /** Bumped on every change; the decision cache watches it. */
  get changeCount(): number {
    return this.version;
  }

  allowInGraph(fn: AnyFunction, options: OverrideOptions = {}): this {
    return this.addFunction('allowInGraph', fn, options);
  }
  disallowInGraph(fn: AnyFunction, options: OverrideOptions = {}): this {
    return this.addFunction('disallowInGraph', fn, options);
  }
  /** Skips a function, or every module matching a pattern (`lodash`, `node:*`, `/app/vendor/**`). */
  skip(target: AnyFunction | string, options: OverrideOptions = {}): this {
    return typeof target === 'string' ? this.addModule('skip', target, options) : this.addFunction('skip', target, options);
  }
  /** Traces into a function, or every module matching a pattern. */
  inline(target: AnyFunction | string, options: OverrideOptions = {}): this {
    return typeof target === 'string' ? this.addModule('inline', target, options) : this.addFunction('inline', target, options);
  }
  /** Traces `polyfill` wherever `fn` is called (signature-checked against `fn`). */
  substitute(fn: AnyFunction, polyfill: AnyFunction, options: OverrideOptions = {}): this {
    const label = labelOf(fn, options);
    checkOptions(`substitute(${label})`, callerLocation(), options);
    if (typeof fn !== 'function') {
      throw new PolicyConfigError(`substitute(${label})`, options.origin ?? callerLocation(), `expects a function to replace, got ${fn === null ? 'null' : typeof fn}`, 'substitute(fn, polyfill): fn is the function to replace, polyfill its traceable version');
    }
    try {
      checkPolyfillSignature(label, fn, polyfill);
    } catch (e) {
      throw new PolicyConfigError(`substitute(${label})`, options.origin ?? callerLocation(), (e as Error).message);
    }
    return this.addFunction('substitute', fn, { ...options, label }, polyfill);
  }

  functionRules(fn: AnyFunction): readonly FunctionOverride[] | undefined {
    return this.functions.get(fn);
  }
  allFunctionRules(): FunctionOverride[] {
    return [...this.functions.values()].flat();
  }
  moduleRules(): readonly ModuleOverride[] {
    return this.modules;
  }

  /** A copy, to try rules on before registering them for real. */
  clone(): Overrides {
    const copy = new Overrides();
    for (const [fn, rules] of this.functions) copy.functions.set(fn, [...rules]);
    copy.modules.push(...this.modules);
    copy.nextId = this.nextId;
    return copy;
  }

  clear(): void {
    this.functions.clear();
    this.modules.length = 0;
    this.version++;
  }

  private addFunction(kind: OverrideKind, fn: AnyFunction, options: OverrideOptions, polyfill?: AnyFunction): this {
    const label = labelOf(fn, options);
    checkOptions(`${kind}(${label})`, callerLocation(), options);
    const origin = options.origin ?? callerLocation();
    const rule = `${kind}(${label})`;
    if (typeof fn !== 'function') {
      throw new PolicyConfigError(
        rule,
        origin,
        `expects a function, got ${fn === null ? 'null' : typeof fn}`,
        kind === 'skip' || kind === 'inline' ? `pass the function itself, or a module pattern string ('lodash', 'node:*')` : 'pass the function itself, not its result',
      );
    }
    const recursive = checkRecursive(kind, rule, origin, options);
    const meta = checkMeta(kind, rule, origin, options);
    const existing = this.functions.get(fn) ?? [];
    const clash = existing.find((r) => r.kind !== kind);
    if (clash) {
      throw new PolicyConfigError(
        rule,
        origin,
        `conflicts with ${clash.kind}(${clash.label}) from ${clash.origin}: a function can be allowed in the graph, skipped or inlined, not several at once`,
        'remove one of the two rules',
      );
    }
    const id = `override:${kind}:${label}#${this.nextId++}`;
    existing.push({ id, kind, fn, label, origin, ...(polyfill && { polyfill }), ...(recursive && { recursive }), ...(meta && { meta }) });
    this.functions.set(fn, existing);
    this.version++;
    return this;
  }

  private addModule(kind: 'skip' | 'inline', pattern: string, options: OverrideOptions): this {
    checkOptions(`${kind}('${pattern}')`, callerLocation(), options);
    const origin = options.origin ?? callerLocation();
    const matcher = parseModulePattern(pattern);
    const rule = `${kind}('${pattern}')`;
    if (!matcher) {
      throw new PolicyConfigError(
        rule,
        origin,
        `'${pattern}' is not a module pattern`,
        "use a package name ('lodash', '@scope/*'), 'node:*', 'node_modules/**', or an absolute path or file: URL glob",
      );
    }
    const recursive = checkRecursive(kind, rule, origin, options);
    const scope = options.scope ?? 'all';
    const clash = this.modules.find(
      (m) => m.kind !== kind && formatModuleMatcher(m.matcher) === formatModuleMatcher(matcher) && (m.scope === scope || m.scope === 'all' || scope === 'all'),
    );
    if (clash) {
      throw new PolicyConfigError(rule, origin, `conflicts with ${clash.kind}('${formatModuleMatcher(clash.matcher)}') from ${clash.origin}`, 'remove one of the two rules');
    }
    this.modules.push({ id: `override:${kind}:${pattern}#${this.nextId++}`, kind, matcher, scope, origin, ...(recursive && { recursive }) });
    this.version++;
    return this;
  }
}
