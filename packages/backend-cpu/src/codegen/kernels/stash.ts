// The stash of a reduction kernel: when a full store reuses the last stage's prologue (softmax's
// exp(x - max)), the fold pass writes that prologue into the store's own output row and the store pass reads
// it back instead of recomputing it (one exp per element instead of two). This relies on the IR rule that a
// reduction's outputs do not alias its inputs. Also: when the stash may hold exp·2^25 instead of exp.
import type { LoopDType, ReductionKernel, ValueExpr } from '@kiln/lower';
import { operands, someNode } from '@kiln/lower';

type Store = ReductionKernel['stores'][number];

export interface Stash {
  readonly store: Store;
  readonly prologue: ValueExpr;
  readonly load: ValueExpr;
}

/**
 * Structural equality. Fusion inlines a producer once per consumer, so softmax's store holds its own copy
 * of the `exp(x - max)` tree that the sum stage folds: identity would never match it.
 */
export function sameValue(a: ValueExpr, b: ValueExpr): boolean {
  return a === b || (a.kind === b.kind && JSON.stringify(a) === JSON.stringify(b));
}

/** A full-scope store that contains the last (folding) stage's prologue, with matching dtype. */
export function findStash(stages: ReductionKernel['stages'], stores: Store[], accTypes: LoopDType[], outputs: ReductionKernel['outputs']): Stash | null {
  const last = stages[stages.length - 1];
  if (!last || last.type === 'argmax' || last.type === 'argmin' || last.prologue.kind === 'load') return null;
  const store = stores.find((s) => s.scope === 'full' && someNode(s.value, (n) => sameValue(n, last.prologue)));
  if (!store || stores.filter((s) => s.buffer === store.buffer).length > 1) return null;
  if (accTypes[accTypes.length - 1] !== 'float32') return null;
  // The stash lives in the store's own buffer: one that holds bools or ints (softmax(x).eq(0)) cannot keep it.
  if (outputs.find((o) => o.name === store.buffer)?.dtype !== 'float32') return null;
  return { store, prologue: last.prologue, load: { kind: 'load', buffer: store.buffer, access: store.access } };
}

/**
 * Whether the last stage may fold exp·2^25 instead of exp (the non-positive exp's last multiply, by 2^-25,
 * left out): when its prologue is that exp, its sum s is read only through 1/s (acc `reciprocal`), and every
 * store reads the stashed exp e and 1/s only as the product e · (1/s). Then 2^25·e · 1/(2^25·s) is
 * e · (1/s): the same bits where e is normal (scaling by a power of two commutes with rounding, and the sum
 * of the scaled terms is the scaled sum, ≥ 2^25, far from overflow), and more exact where e is subnormal
 * (rounded once, in the product, instead of twice). Softmax rows are of this form; logSoftmax and logSumExp,
 * which read log(s), are not. Dropping the multiply, the last of the exp's chain, and its constant made the
 * softmax 1024² kernel 4–7% faster (interleaved A/B, CPU time).
 */
export function scaledStash(stages: ReductionKernel['stages'], stores: readonly Store[], stash: Stash | null, reciprocal: number | null, storeValue: (s: Store) => ValueExpr): boolean {
  const last = stages.length - 1;
  const p = stages[last]?.prologue;
  if (!stash || reciprocal === null || stages[last]!.type !== 'sum' || p?.kind !== 'unary' || p.op !== 'exp') return false;
  const isAcc = (e: ValueExpr, stage: number) => e.kind === 'acc' && e.stage === stage;
  const onlyAsRatio = (e: ValueExpr): boolean => {
    if (e.kind === 'binary' && e.op === 'mul' && sameValue(e.a, stash.load) && isAcc(e.b, reciprocal)) return true;
    if (isAcc(e, last) || isAcc(e, reciprocal) || sameValue(e, stash.load) || sameValue(e, p)) return false;
    return operands(e).every(onlyAsRatio);
  };
  return stores.every((s) => onlyAsRatio(storeValue(s)));
}
