// What `kiln audit` checks in the config's own policy rules, beyond what loading it already rejects (a
// function name that resolves to nothing, one function both allowed and skipped): module rules that match
// nothing (a path that does not exist, a package that is not installed) and one module both skipped and
// inlined.
import { existsSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';
import { builtinFunctionHint } from '@kiln/policy';
import type { Compiler } from '../compiler.js';

export interface ConfigRuleFinding {
  readonly severity: 'fail' | 'warn';
  readonly key: string;
  readonly message: string;
}

type ModuleRule = { readonly kind: 'skip' | 'inline'; readonly pattern: string; readonly key: string };

function moduleRules(policy: Readonly<Record<string, unknown>>): ModuleRule[] {
  const rules: ModuleRule[] = [];
  for (const kind of ['skip', 'inline'] as const) {
    const list = policy[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, i) => {
      const pattern = typeof entry === 'string' ? entry : typeof entry === 'object' && entry !== null ? (entry as { module?: unknown }).module : undefined;
      if (typeof pattern === 'string' && !pattern.includes('#')) rules.push({ kind, pattern, key: `policy.${kind}[${i}]` });
    });
  }
  return rules;
}

/** The fixed part of a path pattern (`./lib/**` → `./lib`), which must exist for the rule to match anything. */
const fixedPrefix = (pattern: string): string => pattern.split('/').filter((_, i, parts) => !parts.slice(0, i + 1).some((p) => /[*?[{]/.test(p))).join('/');

function matchesNothing(rule: ModuleRule, file: string): string | undefined {
  const { pattern } = rule;
  if (pattern.startsWith('node:') || isBuiltin(pattern)) return undefined;
  if (pattern.startsWith('.') || pattern.startsWith('/')) {
    const path = resolve(dirname(file), fixedPrefix(pattern) || '.');
    return existsSync(path) ? undefined : `stale module path: '${pattern}' matches nothing (${path} does not exist)`;
  }
  if (/[*?[{]/.test(pattern)) return undefined; // a package pattern (`@scope/*`): nothing to look up
  try {
    createRequire(file).resolve(`${pattern}/package.json`);
    return undefined;
  } catch {
    try {
      createRequire(file).resolve(pattern);
      return undefined;
    } catch {
      return `rule matches nothing: package '${pattern}' is not installed where the config is${builtinFunctionHint(pattern)}`;
    }
  }
}

/** Findings for the config's module rules (none when the compiler has no config file). */
export function checkConfigRules(compiler: Compiler): ConfigRuleFinding[] {
  const file = compiler.configFile;
  const policy = compiler.config.policy;
  if (!file || !policy) return [];
  const rules = moduleRules(policy);
  const findings: ConfigRuleFinding[] = [];
  for (const rule of rules) {
    const why = matchesNothing(rule, file);
    if (why) findings.push({ severity: 'fail', key: rule.key, message: `${why}; fix or remove it` });
  }
  for (const skip of rules.filter((r) => r.kind === 'skip')) {
    const inline = rules.find((r) => r.kind === 'inline' && r.pattern === skip.pattern);
    if (inline) findings.push({ severity: 'fail', key: `${skip.key} and ${inline.key}`, message: `conflicting rules: '${skip.pattern}' is both skipped and inlined; keep one` });
  }
  return findings;
}
