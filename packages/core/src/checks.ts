// check() and checkIsSize(): assertions about sizes that user code states once. Run eagerly they throw
// when false; traced, they become runtime asserts of the compiled code instead of guards — a size that
// breaks them raises an error rather than recompiling (PyTorch's torch._check).
import { CheckFailedError } from '@kiln/shapes';

/** Asserts `cond`; inside compiled code a condition on sizes becomes a runtime assert. */
export function check(cond: boolean, message?: string): void {
  if (cond !== true) throw new CheckFailedError(message ?? String(cond), undefined, 'in eager code');
}

/** Asserts that `n` can be a size (an integer >= 0); traced, the symbol may then be reasoned about as one. */
export function checkIsSize(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new CheckFailedError(`${n} >= 0`, undefined, 'in eager code');
}
