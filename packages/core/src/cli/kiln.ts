// The `kiln` command. `kiln audit` runs the policy audit with the lowering table of every backend the
// config loads (its plugins, and backends registered on import), so the report's backend-coverage column
// shows what each of them generates code for.
import { runAuditCli } from '@kiln/policy';
import { listOps } from '@kiln/tensor';
import { loweringOverrides } from '../backends/lowering-overrides.js';
import { describeBackends } from '../backends/registry.js';
import { configure } from '../config.js';

const USAGE = `usage: kiln <command> [options]
  audit [--format md|json|html] [--out FILE] [--full]   the policy audit (see kiln audit --help)
  ops                                                    every op in the registry with its schema`;

export async function runKilnCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'audit') {
    const compiler = await configure();
    const loaded = compiler.backends();
    process.stderr.write(`kiln audit: backends the config loads: ${describeBackends(loaded).join('; ')}\n`);
    // Each backend's table with the lowerings its plugins override (the lowerOp hook), which win over it.
    const backends = loaded.flatMap((b) => {
      const overrides = loweringOverrides(compiler.hooks, b.name);
      for (const o of overrides) process.stderr.write(`kiln audit: ${b.name} lowers ${o.op} ${o.lowering === 'rule' ? 'with the rule of' : 'eagerly, as asked by'} plugin ${o.plugin}\n`);
      return b.loweredOps !== undefined || overrides.length ? [{ name: b.name, loweredOps: () => b.loweredOps?.() ?? [], overrides }] : [];
    });
    // The config's own policy rules (and the custom ops its plugins allow) are audited with the built-in table.
    return runAuditCli(rest, undefined, { backends, overrides: compiler.policy.overrides });
  }
  if (command === 'ops') {
    for (const op of listOps()) {
      const flags = [op.isCore ? 'core' : 'composite', op.hasMeta ? 'meta' : 'no meta', op.method ? 'method' : ''].filter(Boolean);
      process.stdout.write(`${op.schema}  [${op.category}; ${flags.join(', ')}]\n`);
    }
    return 0;
  }
  process.stderr.write(`${command ? `kiln: unknown command '${command}'\n` : ''}${USAGE}\n`);
  return command === '--help' || command === '-h' ? 0 : 2;
}
