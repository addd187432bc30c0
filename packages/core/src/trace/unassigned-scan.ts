// A textual proof that a script never reassigns a binding, so that a fresh process need not parse the whole
// script with acorn to learn it. The first parse of a process runs acorn cold (interpreted, ≈3 µs per
// character), and the demo's first compile parsed two whole scripts only to ask this about four names that are
// imported, declared `const`, or only ever called or dereferenced.
//
// The scan looks at every occurrence of the name as a whole word and accepts the script only when each one
// sits in a context that can never assign the binding: a property (`a.name`), a call or member access
// (`name(`, `name.`, `name[`), a `const`/`class`/`function` declaration, or an import list. Anything else
// (an `=`, a pattern, `++`, a `let`, a comment between, a `\u` escape) answers "not proven" and the caller
// parses the script as before. Occurrences inside strings and comments are judged the same way: that can only
// send more scripts to the parser, never accept one wrongly, because the contexts accepted are decided by the
// characters next to the name on its own line, which a comment or string cannot hide an assignment behind.

const isIdentifierChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 /* $ */ || c === 95; /* _ */

/** Import declarations at the start of a line whose specifier list holds only names, commas and spaces. */
const importDeclaration = /^[ \t]*import[ \t]+(?:[\w$]+[ \t]*,[ \t]*)?(?:\{[\s\w$,]*\}|\*[ \t]*as[ \t]+[\w$]+|[\w$]+)\s*from[ \t]*['"]/gm;
const LINE_BREAK = /[\n\r\u2028\u2029]/;
/** Keywords that declare a binding that the declaration itself does not make reassignable. */
const DECLARING = new Set(['const', 'class', 'function']);

/** Index of the previous character that is not a space or tab on the same line (-1 at a line start). */
function previousOnLine(source: string, i: number): number {
  let j = i - 1;
  while (j >= 0 && (source[j] === ' ' || source[j] === '\t')) j--;
  return j >= 0 && !LINE_BREAK.test(source[j]!) ? j : -1;
}

/** Index of the next character that is not whitespace (newlines included: a token after them still follows). */
function nextToken(source: string, i: number): number {
  let j = i;
  while (j < source.length && /\s/.test(source[j]!)) j++;
  return j;
}

function importRanges(source: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (const m of source.matchAll(importDeclaration)) ranges.push([m.index!, m.index! + m[0].length]);
  return ranges;
}

/** Whether the occurrence of a name at [start, end) can never assign it (see the file comment). */
function cannotAssign(source: string, start: number, end: number): boolean {
  const after = nextToken(source, end);
  const next = source[after];
  // A member access: `name.x`, `name?.x` (a line break before it changes nothing: `let name⏎.x` is an error).
  // A digit after the dot is a number (`let name⏎.5` is `let name; .5`), and `...` a spread.
  const dot = next === '.' ? after : next === '?' && source[after + 1] === '.' ? after + 1 : -1;
  if (dot >= 0 && !/[\d.]/.test(source[dot + 1] ?? '.')) return true;
  // A call or an index: `name(…)`, `name[i]`; on the same line only, for `let name⏎(x)` is `let name; (x)`
  // through automatic semicolon insertion, which declares `name` without a value.
  if ((next === '(' || next === '[') && !LINE_BREAK.test(source.slice(end, after))) return true;
  const before = previousOnLine(source, start);
  if (before < 0) return false;
  // A property name: `a.name` (but not the spread `...name`).
  if (source[before] === '.') return source[before - 1] !== '.';
  if (!isIdentifierChar(source.charCodeAt(before))) return false;
  let wordStart = before;
  while (wordStart > 0 && isIdentifierChar(source.charCodeAt(wordStart - 1))) wordStart--;
  return DECLARING.has(source.slice(wordStart, before + 1));
}

/**
 * True when no statement of `source` can assign the binding `name` after its declaration (what `assignedNames`
 * would find, proven without parsing); false when the scan cannot tell, and the script must be parsed.
 */
export function provablyUnassigned(source: string, name: string, imports = importRanges(source)): boolean {
  // Identifiers may spell a name with escapes (`n\u0061me`): the scan would not see them.
  if (source.includes('\\u')) return false;
  for (let at = source.indexOf(name); at >= 0; at = source.indexOf(name, at + 1)) {
    const end = at + name.length;
    if (isIdentifierChar(source.charCodeAt(at - 1) || 0) || isIdentifierChar(source.charCodeAt(end) || 0)) continue;
    if (imports.some(([s, e]) => at >= s && end <= e)) continue;
    if (!cannotAssign(source, at, end)) return false;
  }
  return true;
}

/** The scan with the script's import declarations found once (a script is asked about several names). */
export function unassignedScanner(source: string): (name: string) => boolean {
  const imports = importRanges(source);
  return (name) => provablyUnassigned(source, name, imports);
}
