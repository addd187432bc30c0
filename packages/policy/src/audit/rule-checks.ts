import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { getOp } from '@kiln/tensor';
import type { AnyFunction } from '../frame.js';
import type { Overrides } from '../overrides.js';
import { checkPolyfillSignature } from '../polyfills/index.js';
import { resolveQualifiedName } from '../qualified.js';
import { formatModuleMatcher } from '../rules/modules.js';
import type { ResolvedTable, TableRule } from '../rules/table.js';
import type { ApiFunction } from './api.js';
import type { Finding } from './types.js';

/** Rules that name nothing: a qualified name that does not resolve, or an op that is not registered. */
export function checkStaleRules(table: ResolvedTable, rules: readonly TableRule[]): Finding[] {
  const findings: Finding[] = table.unresolved.map(({ rule, why }) => ({
    severity: 'fail' as const,
    subject: rule.id,
    message: `stale rule: ${rule.name} matches nothing (${why}); remove it from ${rule.origin} or fix the name`,
  }));
  for (const rule of rules) {
    if (rule.op !== undefined && !getOp(rule.op)) {
      findings.push({ severity: 'fail', subject: rule.id, message: `stale rule: ${rule.name} names op '${rule.op}', which is not registered; remove it from ${rule.origin}` });
    }
  }
  return findings;
}

/** The same name twice in the tables, and one function under two different kinds. */
export function checkDuplicatesAndConflicts(rules: readonly TableRule[], overrides: Overrides, modules: Parameters<typeof resolveQualifiedName>[1]): Finding[] {
  const findings: Finding[] = [];
  const byName = new Map<string, TableRule[]>();
  for (const r of rules) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  for (const [name, list] of byName) {
    if (list.length < 2) continue;
    const kinds = new Set(list.map((r) => r.kind));
    findings.push({
      severity: 'fail',
      subject: name,
      message:
        kinds.size > 1
          ? `conflicting rules: ${name} is ${list.map((r) => `${r.kind} in ${r.origin}`).join(' and ')}; keep one`
          : `duplicate rule: ${name} is listed ${list.length} times (${[...new Set(list.map((r) => r.origin))].join(', ')}); remove the extra entries`,
    });
  }
  const byFunction = new Map<AnyFunction, TableRule[]>();
  for (const r of rules) {
    const res = resolveQualifiedName(r.name, modules);
    if (res.ok) byFunction.set(res.fn, [...(byFunction.get(res.fn) ?? []), r]);
  }
  for (const list of byFunction.values()) {
    const names = new Set(list.map((r) => r.name));
    if (names.size > 1 && new Set(list.map((r) => r.kind)).size > 1) {
      findings.push({
        severity: 'fail',
        subject: [...names].join(', '),
        message: `conflicting rules: ${[...names].join(' and ')} are the same function but are classified ${list.map((r) => r.kind).join(' and ')}`,
      });
    }
  }
  for (const rule of overrides.allFunctionRules()) {
    const same = overrides.functionRules(rule.fn)!;
    if (same.length > 1 && same[0] === rule) {
      findings.push({ severity: 'warn', subject: rule.label, message: `duplicate override: ${rule.kind}(${rule.label}) is registered ${same.length} times (${same.map((r) => r.origin).join(', ')})` });
    }
    const tableRule = byFunction.get(rule.fn)?.[0];
    if (tableRule && tableRule.kind !== rule.kind) {
      findings.push({ severity: 'info', subject: rule.label, message: `${rule.kind}(${rule.label}) at ${rule.origin} overrides ${tableRule.id} (${tableRule.kind})` });
    }
  }
  return findings;
}

/**
 * Both directions of coverage: every public function of @kiln/tensor is classified by a rule or an
 * override, and every @kiln/tensor rule names a public function.
 */
export function checkCoverage(api: readonly ApiFunction[], table: ResolvedTable, overrides: Overrides): Finding[] {
  const findings: Finding[] = [];
  const apiFns = new Set(api.map((a) => a.fn));
  for (const a of api) {
    if (table.byFunction.has(a.fn) || overrides.functionRules(a.fn)) continue;
    const op = (a.fn as { op?: { name: string; category: string } }).op;
    const methodOp = a.where === 'method' ? getOp(a.name.slice(a.name.lastIndexOf('.') + 1)) : undefined;
    const suggestion = op
      ? `add fn('${op.name}') to packages/policy/src/rules/allowlist.ts (op '${op.name}', ${op.category})`
      : methodOp?.method
        ? `add method('${methodOp.name}') to packages/policy/src/rules/allowlist.ts (op '${methodOp.name}', ${methodOp.category})`
        : 'classify it in packages/policy/src/rules/tensor-api.ts';
    findings.push({ severity: 'fail', subject: a.name, message: `unclassified: ${a.name} is public but no rule classifies it; ${suggestion} (scripts/sync-allowlist.ts prints the line)` });
  }
  for (const [fn, rule] of table.byFunction) {
    if (rule.name.startsWith('@kiln/tensor#') && !apiFns.has(fn)) {
      findings.push({ severity: 'fail', subject: rule.id, message: `stale rule: ${rule.name} matches no public function of @kiln/tensor; remove it from ${rule.origin}` });
    }
  }
  const mathFns = Object.getOwnPropertyNames(Math).filter((k) => typeof (Math as unknown as Record<string, unknown>)[k] === 'function');
  for (const key of mathFns) {
    const fn = (Math as unknown as Record<string, AnyFunction>)[key]!;
    if (!table.byFunction.has(fn) && !overrides.functionRules(fn)) {
      findings.push({ severity: 'fail', subject: `Math.${key}`, message: `unclassified: Math.${key} has no rule; add it to packages/policy/src/rules/math.ts` });
    }
  }
  return findings;
}

/** Each allowlist entry names the right op, and declares exactly the effects its op has. */
export function checkAllowlistOps(rules: readonly TableRule[], table: ResolvedTable, modules: Parameters<typeof resolveQualifiedName>[1]): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    if (rule.table !== 'allowlist' || rule.op === undefined) continue;
    const def = getOp(rule.op);
    const res = resolveQualifiedName(rule.name, modules);
    if (!def || !res.ok) continue; // reported as stale
    const isMethod = rule.name.includes('#Tensor.prototype.');
    if (!isMethod && res.fn !== def.fn) {
      const actual = (res.fn as { op?: { name: string } }).op?.name;
      findings.push({ severity: 'fail', subject: rule.id, message: `conflicting rule: ${rule.name} is listed as op '${rule.op}' but is ${actual ? `op '${actual}'` : 'not an op function'}` });
    }
    if (isMethod && !def.method) {
      findings.push({ severity: 'fail', subject: rule.id, message: `conflicting rule: ${rule.name} is listed as op '${rule.op}', which is not a Tensor method` });
    }
    if (def.random !== (rule.effect === 'rng')) {
      findings.push({
        severity: 'fail',
        subject: rule.id,
        message: def.random
          ? `op '${def.name}' reads the global random generator, so ${rule.name} needs an explicit effect: write it as ('${def.name}', 'rng') in allowlist.ts`
          : `${rule.name} declares effect 'rng' but op '${def.name}' is not random; remove the effect`,
      });
    }
    if (def.mutatesSelf !== (rule.effect === 'mutates-input')) {
      findings.push({
        severity: 'fail',
        subject: rule.id,
        message: def.mutatesSelf
          ? `op '${def.name}' is in-place, so ${rule.name} needs an explicit effect: write it as ('${def.name}', 'mutates-input') in allowlist.ts`
          : `${rule.name} declares effect 'mutates-input' but op '${def.name}' is not in-place; remove the effect`,
      });
    }
  }
  return findings;
}

/** Probe inputs on which each polyfill must agree with its builtin. */
const PROBES: Readonly<Record<string, readonly (() => { self?: unknown; args: unknown[] })[]>> = {
  'Array.prototype.map': [() => ({ self: [1, , 3], args: [(v: number, i: number) => v * 2 + i] })],
  'Array.prototype.filter': [() => ({ self: [1, 2, 3, 4], args: [(v: number) => v % 2 === 0] })],
  'Array.prototype.reduce': [() => ({ self: [1, 2, 3], args: [(a: number, b: number) => a + b] }), () => ({ self: [], args: [(a: number) => a, 7] })],
  'Array.prototype.forEach': [() => ({ self: [1, 2], args: [() => undefined] })],
  'Array.prototype.some': [() => ({ self: [1, 2], args: [(v: number) => v > 1] })],
  'Array.prototype.every': [() => ({ self: [1, 2], args: [(v: number) => v > 1] })],
  'Array.from': [() => ({ args: [new Set([1, 2])] }), () => ({ args: [{ length: 2, 0: 'a' }, (v: unknown, i: number) => `${String(v)}${i}`] })],
  'Object.keys': [() => ({ args: [{ b: 1, 2: 0, a: 2, 1: 0 }] })],
  'Object.values': [() => ({ args: [{ b: 1, 2: 0, a: 2 }] })],
  'Object.entries': [() => ({ args: [{ b: 1, 2: 0, a: 2 }] })],
};

/** Every polyfill rule: signature checked against the live builtin, and equal results on probe inputs. */
export function checkPolyfills(rules: readonly TableRule[]): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    if (!rule.polyfillFor) continue;
    const target = resolveQualifiedName(rule.name);
    if (!target.ok) continue; // stale, reported elsewhere
    try {
      checkPolyfillSignature(rule.name, target.fn, rule.polyfillFor);
    } catch (e) {
      findings.push({ severity: 'fail', subject: rule.id, message: (e as Error).message });
      continue;
    }
    const probes = PROBES[rule.name];
    if (!probes) {
      findings.push({ severity: 'warn', subject: rule.id, message: `polyfill for ${rule.name} has no probe inputs in audit/rule-checks.ts` });
      continue;
    }
    for (const probe of probes) {
      const a = probe();
      const b = probe();
      const expected = JSON.stringify(target.fn.apply(a.self, a.args));
      const actual = JSON.stringify(rule.polyfillFor.apply(b.self, b.args));
      if (expected !== actual) {
        findings.push({ severity: 'fail', subject: rule.id, message: `polyfill for ${rule.name} returned ${actual} where the builtin returns ${expected}` });
      }
    }
  }
  return findings;
}

/** Is a node_modules/<name> folder reachable from `root` upward (where Node would look for it)? */
function installed(name: string, root: string): boolean {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/**
 * For a package rule that reads as a builtin function's path (`Math.hypot`, `console.log`): how a rule names
 * that function instead (`globalThis#Math.hypot`); '' otherwise.
 */
export function builtinFunctionHint(pattern: string): string {
  const [head, ...rest] = pattern.split('.');
  const isGlobal = rest.length > 0 && head !== undefined && /^[A-Za-z_$][\w$]*$/.test(head) && Object.hasOwn(globalThis, head);
  return isGlobal ? `; to name the builtin function ${pattern}, write 'globalThis#${pattern}'` : '';
}

/**
 * User module rules that can never match: a package that is not installed, a Node builtin that does not
 * exist, a path whose fixed prefix is missing — most often a typo in the config.
 */
export function checkModuleOverrides(overrides: Overrides, root: string): Finding[] {
  const findings: Finding[] = [];
  for (const rule of overrides.moduleRules()) {
    const m = rule.matcher;
    const pattern = formatModuleMatcher(m);
    let why: string | null = null;
    if (m.type === 'package') {
      const fixed = m.pattern.includes('*') ? m.pattern.slice(0, m.pattern.indexOf('/')) : m.pattern;
      if (!(m.pattern.includes('*') && !fixed.startsWith('@')) && !installed(fixed, root)) why = `no package '${fixed}' is installed under ${root}${builtinFunctionHint(m.pattern)}`;
    } else if (m.type === 'builtin' && !m.pattern.includes('*') && !isBuiltin(m.pattern)) {
      why = `'${m.pattern}' is not a Node builtin module`;
    } else if (m.type === 'path') {
      const fixed = m.pattern.slice(0, m.pattern.search(/\*|$/));
      const dir = fixed.endsWith('/') ? fixed : dirname(fixed);
      if (!existsSync(dir)) why = `the folder ${dir} does not exist`;
    }
    if (why) findings.push({ severity: 'fail', subject: rule.id, message: `stale rule: ${rule.kind}('${pattern}') at ${rule.origin} can never match: ${why}` });
  }
  return findings;
}
