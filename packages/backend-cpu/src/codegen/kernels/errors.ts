/** The CPU backend cannot generate code for a (valid) loop-IR kernel. Lowering should fall back to eager. */
export class CpuCodegenError extends Error {
  override readonly name = 'CpuCodegenError';
  constructor(
    readonly kernel: string,
    message: string,
    readonly hint = 'run this node with its eager kernel',
  ) {
    super(`backend-cpu, kernel ${kernel}: ${message}\n  hint: ${hint}`);
  }
}
