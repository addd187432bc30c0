// `kiln aot PROGRAM --out model.mjs`: a saved exported program (saveProgram's file) → a standalone ES module.
import { basename, extname } from 'node:path';
import { readProgram } from '@kiln/export';
import { aotCompile, writeAotModule } from './compile/aot-compile.js';

export const AOT_USAGE = `usage: kiln aot PROGRAM --out FILE [--backend cpu|webgpu] [--weights inline|file] [--weights-file NAME]
  PROGRAM   a program saved with saveProgram(exportProgram(fn, args), PROGRAM)
  --out     the ES module to write (model.mjs); it runs with no Kiln package installed
  --weights inline (default): weights as base64 in the module; file: a .safetensors file beside it`;

interface Args { program?: string; out?: string; backend?: string; weights?: string; weightsFile?: string }

function parse(argv: readonly string[]): Args | string {
  const args: Args = {};
  const flags: Record<string, keyof Args> = { '--out': 'out', '-o': 'out', '--backend': 'backend', '--weights': 'weights', '--weights-file': 'weightsFile' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = flags[a];
    if (flag) {
      const value = argv[++i];
      if (value === undefined) return `${a} needs a value`;
      args[flag] = value;
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (args.program === undefined) args.program = a;
    else return `unexpected argument ${a}`;
  }
  if (!args.program) return 'missing PROGRAM';
  if (!args.out) return 'missing --out FILE';
  if (args.backend !== undefined && args.backend !== 'cpu' && args.backend !== 'webgpu') return `--backend must be cpu or webgpu, got ${args.backend}`;
  if (args.weights !== undefined && args.weights !== 'inline' && args.weights !== 'file') return `--weights must be inline or file, got ${args.weights}`;
  return args;
}

/** Runs `kiln aot` with its arguments (after `aot`); returns the exit code. */
export async function runAotCli(argv: readonly string[], out: { log(s: string): void; error(s: string): void } = console): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.log(AOT_USAGE);
    return 0;
  }
  const args = parse(argv);
  if (typeof args === 'string') {
    out.error(`kiln aot: ${args}\n${AOT_USAGE}`);
    return 2;
  }
  try {
    const program = readProgram(args.program!);
    const module = await aotCompile(program, {
      ...(args.backend ? { backend: args.backend as 'cpu' | 'webgpu' } : {}),
      ...(args.weights ? { weights: args.weights as 'inline' | 'file' } : {}),
      // The weights file is named after the module by default (model.mjs → model.safetensors).
      weightsFile: args.weightsFile ?? `${basename(args.out!, extname(args.out!))}.safetensors`,
    });
    const written = await writeAotModule(module, args.out!);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const { moduleBytes, runtimeBytes, wasmBytes, weightBytes } = module.sizes;
    out.log(`kiln aot: wrote ${written.join(', ')} (module ${kb(moduleBytes)}: runtime ${kb(runtimeBytes)}, wasm ${kb(wasmBytes)}, weights ${kb(weightBytes)})`);
    return 0;
  } catch (err) {
    out.error(`kiln aot: ${(err as Error).message}`);
    return 1;
  }
}
