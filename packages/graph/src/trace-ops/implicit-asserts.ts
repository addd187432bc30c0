// A data-dependent size used as a size must be >= 0 (PyTorch adds the same implicit runtime assert). Eager
// kernels reject a negative size (`zeros([-3])`), but compiled code would allocate and loop with it, so the
// recorder asserts it on every op result sized by an unbacked symbol whose range does not already exclude
// negatives (nonzero's row count does; item()'s value does not). The assert is checked where the symbol is
// bound, before anything sized by it runs (ir/asserts.ts).
import type { ShapeEnv, SymInt } from '@kiln/shapes';
import { expr as shapesExpr, isSymInt } from '@kiln/shapes';
import { Tensor } from '@kiln/tensor';

export function assertSizesNonNegative(env: ShapeEnv, op: string, result: unknown): void {
  const tensors = result instanceof Tensor ? [result] : Array.isArray(result) ? result.filter((r): r is Tensor => r instanceof Tensor) : [];
  for (const t of tensors) {
    for (const size of t.shape as readonly unknown[]) {
      if (!isSymInt(size)) continue;
      const sym = size as SymInt;
      const unbacked = [...shapesExpr.freeSymbols(sym.expr)].some((s) => env.symbolInfo(s)?.kind === 'unbacked');
      if (!unbacked) continue;
      const nonNegative = sym.ge(0);
      if (typeof nonNegative === 'boolean' || env.staticallyKnownTrue(nonNegative)) continue;
      env.check(nonNegative, `${op}() uses the data-dependent size ${String(sym)} as a size, so it must be >= 0`);
    }
  }
}
