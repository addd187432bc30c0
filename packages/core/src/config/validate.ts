// The config's keys, checked once: a typo or a wrong type must not silently change what compiles.
import { DEFAULT_CONFIG } from '../compiler.js';
import type { KilnConfig, PluginSpec } from '../compiler.js';
import { checkLogSpec, closestName } from '../logs/spec.js';
import { KilnConfigError } from './errors.js';

const KEYS = ['backend', 'plugins', 'policy', 'logs', 'dynamic', 'recompileLimit'] as const;

const describe = (x: unknown): string => JSON.stringify(x) ?? typeof x;

function isPluginSpec(p: unknown): p is PluginSpec {
  if (typeof p === 'string') return p.length > 0;
  if (Array.isArray(p)) return p.length === 2 && typeof p[0] === 'string';
  return typeof p === 'object' && p !== null && typeof (p as { apply?: unknown }).apply === 'function';
}

function checkPlugins(plugins: unknown, file: string): void {
  if (!Array.isArray(plugins)) {
    throw new KilnConfigError(file, 'plugins', `must be an array, got ${describe(plugins)}`, "e.g. plugins: ['@kiln/plugin-report']");
  }
  plugins.forEach((p, i) => {
    if (isPluginSpec(p)) return;
    const got = typeof p === 'function' ? `a function${p.name ? ` (${p.name})` : ''}` : typeof p === 'object' && p !== null ? 'an object without apply()' : describe(p);
    throw new KilnConfigError(
      file, `plugins[${i}]`, `must be a package name, a path relative to the config file, [name, options], or a plugin object { name, apply(compiler) }; got ${got}`,
      typeof p === 'function' ? 'a plugin factory must be called: plugins: [myPlugin()]' : "e.g. plugins: ['@kiln/plugin-report', './my-plugin.mjs', { name: 'mine', apply(compiler) { … } }]",
    );
  });
}

/** Checks a raw config object; returns it with defaults filled in. */
export function validateConfig(raw: unknown, file: string): KilnConfig {
  if (raw === undefined || raw === null) raw = {}; // an empty config file
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new KilnConfigError(file, '<root>', `the config must be an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`, 'export default { plugins: [...] }');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const near = closestName(key, KEYS);
      throw new KilnConfigError(file, key, `unknown key${near ? ` (did you mean '${near}'?)` : ''}`, `known keys: ${KEYS.join(', ')}`);
    }
  }
  const check = (key: string, ok: boolean, what: string, hint: string) => {
    if (r[key] !== undefined && !ok) throw new KilnConfigError(file, key, `must be ${what}, got ${describe(r[key])}`, hint);
  };
  check('backend', typeof r.backend === 'string', 'a backend name', "e.g. 'auto' (the best available backend) or 'eager'");
  if (r.plugins !== undefined) checkPlugins(r.plugins, file);
  check('policy', typeof r.policy === 'object' && r.policy !== null && !Array.isArray(r.policy), 'an object', "e.g. { skip: ['lodash'] }");
  check('logs', typeof r.logs === 'string', 'a KILN_LOGS-style string', "e.g. 'graph_breaks,recompiles'");
  check('dynamic', typeof r.dynamic === 'boolean', 'true or false', 'leave it out for automatic dynamic shapes');
  check('recompileLimit', Number.isInteger(r.recompileLimit) && (r.recompileLimit as number) > 0, 'a positive integer', 'the default is 8');
  if (typeof r.logs === 'string') {
    const problem = checkLogSpec(r.logs);
    if (problem) throw new KilnConfigError(file, 'logs', problem.message, problem.hint);
  }
  return {
    backend: (r.backend as string | undefined) ?? DEFAULT_CONFIG.backend,
    plugins: (r.plugins as PluginSpec[] | undefined) ?? [],
    policy: r.policy as Record<string, unknown> | undefined,
    logs: r.logs as string | undefined,
    dynamic: r.dynamic as boolean | undefined,
    recompileLimit: (r.recompileLimit as number | undefined) ?? DEFAULT_CONFIG.recompileLimit,
  };
}
