// The graph's runtime asserts as `check` steps (see ir/asserts.ts): each goes right after the step that binds
// its last symbol — input sizes at the start, a data-dependent size after the fallback that computes it
// (nonzero, item) — so it raises before any kernel or allocation sized by that symbol runs, as eager
// check() raises before the code after it.
import type { GraphAssert } from '@kiln/graph';
import type { ProgramBuilder } from './builder.js';
import { LoweringError } from './errors.js';

/** Emits the pending asserts whose symbols are all bound by now, and drops them from `pending`. */
export function emitReadyAsserts(b: ProgramBuilder, pending: GraphAssert[]): void {
  const bound = (s: string): boolean => b.boundParams.has(s) || b.params.some((p) => p.param === s);
  for (let i = 0; i < pending.length; i++) {
    const a = pending[i]!;
    if (!(a.symbols ?? []).every(bound)) continue;
    b.steps.push({ kind: 'check', check: 'assert', assert: a });
    pending.splice(i--, 1);
  }
}

/** An assert no step could place would go unchecked: the graph is then run by the interpreter instead. */
export function checkAllPlaced(pending: readonly GraphAssert[]): void {
  const a = pending[0];
  if (a) throw new LoweringError(`runtime assert ${a.expr} reads ${(a.symbols ?? []).join(', ')}, which no input or step of the program binds`);
}
