// check() and checkIsSize(): assertions about sizes that user code states once. Run eagerly they throw
// when false; traced, they become runtime asserts of the compiled code instead of guards — a size that
// breaks them raises an error rather than recompiling (PyTorch's torch._check).
import { CheckFailedError } from '@kiln/shapes';
import { KilnTypeError, Tensor } from '@kiln/tensor';

const what = (x: unknown) => (x instanceof Tensor ? `a Tensor (shape [${x.shape.join(', ')}])` : x === null ? 'null' : `${typeof x} ${String(x)}`);

/** A condition that is not a boolean is a mistake (a tensor, a size left uncompared), not a failed check. */
function checkCondition(api: string, cond: unknown, message: unknown): void {
  if (typeof cond !== 'boolean') {
    throw new KilnTypeError(
      `${api}: the condition must be a boolean, got ${what(cond)}`,
      cond instanceof Tensor ? 'reduce the tensor to a boolean first, e.g. check(t.all().item() === true), or compare its sizes' : 'pass a comparison, e.g. check(x.shape[0] > 0)',
    );
  }
  if (message !== undefined && typeof message !== 'string') {
    throw new KilnTypeError(`${api}: the message must be a string, got ${what(message)}`, 'pass the text to show when the check fails');
  }
}

/** Asserts `cond`; inside compiled code a condition on sizes becomes a runtime assert. */
export function check(cond: boolean, message?: string): void {
  checkCondition('check', cond, message);
  if (cond !== true) throw new CheckFailedError(message ?? String(cond), undefined, 'in eager code');
}

/** Asserts that `n` can be a size (an integer >= 0); traced, the symbol may then be reasoned about as one. */
export function checkIsSize(n: number): void {
  if (typeof n !== 'number') throw new KilnTypeError(`checkIsSize: expects a number, got ${what(n)}`, 'pass a size, e.g. checkIsSize(x.shape[0]) or checkIsSize(t.item())');
  if (!Number.isInteger(n) || n < 0) throw new CheckFailedError(`${n} >= 0`, undefined, 'in eager code');
}
