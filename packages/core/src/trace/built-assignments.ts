// What a built Kiln bundle reassigns, computed once when it is built instead of in every process that traces
// one of its functions. The tracer must know whether a captured binding may change (closures.ts); for a
// script it cannot settle with the text scan, it parses the whole script with acorn. esbuild writes a
// module's `const` as `var`, which the scan cannot prove set-once, so a user function that inlined a Kiln
// helper (`sumToShape`, say) made a fresh process parse the 180 KB tensor bundle: ≈ 330 ms of cold acorn.
// scripts/bundle-packages.mjs appends the result of that same analysis (`scriptAssignments`) as one comment
// line, with a SHA-1 of the text it describes: a bundle edited afterwards (patch-package, a hand fix) no
// longer matches its hash, and the tracer falls back to the scan and the parse.
import { createHash } from 'node:crypto';
import type { Node as AstNode } from 'acorn';
import { scriptAssignments } from './ast-util.js';

const MARKER = '\n//# kilnAssignments=';

export interface Assigned {
  readonly assigned: ReadonlySet<string>;
  readonly setOnceAtTopLevel: ReadonlySet<string>;
}

interface Stamped {
  readonly sha1: string;
  readonly assigned: string[];
  readonly setOnceAtTopLevel: string[];
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

/** The comment line (without its newline) that records what `text` (parsed as `ast`) assigns. */
export function assignmentsComment(text: string, ast: AstNode): string {
  const { assigned, setOnceAtTopLevel } = scriptAssignments(ast);
  const stamped: Stamped = { sha1: sha1(text), assigned: [...assigned].sort(), setOnceAtTopLevel: [...setOnceAtTopLevel].sort() };
  return `${MARKER.slice(1)}${JSON.stringify(stamped)}`;
}

/**
 * What the script's build-time comment says it assigns, when it has one and the text before it is the text
 * it was computed from; undefined otherwise (then the caller scans or parses).
 */
export function builtAssignments(source: string): Assigned | undefined {
  const at = source.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  const lineEnd = source.indexOf('\n', at + 1);
  let stamped: Stamped;
  try {
    stamped = JSON.parse(source.slice(at + MARKER.length, lineEnd < 0 ? undefined : lineEnd)) as Stamped;
  } catch {
    return undefined;
  }
  if (typeof stamped?.sha1 !== 'string' || !Array.isArray(stamped.assigned) || !Array.isArray(stamped.setOnceAtTopLevel)) return undefined;
  if (sha1(source.slice(0, at)) !== stamped.sha1) return undefined;
  return { assigned: new Set(stamped.assigned), setOnceAtTopLevel: new Set(stamped.setOnceAtTopLevel) };
}
