// Errors raised inside compiled code get the user's source line as their top stack frame: eager code
// raises them with the user's call of the op on the JS stack; compiled code runs the op far from it.
import type { SourceLocation } from './node.js';

/** Marks the frame this module adds (so it is added once), and tells a reader the line ran compiled. */
const USER_FRAME_MARK = '[kiln compiled]';

/**
 * Puts the user's source line on top of an error's stack, as one stack frame (`at <label> (file:line:col)`,
 * the form debuggers and stack parsers read), so an error raised inside compiled code points at the user
 * code that called the op, as the same error raised by eager code does. Idempotent; a frozen error is left as is.
 */
export function withUserFrame<E>(err: E, label: string, source: SourceLocation | undefined): E {
  if (!(err instanceof Error) || !source || typeof err.stack !== 'string' || err.stack.includes(USER_FRAME_MARK)) return err;
  const lines = err.stack.split('\n');
  // The message may span lines (hints): the frames start at the first `    at ` line.
  const first = lines.findIndex((l) => /^\s+at /.test(l));
  const column = source.column === undefined ? '' : `:${source.column + 1}`;
  lines.splice(first < 0 ? lines.length : first, 0, `    at ${label} ${USER_FRAME_MARK} (${source.path ?? source.file}:${source.line}${column})`);
  try {
    err.stack = lines.join('\n');
  } catch {
    /* a frozen error keeps its stack */
  }
  return err;
}

/** A location recorded as text (`model.ts:12`, as check() asserts keep it) as a SourceLocation. */
export function parseLocation(text: string | undefined): SourceLocation | undefined {
  const m = text === undefined ? null : /^(.*):(\d+)$/.exec(text);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}
