// The user's source lines next to guards and breaks. Files are read once, when the report is written.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export class SourceLines {
  private readonly files = new Map<string, readonly string[] | undefined>();
  /** Full paths by file name (`model.ts` → `/home/me/model.ts`): locations in guards carry only the name. */
  private readonly paths = new Map<string, string>();

  addPath(path: string): void {
    if (!this.paths.has(basename(path))) this.paths.set(basename(path), path);
  }

  /** Resolves `file:line` (a file name or a path) to the trimmed source line, when the file can be read. */
  lineAt(location: string | undefined): string | undefined {
    const m = location ? /^(.*):(\d+)$/.exec(location) : null;
    if (!m) return undefined;
    const path = this.paths.get(m[1]!) ?? m[1]!;
    if (!this.files.has(path)) this.files.set(path, readLines(path));
    return this.files.get(path)?.[Number(m[2]) - 1]?.trim();
  }
}

function readLines(path: string): readonly string[] | undefined {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/);
  } catch {
    return undefined;
  }
}
