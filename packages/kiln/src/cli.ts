// The `kiln` command: subcommands by name. Core's commands (audit, ops) run through core's CLI; commands
// that need packages above core (aot) are entries here.
import { runKilnCli } from '@kiln/core';
import { AOT_USAGE, runAotCli } from '@kiln/aot';

const COMMANDS: Readonly<Record<string, (argv: readonly string[]) => Promise<number>>> = {
  aot: (argv) => runAotCli(argv),
};

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const own = command === undefined ? undefined : Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (own) return own(rest);
  const code = await runKilnCli(argv);
  if (command === undefined || command === '--help' || command === '-h' || code === 2) process.stderr.write(`  ${AOT_USAGE.split('\n')[0]!.replace('usage: kiln ', '')}\n`);
  return code;
}
