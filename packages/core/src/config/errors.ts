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

const AT_FIRST_COMPILE = 'call `await configure()` before compiling, or start the program with `kiln run`';

/**
 * Why the automatic load at the first compile() (synchronous: require()) cannot load an ES module that
 * import() would: top-level await, or a Node without require() of ES modules (before 20.19). Undefined for
 * any other error.
 */
export function syncLoadError(err: unknown, file: string, key: string, what: string, plugin?: string): KilnConfigError | undefined {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ERR_REQUIRE_ASYNC_MODULE') return new KilnConfigError(file, key, `${what} uses top-level await, so it cannot be loaded at the first compile()`, AT_FIRST_COMPILE, { plugin, cause: err });
  if (code === 'ERR_REQUIRE_ESM') {
    const why = `${what} is an ES module, and this Node (${process.version}) cannot require() one, as the first compile() does (Node >= 20.19 can, unless started with --no-experimental-require-module)`;
    return new KilnConfigError(file, key, why, `${AT_FIRST_COMPILE}, or use Node >= 20.19`, { plugin, cause: err });
  }
  return undefined;
}
