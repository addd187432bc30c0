// The CPU backend plugin: core graph → lowered program → one wasm module → a runner. Graphs that cannot
// be lowered as a whole (multi-output fallbacks, a runtime assert no step can place) run on the interpreter instead,
// and the report says so.
import type { Backend, CompiledGraph, KilnPlugin } from '@kiln/core';
import type { Graph } from '@kiln/graph';
import { HOOK_STAGES, registerBackend } from '@kiln/core';
import { Interpreter } from '@kiln/graph';
import { LoweringError, loweredOps, lowerGraph, printProgram } from '@kiln/lower';
import { Arena } from './runtime/arena.js';
import { compileKernels } from './runtime/compile.js';
import { CpuCodegenError } from './codegen/kernels/errors.js';
import { ProgramRunner } from './runtime/program.js';

/**
 * One arena for every program of the process: buffers of one call are freed before the next; resident
 * outputs stay until their tensors are garbage-collected, and any program reads them without a copy.
 */
let sharedArena: Arena | undefined;
const arena = () => (sharedArena ??= new Arena());
/** The process's arena (e.g. for `residentPool(cpuArena())` figures). */
export const cpuArena = (): Arena => arena();

export function compileGraphForCpu(graph: Graph): CompiledGraph & { runner?: ProgramRunner } {
  const t0 = performance.now();
  let program;
  let module;
  let kernels;
  let lowered = t0;
  let built = t0;
  try {
    program = lowerGraph(graph);
    lowered = performance.now();
    kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
    module = compileKernels(kernels, arena());
    built = performance.now();
  } catch (err) {
    // A graph lowering cannot express, or a kernel this code generator does not support (a dtype, an op):
    // the whole graph runs on the interpreter — correct, slower, and said in the report.
    if (!(err instanceof LoweringError) && !(err instanceof CpuCodegenError)) throw err;
    const interpreter = new Interpreter(graph);
    return {
      run: (inputs) => interpreter.run(inputs) as unknown[],
      report: { backend: 'cpu', kernels: 0, fallbacks: [], wholeGraphFallback: err.message, compileMs: performance.now() - t0 },
    };
  }
  // Kernels may flag a call for the eager kernels (codegen/imprecise.ts): sin/cos beyond their exact range,
  // float32 sums and products that overflow. Codegen knows whether any kernel can.
  let interpreter: Interpreter | undefined;
  const recompute = module.setsImpreciseFlag ? (inputs: readonly unknown[]) => (interpreter ??= new Interpreter(graph)).run([...inputs]) as unknown[] : undefined;
  const runner = new ProgramRunner(program, module, arena(), recompute);
  return {
    run: (inputs) => runner.run(inputs),
    runner,
    report: {
      backend: 'cpu',
      kernels: kernels.length,
      fallbacks: program.steps.flatMap((s) => (s.kind === 'fallback' ? [{ op: s.op, reason: s.reason }] : [])),
      code: printProgram(program),
      compileMs: performance.now() - t0,
      phasesMs: { lower: lowered - t0, wasm: built - lowered },
    },
  };
}

export const cpuBackend: Backend = { name: 'cpu', compile: compileGraphForCpu, loweredOps };

// Importing the package registers the backend, so `compile()`'s default backend (`auto`) finds it.
registerBackend(cpuBackend);

/**
 * The same backend as a plugin for a compiler's hooks (`plugins: ['@kiln/backend-cpu']` in kiln.config):
 * it answers `hooks.backendCompile.for('cpu')` like any third-party backend would.
 */
export const cpuBackendPlugin: KilnPlugin = {
  name: 'kiln:backend-cpu',
  apply(compiler) {
    compiler.hooks.backendCompile.for('cpu').tap({ name: 'kiln:backend-cpu', stage: HOOK_STAGES.builtin }, (graph) => {
      const compiled = compileGraphForCpu(graph);
      return Object.assign((inputs: unknown[]) => compiled.run(inputs), { report: compiled.report });
    });
  },
};
