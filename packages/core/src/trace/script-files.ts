// A script's text read from its file instead of from V8 (which needs the Debugger domain), where the file
// provably holds what was loaded: a `file:` URL, not modified since this process started, with the function's
// own text at the position V8 gives for it. A file a loader transformed (TypeScript run by tsx) fails the
// last check, so its callers fall back to asking V8.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file's text, or undefined when it is not a file, cannot be read, or changed after this process started. */
export function unchangedFileText(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  try {
    const path = fileURLToPath(url);
    return statSync(path).mtimeMs < performance.timeOrigin ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `source` holds `text` around 0-based `line`/`column`, where V8 says a function starts (for a
 * method, at its parameters, after the name).
 */
export function holdsTextAt(source: string, line: number, column: number, text: string): boolean {
  let lineStart = 0;
  for (let l = 0; l < line; l++) {
    lineStart = source.indexOf('\n', lineStart) + 1;
    if (lineStart === 0) return false;
  }
  const offset = lineStart + column;
  const start = source.lastIndexOf(text, offset);
  return start >= 0 && start + text.length > offset;
}

/** The text of the script that defines `fn` (at `line`/`column` of `url`) when its file provably holds it. */
export function scriptTextFromFile(fn: Function, url: string, line: number, column: number): string | undefined {
  const source = unchangedFileText(url);
  return source !== undefined && holdsTextAt(source, line, column, Function.prototype.toString.call(fn)) ? source : undefined;
}
