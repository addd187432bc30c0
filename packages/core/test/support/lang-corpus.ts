// Shared helpers of the language corpus (lang-corpus-*.test.ts): small programs that stress the JavaScript
// surface of the frame tracer, each run compiled and eagerly by the differential harness of the CPU
// backend's corpus (every backend × dynamic setting, repeated calls, fresh but equal inputs).
import type { Test } from 'uvu';
import { assertNoDifference } from '../../../backend-cpu/test/differential-support.js';
import type { Program } from '../../../backend-cpu/test/differential-support.js';
// Marks the core test folder as user code (the policy skips Kiln's own folder otherwise).
import './tracer.js';

export { Gen, pure } from '../../../backend-cpu/test/differential-support.js';
export type { Program, World } from '../../../backend-cpu/test/differential-support.js';

/** Matrix shapes: a repeat, a 1 (specialized), a change of both dims, and an empty one. */
export const MATRICES = [[3, 4], [1, 4], [2, 5], [4, 4], [0, 3]] as const;

/**
 * Runs the program with KILN_TRACER_STRICT, so an internal tracer error surfaces as a compiled-side throw
 * (a crash where eager works) instead of the silent eager fallback users get.
 */
export function assertLang<S>(program: Program<S>): void {
  const before = process.env.KILN_TRACER_STRICT;
  process.env.KILN_TRACER_STRICT = '1';
  try {
    assertNoDifference(program);
  } finally {
    if (before === undefined) delete process.env.KILN_TRACER_STRICT;
    else process.env.KILN_TRACER_STRICT = before;
  }
}

/** One uvu test per program. */
export function cases(s: Test, programs: Record<string, Program<any>>): void {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertLang(program));
}
