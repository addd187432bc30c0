// Float-sensitive control flow in differential fuzzing. A program that branches on a computed float
// (`if (h.sub(h.mean()).sum().item() > 0)`) may legitimately go either way between compiled and eager code
// when the value lies within rounding of its threshold: a fused kernel sums in another order. That is not a
// wrong result, and it must not be hidden either. The fuzzers log every such branch value (`seen(value,
// threshold, site)`), and at the first branch where the two sides decided differently this classifier asks:
// did both sides compute the *value* right (close to each other and to a float64 recomputation), with the
// threshold inside that rounding margin? Then either path is accepted and the run says so; otherwise the
// compiled code took a wrong branch and the fuzzer reports it.

export interface BranchValue {
  /** Which comparison in the program (its position in the source). */
  readonly site: number;
  readonly value: number;
  readonly threshold: number;
}

export type BranchVerdict =
  | { readonly kind: 'same' }
  | { readonly kind: 'float-sensitive'; readonly detail: string }
  | { readonly kind: 'wrong'; readonly detail: string };

const taken = (b: BranchValue): boolean => b.value > b.threshold;
const show = (b: BranchValue | undefined): string => (b ? `site ${b.site}: ${b.value} > ${b.threshold} is ${taken(b)}` : 'no branch');

/**
 * Compares the branch logs of one call. `reference` is the same call run eagerly in float64 (may be
 * undefined or have taken another path, in which case the eager and compiled values alone decide); `tol` is
 * the relative rounding margin (float32 sums of a few dozen terms: 1e-5).
 */
export function classifyBranches(eager: readonly BranchValue[], compiled: readonly BranchValue[], reference: readonly BranchValue[] | undefined, tol = 1e-5): BranchVerdict {
  for (let i = 0; i < Math.max(eager.length, compiled.length); i++) {
    const e = eager[i];
    const c = compiled[i];
    // Until a flipped decision, both sides run the same path: a missing or different branch is a wrong path.
    if (!e || !c || e.site !== c.site || e.threshold !== c.threshold) return { kind: 'wrong', detail: `branch ${i} differs: eager ${show(e)}, compiled ${show(c)}` };
    if (taken(e) === taken(c)) continue;
    const r = reference?.[i];
    const exact = r && r.site === e.site ? r.value : (e.value + c.value) / 2;
    const margin = tol * Math.max(1, Math.abs(exact), Math.abs(e.threshold));
    const valuesAgree = Math.abs(e.value - exact) <= margin && Math.abs(c.value - exact) <= margin;
    const nearThreshold = Math.abs(exact - e.threshold) <= margin;
    const detail = `branch ${i} went ${taken(e) ? 'in' : 'out'} eagerly and ${taken(c) ? 'in' : 'out'} compiled: eager ${e.value}, compiled ${c.value}, float64 ${exact}, threshold ${e.threshold} (margin ${margin.toExponential(1)})`;
    return valuesAgree && nearThreshold ? { kind: 'float-sensitive', detail } : { kind: 'wrong', detail };
  }
  return { kind: 'same' };
}
