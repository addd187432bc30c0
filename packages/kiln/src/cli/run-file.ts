// Running a user's script under the `kiln` command: the config is loaded first (configure(), so async
// plugins and top-level await work), then the file is imported as the program, with its own argv.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Compiler } from '@kiln/core';

export class CliUsageError extends Error {}

/** TypeScript programs on Node 20: through tsx's loader when the project has tsx (Node ≥ 22.18 strips types itself). */
async function enableTypeScript(file: string): Promise<void> {
  if ((process.features as { typescript?: unknown }).typescript) return;
  let loader: string;
  try {
    // 'tsx/esm' (what `node --import tsx/esm` loads) registers tsx's loader when imported. Not 'tsx/esm/api':
    // require.resolve picks its CommonJS build, whose register() cannot find its own ES module files.
    loader = createRequire(join(process.cwd(), 'package.json')).resolve('tsx/esm');
  } catch {
    throw new CliUsageError(`${file}: running a TypeScript file on Node ${process.versions.node} needs the 'tsx' package in the project (npm i -D tsx), or Node >= 22.18; or run the compiled .js`);
  }
  await import(pathToFileURL(loader).href);
}

/** The program's absolute path; a usage error when it is missing (checked before the config's plugins load). */
export function programPath(file: string | undefined, command: string): string {
  if (!file) throw new CliUsageError(`kiln ${command}: which file? (kiln ${command} FILE [args…])`);
  const path = resolve(file);
  if (!existsSync(path)) throw new CliUsageError(`kiln ${command}: ${file} does not exist`);
  return path;
}

/** Imports `file` as the program (`process.argv` as if it had been run with node). */
export async function runProgram(file: string | undefined, args: readonly string[], command: string): Promise<void> {
  const path = programPath(file, command);
  if (/\.[mc]?ts$/.test(path)) await enableTypeScript(file!);
  process.argv = [process.argv[0]!, path, ...args];
  await import(pathToFileURL(path).href);
}

/** Writes `text` to stdout and waits until it is flushed (so the exit code follows the output). */
export const print = (text: string): Promise<void> => new Promise((done) => process.stdout.write(text, () => done()));

export type { Compiler };
