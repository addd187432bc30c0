// Counts in user-facing text: `1 recompile`, `2 recompiles`, `0 graph breaks` (never `1 recompiles`, never
// `op(s)`). Shared by logs, explain, the CLI and plugins (the compile report's stderr line).

/** `count` and `noun`, the noun plural unless the count is exactly 1 (`pluralNoun` for irregular ones). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}
