// Shared plumbing of the AOT tests: compile a traced function to a module in a temp folder, import it,
// and compare its outputs with eager results.
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportProgram, type ExportOptions } from '@kiln/export';
import { aotCompile, writeAotModule, type AotModule, type AotOptions } from '../src/index.js';

export const tempDir = (prefix = 'kiln-aot-'): string => mkdtempSync(join(tmpdir(), prefix));

export interface LoadedModule {
  readonly compiled: AotModule;
  readonly path: string;
  readonly model: (...args: unknown[]) => unknown;
}

/** Exports `fn` (every dim dynamic unless `dims` are given), compiles it, writes the module (and weights) to a fresh folder, imports and loads it. */
export async function compileAndLoad(
  fn: (...args: never[]) => unknown, example: readonly unknown[], options: AotOptions & { exportOptions?: ExportOptions } = {},
): Promise<LoadedModule> {
  const exported = exportProgram(fn as (...args: unknown[]) => unknown, [...example], options.exportOptions ?? { dynamic: true });
  const compiled = await aotCompile(exported, options);
  const dir = tempDir();
  const [path] = await writeAotModule(compiled, join(dir, 'model.mjs'));
  const mod = (await import(pathToFileURL(path!).href)) as { load: (o?: unknown) => Promise<(...args: unknown[]) => unknown> };
  return { compiled, path: path!, model: await mod.load() };
}

/** Within 1e-5 relative (plus 1e-6 absolute), element by element. */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (!(Math.abs(g - w) <= tol * Math.abs(w) + 1e-6)) assert.unreachable(`${what}: element ${i} is ${g}, eager gives ${w}`);
  }
}

/** Asserts that `fn` throws an error named `name` whose message matches every pattern. */
export function assertThrowsNamed(fn: () => unknown, name: string, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (err) {
    assert.is((err as Error).name, name, `error class: ${(err as Error).message}`);
    for (const p of patterns) assert.match((err as Error).message, p);
    return;
  }
  assert.unreachable(`expected ${name}`);
}
