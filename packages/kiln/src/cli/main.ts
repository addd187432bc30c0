// `kiln <command>`: dispatch through the command table (commands.ts), help, exit codes, and a closed pipe
// (`kiln ops | head`) treated as the end of the output rather than a crash.
// The kiln package's own import: the CPU backend registered, as for every program that imports 'kiln'.
import '../index.js';
import { KilnError } from '@kiln/tensor';
import { COMMANDS } from './commands.js';
import { CliUsageError } from './run-file.js';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: kiln <command> [args…]   (kiln <command> --help for each)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 ok, 1 failure (a failed audit, a program that threw), 2 bad usage.',
  ].join('\n');
}

/** A reader that went away (`| head`) ends the output quietly, with success. */
function exitQuietlyOnEpipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyOnEpipe();
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`kiln: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    // Kiln's own errors (a config error, say) print as their message and hint; anything else with its stack.
    process.stderr.write(`${err instanceof KilnError ? `${err.name}: ${err.message}` : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}
