// What a handed-off compiled call (runtime/handoff.ts) runs: the graph as the CPU backend's compiled
// program (fused wasm kernels), made on the first handoff and kept with the webgpu program, so a tiny cached
// call costs what a CPU compiled call costs rather than one interpreted eager op per node. The CPU backend is
// the one registered for the process (importing `kiln` or `@kiln/backend-cpu` registers it); this package
// does not depend on it. Without it, or where it refuses the graph, the call runs on the graph interpreter
// (the eager kernels), as before: slower, never wrong.
import type { Graph } from '@kiln/graph';
import type { CompiledGraph } from '@kiln/lower';
import { registeredBackends } from '@kiln/lower';
import { KilnError } from '@kiln/tensor';

type Runner = (inputs: readonly unknown[]) => unknown[];

/** Runs a graph's handed-off calls; `compiled` says whether they run the CPU program (known after the first call). */
export interface HandoffRunner {
  run(inputs: readonly unknown[]): unknown[];
  readonly compiled: boolean;
}

/** The CPU program for the graph's handed-off calls, made on the first call, or `interpreter` where none can be made. */
export function handoffRunner(graph: Graph, interpreter: Runner): HandoffRunner {
  let program: CompiledGraph | undefined;
  let made = false;
  return {
    run(inputs) {
      if (!made) {
        program = cpuProgram(graph);
        made = true;
      }
      return program ? program.run(inputs) : interpreter(inputs);
    },
    get compiled() {
      return program !== undefined;
    },
  };
}

/** The CPU backend's compiled program for the graph, or undefined (no CPU backend, or it runs the graph whole on its interpreter). */
function cpuProgram(graph: Graph): CompiledGraph | undefined {
  const cpu = registeredBackends().find((b) => b.name === 'cpu' && b.capabilities.device === 'cpu');
  const availability = cpu?.init?.();
  if (!cpu || availability instanceof Promise || availability?.available === false) return undefined;
  try {
    // No plugin per-op lowerings: those were given for the webgpu backend. A node the CPU's lowering table
    // lacks runs as an eager step of the program (its eager kernel, the reference).
    const compiled = cpu.compile(graph, { capabilities: cpu.capabilities, overrideLowering: () => undefined });
    return compiled.report.wholeGraphFallback === undefined ? compiled : undefined;
  } catch (err) {
    // A graph the CPU backend refuses (a typed Kiln error) runs on the interpreter; anything else is a bug.
    if (err instanceof KilnError) return undefined;
    throw err;
  }
}
