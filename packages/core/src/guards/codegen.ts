import { Tensor } from '@kiln/tensor';
import type { GuardEntry } from './builder.js';

/** Returns the index of the first failing guard, or -1 when all pass. */
export type GuardFunction = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => number;
export type InputGatherer = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => unknown[];

/**
 * One straight-line JavaScript function for all guards of a cache entry. The code only contains accessors
 * built by the tracer (identifiers, integer indices, JSON-escaped keys) and `K[i]` references; user values
 * reach it as closure data. An accessor that throws counts as a failure of the guard being evaluated.
 */
export function guardSource(entries: readonly GuardEntry[]): string {
  const lines = ['return function guard(L, T, C, M) {', '  let g = 0;', '  try {'];
  // Scratch slots for tensors reached through keys that size guards cannot spell (see FrameTracer).
  if (entries.some((e) => e.code.includes('U['))) lines.splice(2, 0, '  const U = [];');
  entries.forEach((e, i) => {
    lines.push(`    g = ${i}; if (!(${e.code})) return ${i};`);
  });
  lines.push('  } catch { return g; }', '  return -1;', '};');
  return lines.join('\n');
}

export function compileGuards(entries: readonly GuardEntry[], constants: readonly unknown[]): { fn: GuardFunction; source: string } {
  const source = guardSource(entries);
  const fn = new Function('K', 'Tensor', source)(constants, Tensor) as GuardFunction;
  return { fn, source };
}

export function compileGatherer(sources: readonly string[], constants: readonly unknown[]): InputGatherer {
  const body = `return function gather(L, T, C, M) { return [${sources.join(', ')}]; };`;
  return new Function('K', body)(constants) as InputGatherer;
}
