// The `kiln` command's subcommands, one table entry each: adding a command is adding an entry.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUDIT_USAGE, OPS_USAGE, configure, runAuditCommand, runOpsCommand } from '@kiln/core';
import type { Compiler, KilnPlugin } from '@kiln/core';
import { explainRecorder } from './explain-recorder.js';
import { CliUsageError, programPath, runProgram } from './run-file.js';

export interface Command {
  /** One line for `kiln --help`. */
  readonly summary: string;
  /** `kiln <command> --help`. */
  readonly usage: string;
  /** Returns the exit code. */
  run(args: readonly string[]): Promise<number>;
}

const wantsHelp = (args: readonly string[]) => args[0] === '--help' || args[0] === '-h';

/** True when a plugin of this name already taps the compiler (the config listed it). */
const applied = (compiler: Compiler, plugin: KilnPlugin) => compiler.hooks.frameStart.taps.some((t) => t.name === plugin.name);

/** A command that runs a program: `--help`, then the config, then the file. */
function programCommand(name: string, summary: string, usage: string, around?: () => Promise<{ plugin: KilnPlugin; after(): void }>): Command {
  return {
    summary,
    usage,
    async run(args) {
      if (wantsHelp(args)) {
        process.stdout.write(`${usage}\n`);
        return 0;
      }
      programPath(args[0], name); // a usage error must not run the config's plugins (a report would be overwritten)
      const compiler = await configure();
      const extra = around ? await around() : undefined;
      // `kiln report` with the report plugin already in the config: one report, as the config set it up.
      if (extra && !applied(compiler, extra.plugin)) await compiler.useAsync(extra.plugin);
      try {
        await runProgram(args[0], args.slice(1), name);
      } finally {
        extra?.after();
      }
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    },
  };
}

const REPORT_PLUGIN = '@kiln/plugin-report';

/** The report plugin from the project (or next to kiln), or a clear error when it is not installed. */
async function loadReportPlugin(): Promise<KilnPlugin> {
  let path: string | undefined;
  for (const from of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      path = createRequire(from).resolve(REPORT_PLUGIN);
      break;
    } catch {
      // next place
    }
  }
  if (!path) throw new CliUsageError(`kiln report: the report plugin is not installed; install it with \`npm i -D ${REPORT_PLUGIN}\` (or pnpm add -D ${REPORT_PLUGIN}), then run kiln report again`);
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; plugin?: unknown };
  const exported = mod.default ?? mod.plugin;
  const plugin = typeof exported === 'function' ? (exported as () => unknown)() : exported;
  if (!plugin || typeof (plugin as KilnPlugin).apply !== 'function') throw new CliUsageError(`kiln report: ${REPORT_PLUGIN} exports no plugin object`);
  return plugin as KilnPlugin;
}

const AOT_PACKAGE = '@kiln/aot';

/** @kiln/aot is a package of its own (it brings esbuild and the WebGPU runtime): loaded when `kiln aot` runs. */
async function loadAot(): Promise<typeof import('@kiln/aot')> {
  try {
    return await import('@kiln/aot');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new CliUsageError(`kiln aot: ${AOT_PACKAGE} is not installed; install it with \`npm i -D ${AOT_PACKAGE}\` (or pnpm add -D ${AOT_PACKAGE}), then run kiln aot again`);
  }
}

const aotInstalled = (): Promise<boolean> => loadAot().then(() => true, (err: unknown) => (err instanceof CliUsageError ? false : Promise.reject(err)));

export const COMMANDS: Readonly<Record<string, Command>> = {
  run: programCommand('run', 'run a program (.mjs/.js, or .ts with tsx) with the config loaded', `usage: kiln run FILE [args…]
  Loads the config (kiln.config.*, .kilnrc*, or package.json's "kiln" key, from the working directory up),
  applies its plugins (async ones awaited), then runs FILE with args. KILN_LOGS applies as usual.
  Exit code: the program's (1 when it throws), 2 on bad arguments.`),
  explain: (() => {
    let recorder: ReturnType<typeof explainRecorder>;
    return programCommand('explain', 'run a program and print explain() of each function it compiled (graphs, guards, breaks, kernels)', `usage: kiln explain FILE [args…]
  Runs FILE like kiln run, then prints on stderr, after the program's own output, what explain(fn)(...args)
  prints, for every function the program compiled (all its calls together):
    - the backends, graph count, graph breaks (reason, line, hint, what runs eagerly, resume functions);
    - recompiles, each with the guard that failed (expected and actual value);
    - each graph as captured, the backend that compiled it, its kernels, fusions and eager steps;
    - forward/backward graphs where inputs required grad; guards of each entry; call decisions;
    - op counts and compile times per phase.
  Functions keep their ordinary caches (as under kiln run); KILN_LOGS applies as usual.
  Exit code: the program's (1 when it throws), 2 on bad arguments.`, async () => ({
      plugin: (recorder = explainRecorder()),
      after: () => void process.stderr.write(recorder.printout()),
    }));
  })(),
  report: programCommand('report', `run a program with ${REPORT_PLUGIN} loaded and write its HTML compile report`, `usage: kiln report FILE [args…]
  Runs FILE like kiln run with the compile-report plugin (${REPORT_PLUGIN}) added to the config's plugins;
  the plugin writes the report (see its README for where). Needs ${REPORT_PLUGIN} installed.`, async () => ({ plugin: await loadReportPlugin(), after: () => undefined })),
  audit: { summary: "audit the policy tables and the config's rules", usage: AUDIT_USAGE, run: runAuditCommand },
  ops: { summary: 'list every op in the registry with its schema', usage: OPS_USAGE, run: async (args) => runOpsCommand(args) },
  aot: {
    summary: 'turn a saved exported program into a standalone ES module (no Kiln needed to run it)',
    usage: `usage: kiln aot PROGRAM --out FILE [--backend cpu|webgpu] [--weights inline|file]   (needs ${AOT_PACKAGE}; kiln aot --help once it is installed)`,
    async run(args) {
      // Without @kiln/aot, --help still shows the usage (which says to install it) and succeeds.
      if (wantsHelp(args) && !(await aotInstalled())) {
        process.stdout.write(`${COMMANDS.aot!.usage}\n`);
        return 0;
      }
      return (await loadAot()).runAotCli(args);
    },
  },
};
