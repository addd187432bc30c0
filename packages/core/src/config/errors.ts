import { KilnError } from '@kiln/tensor';

export interface ConfigErrorDetails {
  /** 1-based line in `file`, when the problem has one (a syntax error, a throw while the file evaluates). */
  readonly line?: number | undefined;
  /** The plugin involved (its `name`, or the spec that names it). */
  readonly plugin?: string | undefined;
  readonly cause?: unknown;
}

/**
 * A problem with the configuration: names the file (with the line where there is one), the key, and the
 * plugin when one is involved. The original error, if any, is the `cause` (its stack intact).
 */
export class KilnConfigError extends KilnError {
  readonly line: number | undefined;
  readonly plugin: string | undefined;

  constructor(
    readonly file: string,
    readonly key: string,
    message: string,
    hint?: string,
    details: ConfigErrorDetails = {},
  ) {
    super(`${file}${details.line ? `:${details.line}` : ''}: ${key}: ${message}`, hint, details.cause === undefined ? undefined : { cause: details.cause });
    this.line = details.line;
    this.plugin = details.plugin;
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

/** The line of `file` that an error's stack points at (`file:///…/kiln.config.mjs:3:9`), if any. */
export function lineInStack(err: unknown, file: string): number | undefined {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  for (const line of stack.split('\n')) {
    const at = line.indexOf(file);
    if (at < 0) continue;
    const m = /^(?:\?[^:)\s]*)?:(\d+)(?::\d+)?/.exec(line.slice(at + file.length));
    if (m) return Number(m[1]);
  }
  return undefined;
}
