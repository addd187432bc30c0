// @kiln/plugin-profile: where the time of compiled code goes, per compiled program and per step (each fused
// kernel, each node run on its eager kernel), with call counts; printed as a table when the process exits.
// Load it from the config (`plugins: ['@kiln/plugin-profile']`) or apply it inline (`profilePlugin(options)`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { KilnConfigError, atProcessEnd } from '@kiln/core';
import type { Compiler, KilnPlugin } from '@kiln/core';
import { formatProfile } from './format.js';
import { ProgramTimer } from './profiler.js';
import type { ProgramProfile } from './profiler.js';

export interface ProfileOptions {
  /** Write the table to this file at exit instead of printing it to stderr. */
  readonly output?: string;
  /** Print (or write) the table when the process exits (default true). */
  readonly printOnExit?: boolean;
  /** Steps listed per program, slowest first (default 10). */
  readonly topSteps?: number;
}

const OPTION_KEYS = ['output', 'printOnExit', 'topSteps'] as const;
const WHERE = '@kiln/plugin-profile options';

function checkOptions(options: unknown): ProfileOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new KilnConfigError(WHERE, '<root>', `must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, 'e.g. profilePlugin({ topSteps: 5 })');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw new KilnConfigError(WHERE, key, 'unknown option', `known options: ${OPTION_KEYS.join(', ')}`);
  }
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output === '')) throw new KilnConfigError(WHERE, 'output', `must be a file path (a non-empty string), got ${JSON.stringify(o.output)}`);
  if (o.printOnExit !== undefined && typeof o.printOnExit !== 'boolean') throw new KilnConfigError(WHERE, 'printOnExit', `must be true or false, got ${JSON.stringify(o.printOnExit)}`);
  if (o.topSteps !== undefined && !(Number.isInteger(o.topSteps) && (o.topSteps as number) > 0)) throw new KilnConfigError(WHERE, 'topSteps', `must be a positive integer, got ${JSON.stringify(o.topSteps)}`, 'the default is 10');
  return o as ProfileOptions;
}

export class KernelProfiler implements KilnPlugin {
  readonly name = '@kiln/plugin-profile';
  private readonly timer = new ProgramTimer();
  private readonly options: ProfileOptions;
  private exitHandler: (() => void) | undefined;

  constructor(options?: ProfileOptions) {
    this.options = checkOptions(options);
  }

  apply(compiler: Compiler): void {
    this.timer.attach(compiler);
    if (this.options.printOnExit !== false && !this.exitHandler) {
      // Also on Ctrl-C and SIGTERM: a long run stopped that way still prints where its time went.
      this.exitHandler = () => this.printAtExit();
      atProcessEnd(this.exitHandler);
    }
  }

  /** Every compiled program so far: calls, time, and per-step times where the backend gives them. */
  programs(): ProgramProfile[] {
    return this.timer.programs();
  }

  /** The table printed at exit. */
  format(): string {
    return formatProfile(this.programs(), this.options.topSteps ?? 10);
  }

  private printAtExit(): void {
    const text = `${this.format()}\n`;
    if (!this.options.output) {
      process.stderr.write(text);
      return;
    }
    try {
      const path = resolve(this.options.output);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    } catch (err) {
      // Exit handlers must not throw: say what failed and print the table instead.
      process.stderr.write(`[kiln] profile: cannot write ${this.options.output}: ${err instanceof Error ? err.message : String(err)}\n${text}`);
    }
  }
}

/** The plugin, for `compiler.use(profilePlugin(options))` or a config's plugins. */
export function profilePlugin(options?: ProfileOptions): KernelProfiler {
  return new KernelProfiler(options);
}

export { formatProfile } from './format.js';
export type { ProgramProfile } from './profiler.js';

export default profilePlugin;
