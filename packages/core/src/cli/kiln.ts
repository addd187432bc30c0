// The commands core provides to the `kiln` command (which lives in the `kiln` package): `audit` and `ops`.
// `kiln audit` runs the policy audit with the lowering table of every backend the config loads (its plugins,
// and backends registered on import), and checks the config's own rules (cli/config-rules.ts).
import { runAuditCli } from '@kiln/policy';
import { listOps } from '@kiln/tensor';
import { loweringOverrides } from '../backends/lowering-overrides.js';
import { describeBackends } from '../backends/registry.js';
import { configure } from '../config/index.js';
import { checkConfigRules } from './config-rules.js';
import { plural } from '../logs/plural.js';

export { checkConfigRules } from './config-rules.js';
export type { ConfigRuleFinding } from './config-rules.js';

export const AUDIT_USAGE = `usage: kiln audit [--format md|json|html] [--out FILE] [--full]
  Checks the policy tables against the live tensor API, and the config's own policy rules (rules that match
  nothing, stale module paths, conflicts), and writes a report.
  --format  md (default), json or html
  --out     write the report to FILE instead of stdout (prints the summary line)
  --full    in Markdown on stdout, include the per-function tables
Exit code 1 when a check fails (a config error counts), 2 on bad arguments.`;

/** `kiln audit`: returns the exit code. */
export async function runAuditCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${AUDIT_USAGE}\n`);
    return 0;
  }
  const compiler = await configure();
  const loaded = compiler.backends();
  process.stderr.write(`kiln audit: config ${compiler.configFile ?? '(none found)'}; backends it loads: ${describeBackends(loaded).join('; ')}\n`);
  // Each backend's table with the lowerings its plugins override (the lowerOp hook), which win over it.
  const backends = loaded.flatMap((b) => {
    const overrides = loweringOverrides(compiler.hooks, b.name);
    for (const o of overrides) process.stderr.write(`kiln audit: ${b.name} lowers ${o.op} ${o.lowering === 'rule' ? 'with the rule of' : 'eagerly, as asked by'} plugin ${o.plugin}\n`);
    return b.loweredOps !== undefined || overrides.length ? [{ name: b.name, loweredOps: () => b.loweredOps?.() ?? [], overrides }] : [];
  });
  // The config's own policy rules (and the custom ops its plugins allow) are audited with the built-in table.
  // Plugins' op tables (an exporter's mapping: ONNX) are audited as coverage columns beside the backends.
  const tables = compiler.hooks.auditTables.call([]);
  const code = await runAuditCli(argv, undefined, { backends: [...backends, ...tables], overrides: compiler.policy.overrides });
  const findings = checkConfigRules(compiler);
  for (const f of findings) process.stderr.write(`kiln audit: ${f.severity.toUpperCase()} ${compiler.configFile}: ${f.key}: ${f.message}\n`);
  if (code === 0 && findings.some((f) => f.severity === 'fail')) {
    process.stderr.write(`kiln audit: FAIL — ${plural(findings.length, 'problem')} in the config's rules\n`);
    return 1;
  }
  return code;
}

export const OPS_USAGE = `usage: kiln ops
  Lists every op in the registry with its schema, category and flags (core/composite, meta, method).`;

/** `kiln ops`: every op in the registry with its schema. */
export function runOpsCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${OPS_USAGE}\n`);
    return 0;
  }
  if (argv.length) {
    process.stderr.write(`kiln ops: unknown argument '${argv[0]}'\n${OPS_USAGE}\n`);
    return 2;
  }
  for (const op of listOps()) {
    const flags = [op.isCore ? 'core' : 'composite', op.hasMeta ? 'meta' : 'no meta', op.method ? 'method' : ''].filter(Boolean);
    process.stdout.write(`${op.schema}  [${op.category}; ${flags.join(', ')}]\n`);
  }
  return 0;
}
