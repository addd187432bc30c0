// The memory plan of a lowered program, for any device: which buffers each step allocates before it runs
// and which are dead after it (liveness), so a runner reuses memory within one call.
import type { LoweredProgram } from './program.js';

/** Per step index: buffers to allocate just before it, and buffers to release right after it. */
export interface MemoryPlan {
  readonly allocBefore: string[][];
  readonly freeAfter: string[][];
}

/**
 * Liveness: an intermediate buffer lives from the step that writes it to its last reader, so later
 * kernels reuse its memory (the arena's free list). Inputs, constants and outputs are never freed early.
 */
export function planMemory(program: LoweredProgram): MemoryPlan {
  const pinned = new Set(program.outputs.flatMap((o) => (o.kind === 'tensor' ? [o.buffer] : [])));
  for (const b of program.buffers) if (b.input !== undefined || (b as { constant?: unknown }).constant) pinned.add(b.name);
  const allocBefore = program.steps.map(() => [] as string[]);
  const freeAfter = program.steps.map(() => [] as string[]);
  const written = new Set<string>();
  program.steps.forEach((step, i) => {
    // A fallback allocates its own output once the result (and any size it determines) is known.
    const writes = step.kind === 'kernel' ? step.kernel.outputs.map((o) => o.name) : step.kind === 'fallback' && step.output ? [step.output.buffer] : [];
    for (const name of writes) {
      if (written.has(name) || program.buffers.find((b) => b.name === name)?.input !== undefined) continue;
      written.add(name);
      if (step.kind === 'kernel') allocBefore[i]!.push(name);
      if (!pinned.has(name)) freeAfter[Math.max(i, program.lastUse.get(name) ?? i)]!.push(name);
    }
  });
  return { allocBefore, freeAfter };
}

