import { Tensor } from '@kiln/tensor';
import type { GuardEntry } from './builder.js';
import { GUARD_HELPERS } from './reflect.js';

/** Returns the index of the first failing guard, or -1 when all pass. */
export type GuardFunction = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => number;
export type InputGatherer = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => unknown[];

/**
 * One straight-line JavaScript function for all guards of a cache entry. The code only contains accessors
 * built by the tracer (identifiers, integer indices, JSON-escaped keys) and `K[i]` references; user values
 * reach it as closure data. An accessor that throws counts as a failure of the guard being evaluated.
 * Order matters: a guard may read what the guards before it proved safe to read (a data property, not a
 * getter; a tensor, not a Proxy), so they are evaluated in order and the first failure stops the rest.
 */
export function guardSource(entries: readonly GuardEntry[]): string {
  const lines = ['return function guard(L, T, C, M) {', '  let g = 0;', '  try {'];
  // Scratch slots for tensors reached through keys that size guards cannot spell (see FrameTracer).
  if (entries.some((e) => e.code.includes('U['))) lines.splice(2, 0, '  const U = [];');
  const sizes = sizeScratch(entries);
  entries.forEach((e, i) => {
    if (i === sizes.firstShapeGuard) lines.push(`    g = ${i};`, ...sizes.assignments);
    lines.push(`    g = ${i}; if (!(${i >= sizes.firstShapeGuard ? sizes.rewrite(e.code) : e.code})) return ${i};`);
  });
  lines.push('  } catch { return g; }', '  return -1;', '};');
  return lines.join('\n');
}

// An input size as the shape guards spell it: a safe accessor (identifiers, integer indices, simple quoted
// keys — what the tracer emits) followed by `.shape[i]`.
const SIZE_ACCESSOR = /[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\['[\w$.-]*'\]|\["[\w$.-]*"\])*\.shape\[\d+\]/g;

/**
 * DESIGN.md's two-source guards: the shape env's guards relate sizes of several inputs (`s0 == s1`). Each
 * size is read once into a scratch variable, right after the tensor guards that make reading it safe, and
 * the relational guards compare the scratch variables. Applies when the shape guards form the tail of the
 * list (the tracer appends them last); otherwise the code is left as it is.
 */
function sizeScratch(entries: readonly GuardEntry[]): { firstShapeGuard: number; assignments: string[]; rewrite: (code: string) => string } {
  const first = entries.findIndex((e) => e.kind === 'shape');
  const none = { firstShapeGuard: entries.length, assignments: [], rewrite: (c: string) => c };
  if (first < 0 || entries.slice(first).some((e) => e.kind !== 'shape')) return none;
  const names = new Map<string, string>();
  for (const e of entries.slice(first)) for (const m of e.code.match(SIZE_ACCESSOR) ?? []) if (!names.has(m)) names.set(m, `s${names.size}`);
  if (names.size === 0) return none;
  return {
    firstShapeGuard: first,
    assignments: [...names].map(([accessor, name]) => `    const ${name} = ${accessor};`),
    rewrite: (code) => code.replace(SIZE_ACCESSOR, (m) => names.get(m)!),
  };
}

export function compileGuards(entries: readonly GuardEntry[], constants: readonly unknown[]): { fn: GuardFunction; source: string } {
  return guardsFromSource(guardSource(entries), constants);
}

/** The guard function of a source compileGuards made (a persistent cache keeps the source). */
export function guardsFromSource(source: string, constants: readonly unknown[]): { fn: GuardFunction; source: string } {
  const fn = new Function('K', 'Tensor', ...Object.keys(GUARD_HELPERS), source)(constants, Tensor, ...Object.values(GUARD_HELPERS)) as GuardFunction;
  return { fn, source };
}

/** Evaluates one guard's code on its own (a throwing accessor counts as holding: nothing to learn there). */
export function guardHolds(code: string, L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[], K: readonly unknown[]): boolean {
  const names = ['L', 'T', 'C', 'M', 'K', 'Tensor', ...Object.keys(GUARD_HELPERS)];
  const check = new Function(...names, `try { return ${code}; } catch { return true; }`) as (...a: unknown[]) => boolean;
  return check(L, T, C, M, K, Tensor, ...Object.values(GUARD_HELPERS));
}

export function compileGatherer(sources: readonly string[], constants: readonly unknown[]): InputGatherer {
  const body = `return function gather(L, T, C, M) { return [${sources.join(', ')}]; };`;
  return new Function('K', body)(constants) as InputGatherer;
}
