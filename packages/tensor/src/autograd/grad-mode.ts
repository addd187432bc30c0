// Whether ops record the tape. Process-wide like PyTorch's thread-local grad mode (JS runs one op at a time);
// every change is scoped to a callback and restored on exit, also after a throw.

let enabled = true;

export const isGradEnabled = (): boolean => enabled;

/** Runs `fn` with grad mode set to `on`, restoring the previous mode afterwards. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/** Runs `fn` without recording: its results have no history (`torch.no_grad()`). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/** Runs `fn` recording the tape, also inside `noGrad` (`torch.enable_grad()`). */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
