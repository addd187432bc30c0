// The `kiln` command. `kiln audit` runs the policy audit with the lowering table of every backend that is
// installed, so the report's backend-coverage column shows what each backend generates code for.
import { runAuditCli } from '@kiln/policy';
import { registeredBackends } from '../backends/registry.js';
import { listOps } from '@kiln/tensor';

const USAGE = `usage: kiln <command> [options]
  audit [--format md|json|html] [--out FILE] [--full]   the policy audit (see kiln audit --help)
  ops                                                    every op in the registry with its schema`;

/** Backend packages `kiln audit` loads when installed (a backend registers itself on import). */
const KNOWN_BACKENDS = ['@kiln/backend-cpu'];

async function loadInstalledBackends(): Promise<void> {
  for (const name of KNOWN_BACKENDS) {
    try {
      await import(name);
    } catch (err) {
      // Not installed is fine (the audit then reports no coverage for it); anything else is a real error.
      if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
}

export async function runKilnCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'audit') {
    await loadInstalledBackends();
    const backends = registeredBackends().filter((b) => b.loweredOps !== undefined);
    return runAuditCli(rest, undefined, { backends });
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
