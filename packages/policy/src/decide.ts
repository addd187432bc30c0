import { getOp } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
import type { AnyFunction, Decision, Frame, FrameOrigin, RuleRef } from './frame.js';
import type { FunctionOverride, ModuleOverride } from './overrides.js';
import { OVERRIDE_DECISION, Overrides } from './overrides.js';
import type { ModuleTable } from './qualified.js';
import { BUILTIN_MODULES } from './qualified.js';
import type { ModuleInfo } from './rules/modules.js';
import { formatModuleMatcher, matchesModule, moduleInfo } from './rules/modules.js';
import type { ModuleRule } from './rules/skip.js';
import { DEFAULT_INLINE_LIST, DEFAULT_SKIP_LIST, scopeCovers } from './rules/skip.js';
import type { ResolvedTable, TableRule } from './rules/table.js';
import { builtinFunctionTable, resolveTable } from './rules/table.js';

export interface PolicyOptions {
  /** The per-function table (default: allowlist, Math, tensor API, polyfills). */
  readonly table?: readonly TableRule[];
  /** Modules the table's qualified names refer to (default: `@kiln/tensor`). */
  readonly modules?: ModuleTable;
  readonly inlineList?: readonly ModuleRule[];
  readonly skipList?: readonly ModuleRule[];
  readonly overrides?: Overrides;
  /**
   * Overrides consulted after this policy's own, before the table: a compiler's policy has its config's
   * overrides as its own and inherits the process-wide ones (`allowInGraph()`, `skip()` called from code),
   * so two compilers never write into each other's rules.
   */
  readonly inherit?: Overrides;
}

const where = (info: ModuleInfo) => info.packageName ?? info.path ?? info.url ?? 'an unknown module';

/**
 * The policy engine: `decide(frame)` walks user overrides → per-function table → inline list → skip list →
 * default inline, and caches the answer per function identity and frame origin.
 */
export class Policy {
  readonly overrides: Overrides;
  readonly inherited: Overrides | undefined;
  readonly table: readonly TableRule[];
  readonly inlineList: readonly ModuleRule[];
  readonly skipList: readonly ModuleRule[];
  private readonly modules: ModuleTable;
  private resolved: ResolvedTable | null = null;
  // One cache per origin: a module can be skipped as a top-level frame yet inlined as a call.
  private topLevelCache = new WeakMap<AnyFunction, Decision>();
  private callCache = new WeakMap<AnyFunction, Decision>();
  private cachedAtVersion: number;
  private readonly hits = new Map<string, number>();

  constructor(options: PolicyOptions = {}) {
    this.overrides = options.overrides ?? new Overrides();
    this.inherited = options.inherit;
    this.table = options.table ?? builtinFunctionTable();
    this.modules = options.modules ?? BUILTIN_MODULES;
    this.inlineList = options.inlineList ?? DEFAULT_INLINE_LIST;
    this.skipList = options.skipList ?? DEFAULT_SKIP_LIST;
    this.cachedAtVersion = this.version();
  }

  /** Changes whenever this policy's overrides or the inherited ones change (the decision cache's key). */
  private version(): number {
    return this.overrides.changeCount + (this.inherited?.changeCount ?? 0);
  }

  /** A function's override rules: this policy's own first, then the inherited ones. */
  private functionRules(fn: AnyFunction): readonly FunctionOverride[] | undefined {
    return this.overrides.functionRules(fn) ?? this.inherited?.functionRules(fn);
  }

  decide(frame: Frame): Decision {
    if (this.version() !== this.cachedAtVersion) this.clearCache();
    const cache = frame.origin === 'call' ? this.callCache : this.topLevelCache;
    const cached = cache.get(frame.fn);
    if (cached !== undefined) return cached;
    const decision = this.lookup(frame);
    cache.set(frame.fn, decision);
    this.hits.set(decision.rule.id, (this.hits.get(decision.rule.id) ?? 0) + 1);
    return decision;
  }

  /** The traceable replacement for `fn` (user `substitute` first, then the built-in polyfills), if any. */
  polyfillFor(fn: AnyFunction): AnyFunction | undefined {
    const sub = this.functionRules(fn)?.find((r) => r.kind === 'substitute');
    return sub?.polyfill ?? this.resolvedTable().byFunction.get(fn)?.polyfillFor;
  }

  /** The table with qualified names resolved to live functions (built on first use). */
  resolvedTable(): ResolvedTable {
    return (this.resolved ??= resolveTable(this.table, this.modules));
  }

  /** How many distinct functions each rule decided (cache misses only): which rules a session used. */
  ruleHits(): ReadonlyMap<string, number> {
    return this.hits;
  }

  clearCache(): void {
    this.topLevelCache = new WeakMap();
    this.callCache = new WeakMap();
    this.cachedAtVersion = this.version();
  }

  /** The uncached lookup, in the documented order. */
  lookup(frame: Frame): Decision {
    const name = frame.name ?? (frame.fn.name || '(anonymous function)');
    const fnRules = this.functionRules(frame.fn);
    if (fnRules) return functionOverrideDecision(fnRules[0]!, name);
    let info: ModuleInfo | undefined;
    const infoOf = () => (info ??= moduleInfo(frame.url, frame.fn));
    for (const rule of [...this.overrides.moduleRules(), ...(this.inherited?.moduleRules() ?? [])]) {
      if (scopeCovers(rule.scope, frame.origin) && matchesModule(rule.matcher, infoOf())) {
        return moduleOverrideDecision(rule, name, infoOf(), frame.origin);
      }
    }
    const tableRule = this.resolvedTable().byFunction.get(frame.fn);
    if (tableRule) return tableDecision(tableRule);
    const traced = tracedFormDecision(frame.fn, name);
    if (traced) return traced;
    for (const list of [this.inlineList, this.skipList]) {
      for (const rule of list) {
        if (scopeCovers(rule.scope, frame.origin) && matchesModule(rule.matcher, infoOf())) {
          return { kind: rule.kind, rule: ref(rule.kind === 'inline' ? 'inline-list' : 'skip-list', rule.id, rule.origin), reason: rule.reason(name, infoOf()) };
        }
      }
    }
    return {
      kind: 'inline',
      rule: ref('default', 'default:inline', 'packages/policy/src/decide.ts'),
      reason: `inlined: ${name} is user code (${where(infoOf())}), traced by default; use skip(${name}) to run it eagerly instead`,
    };
  }
}

/**
 * A library function that names its own traced form under `Symbol.for('kiln.tracedForm')` (an optimizer's
 * `step`): the form is traced in its place, and a form that names itself is traced into (its package is
 * skipped otherwise). Read as an own data property, so no getter runs.
 */
export const TRACED_FORM: unique symbol = Symbol.for('kiln.tracedForm') as never;

function tracedFormDecision(fn: AnyFunction, name: string): Decision | undefined {
  const traced = Object.getOwnPropertyDescriptor(fn, TRACED_FORM)?.value as unknown;
  if (typeof traced !== 'function') return undefined;
  const rule = ref('traced-form', `traced-form:${traced.name || 'anonymous'}`, 'packages/policy/src/decide.ts');
  return traced === fn
    ? { kind: 'inline', rule, reason: `inlined: ${name} is the traced form of a library function, written with tensor ops so that compiled code can include it` }
    : { kind: 'skip', rule, polyfill: traced as AnyFunction, reason: `skipped: ${name} is replaced by its library's traced form ${traced.name || '(anonymous)'}() while tracing, so the work is part of the graph instead of a graph break` };
}

/** The registry name of `fn` when it is an op's public function (`defineOp` returns it with `.op`). */
function registryOpName(fn: AnyFunction): string | undefined {
  const op = (fn as { op?: OpDef }).op;
  return op !== undefined && getOp(op.name) === op ? op.name : undefined;
}

const ref = (step: RuleRef['step'], id: string, origin: string): RuleRef => ({ step, id, origin });

function tableDecision(rule: TableRule): Decision {
  return {
    kind: rule.kind,
    rule: ref('function-table', rule.id, rule.origin),
    reason: rule.reason,
    ...(rule.polyfillFor && { polyfill: rule.polyfillFor }),
    ...(rule.op && { op: rule.op }),
  };
}

function functionOverrideDecision(rule: FunctionOverride, name: string): Decision {
  const at = rule.origin;
  const r = ref('override', rule.id, at);
  const kind = OVERRIDE_DECISION[rule.kind];
  switch (rule.kind) {
    case 'allowInGraph': {
      const op = registryOpName(rule.fn);
      return op
        ? { kind, rule: r, op, reason: `put in the graph: ${name} is the op '${op}', allowed by allowInGraph() at ${at}; it becomes one graph node run on fake tensors (its meta function)` }
        : { kind, rule: r, ...(rule.meta && { meta: rule.meta }), reason: `put in the graph: ${name} is allowed by allowInGraph() at ${at}; it becomes one graph node, run eagerly inside the compiled program, with its result's shapes from ${rule.meta ? 'the meta function given' : 'a run on fake tensors'}, so it must not touch global state` };
    }
    case 'disallowInGraph':
      return { kind, rule: r, reason: `skipped: ${name} is taken out of the graph by disallowInGraph() at ${at}, so calls to it are graph breaks; remove that rule to put it back` };
    case 'skip':
      return rule.recursive
        ? { kind, rule: r, recursive: true, reason: `skipped: ${name} is skipped by skip(…, { recursive: true }) at ${at}, with everything it calls; remove that rule to trace into it` }
        : { kind, rule: r, reason: `skipped: ${name} is skipped by skip() at ${at}; remove that rule to trace into it` };
    case 'inline':
      return { kind, rule: r, reason: `inlined: ${name} is traced into because of inline() at ${at}` };
    case 'substitute':
      return { kind, rule: r, polyfill: rule.polyfill!, reason: `skipped: ${name} is replaced by ${rule.polyfill!.name || 'its substitute'}() while tracing (substitute() at ${at}), so Kiln traces the replacement instead of breaking the graph` };
    default:
      return rule.kind satisfies never;
  }
}

function moduleOverrideDecision(rule: ModuleOverride, name: string, info: ModuleInfo, origin: FrameOrigin): Decision {
  const pattern = formatModuleMatcher(rule.matcher);
  const scope = rule.scope === 'all' ? '' : ` for ${origin === 'call' ? 'calls from traced code' : 'top-level frames'}`;
  const r = ref('override', rule.id, rule.origin);
  const subtree = rule.recursive ? ' with everything it calls' : '';
  return rule.kind === 'skip'
    ? { kind: 'skip', rule: r, ...(rule.recursive && { recursive: true }), reason: `skipped: ${name} is in ${where(info)}, which skip('${pattern}') at ${rule.origin} skips${scope}${subtree}; remove that rule to trace into it` }
    : { kind: 'inline', rule: r, reason: `inlined: ${name} is in ${where(info)}, which inline('${pattern}') at ${rule.origin} traces into${scope}` };
}
