// Lowering for a code generator that may reject a kernel: the nodes of a rejected kernel are lowered again as
// eager steps of the program (the rest stays fused), until every kernel is accepted. Shared by backends so
// that none of them sends a whole graph to the interpreter for one kernel it cannot emit.
import type { Graph } from '@kiln/graph';
import type { BackendCompileContext } from '../backend/contract.js';
import type { Kernel } from '../loop-ir/loop-ir.js';
import { lowerGraph } from '../lowering/lower-graph.js';
import type { LoweredProgram } from './program.js';

export interface CodegenRejection {
  /** The kernel's name in the program. */
  readonly kernel: string;
  readonly message: string;
}

/**
 * Lowers `graph`, hands its kernels to `generate`, and retries with the rejected kernel's nodes as eager
 * steps when `rejected(err)` recognizes the error (any other error propagates). `who` names the code
 * generator in the eager steps' reason.
 */
export function lowerForCodegen<T>(
  graph: Graph,
  ctx: BackendCompileContext,
  generate: (kernels: Kernel[], program: LoweredProgram) => T,
  rejected: (err: unknown) => CodegenRejection | undefined,
  who: string,
): { program: LoweredProgram; generated: T; loweredMs: number } {
  const eagerNodes = new Map<string, string>();
  for (;;) {
    const t0 = performance.now();
    const program = lowerGraph(graph, { capabilities: ctx.capabilities, overrideLowering: ctx.overrideLowering, eagerNodes });
    const loweredMs = performance.now() - t0;
    const kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
    try {
      return { program, generated: generate(kernels, program), loweredMs };
    } catch (err) {
      const rejection = rejected(err);
      if (!rejection) throw err;
      const nodes = [...(program.kernelNodes?.get(rejection.kernel) ?? [])].filter((n) => !eagerNodes.has(n));
      // Every node of the kernel already eager would loop forever: a lowering bug, not a user's problem.
      if (nodes.length === 0) throw err;
      const reason = `the ${who} code generator cannot emit its kernel (${rejection.message.split('\n')[0]})`;
      for (const n of nodes) eagerNodes.set(n, reason);
    }
  }
}
