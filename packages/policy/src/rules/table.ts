import type { AnyFunction, DecisionKind } from '../frame.js';
import { BUILTIN_POLYFILLS } from '../polyfills/index.js';
import type { ModuleTable } from '../qualified.js';
import { BUILTIN_MODULES, resolveQualifiedName } from '../qualified.js';
import { TENSOR_ALLOWLIST } from './allowlist.js';
import type { AllowlistEntry, KnownEffect } from './allowlist.js';
import { MATH_ALLOWLIST, MATH_SKIP } from './math.js';
import { TENSOR_API_RULES } from './tensor-api.js';
import type { FunctionRule } from './tensor-api.js';

/** One row of the per-function table (lookup step 2), keyed by qualified name. */
export interface TableRule {
  readonly id: string;
  readonly name: string;
  readonly kind: DecisionKind;
  readonly table: 'allowlist' | 'math' | 'tensor-api' | 'polyfill';
  readonly origin: string;
  readonly reason: string;
  readonly op?: string;
  readonly effect?: KnownEffect;
  readonly polyfillFor?: AnyFunction;
}

/** `add` for `@kiln/tensor#add`, `Tensor.prototype.add` for the method: what the user wrote. */
export const shortName = (qualified: string) => qualified.slice(qualified.indexOf('#') + 1);

const SRC = 'packages/policy/src/rules';

/** The table row for one allowlist entry (exported for tests and tools that plant entries). */
export function allowlistRule(e: AllowlistEntry): TableRule {
  const short = shortName(e.name);
  return {
    id: `allowlist:${e.name}`,
    name: e.name,
    kind: 'allowInGraph',
    table: 'allowlist',
    origin: `${SRC}/allowlist.ts`,
    op: e.op,
    ...(e.effect && { effect: e.effect }),
    reason:
      `put in the graph: ${short} is allowlisted as the op '${e.op}', so it becomes one graph node run on fake tensors for its shape` +
      (e.effect === 'rng' ? ' (it advances the random generator, which the compiled code threads through)' : '') +
      `; use disallowInGraph(${short}) to make it a graph break instead`,
  };
}

/** The table row for one non-op tensor API rule. */
export function tensorApiRule(r: FunctionRule): TableRule {
  return {
    id: `tensor-api:${r.name}`,
    name: r.name,
    kind: r.kind,
    table: 'tensor-api',
    origin: `${SRC}/tensor-api.ts`,
    reason: `${r.kind === 'skip' ? 'skipped' : 'inlined'}: ${shortName(r.name)} ${r.why}`,
  };
}

export function builtinFunctionTable(): TableRule[] {
  const rules: TableRule[] = TENSOR_ALLOWLIST.map(allowlistRule);
  for (const e of MATH_ALLOWLIST) {
    rules.push({
      id: `math:${e.name}`,
      name: e.name,
      kind: 'allowInGraph',
      table: 'math',
      origin: `${SRC}/math.ts`,
      reason: e.symInt
        ? `put in the graph: ${e.name} is allowlisted: constant-folded on numbers, one graph node on symbolic sizes`
        : `put in the graph: ${e.name} is allowlisted for constant folding; on a symbolic size the tracer guards on its value (the size becomes static)`,
    });
  }
  rules.push({
    id: `math:${MATH_SKIP.name}`,
    name: MATH_SKIP.name,
    kind: 'skip',
    table: 'math',
    origin: `${SRC}/math.ts`,
    reason: `skipped: ${MATH_SKIP.name} ${MATH_SKIP.why}`,
  });
  rules.push(...TENSOR_API_RULES.map(tensorApiRule));
  for (const p of BUILTIN_POLYFILLS) {
    rules.push({
      id: `polyfill:${p.target}`,
      name: p.target,
      kind: 'skip',
      table: 'polyfill',
      origin: 'packages/policy/src/polyfills/index.ts',
      polyfillFor: p.polyfill,
      reason: `skipped: ${p.target} is a builtin with no source to trace, so Kiln traces its polyfill ${p.polyfill.name}() from @kiln/policy instead (no graph break)`,
    });
  }
  return rules;
}

export interface ResolvedTable {
  readonly byFunction: Map<AnyFunction, TableRule>;
  readonly unresolved: readonly { rule: TableRule; why: string }[];
}

/**
 * Resolves every rule's qualified name to its live function. Names that resolve to nothing are kept aside
 * for the audit (a stale rule); they never fail a lookup.
 */
export function resolveTable(rules: readonly TableRule[], modules: ModuleTable = BUILTIN_MODULES): ResolvedTable {
  const byFunction = new Map<AnyFunction, TableRule>();
  const unresolved: { rule: TableRule; why: string }[] = [];
  for (const rule of rules) {
    const r = resolveQualifiedName(rule.name, modules);
    if (!r.ok) unresolved.push({ rule, why: r.why });
    else if (!byFunction.has(r.fn)) byFunction.set(r.fn, rule);
  }
  return { byFunction, unresolved };
}
