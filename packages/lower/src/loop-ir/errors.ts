/** A malformed loop-IR kernel. `kernel` names it; `hint` says what the producer (lowering) should fix. */
export class LoopIRError extends Error {
  override readonly name = 'LoopIRError';
  constructor(
    readonly kernel: string,
    message: string,
    readonly hint?: string,
  ) {
    super(`kernel ${kernel}: ${message}${hint ? `\n  hint: ${hint}` : ''}`);
  }
}
