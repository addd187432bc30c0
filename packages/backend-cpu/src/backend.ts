// The CPU backend plugin: core graph → lowered program → one wasm module → a runner. Graphs that cannot
// be lowered as a whole (multi-output fallbacks, a runtime assert no step can place) run on the interpreter instead,
// and the report says so.
import type { Backend, CompiledGraph, KilnPlugin } from '@kiln/core';
import type { Graph } from '@kiln/graph';
import { HOOK_STAGES, registerBackend } from '@kiln/core';
import { Interpreter, userFacingError } from '@kiln/graph';
import { LoweringError, loweredOps, lowerGraph, printProgram } from '@kiln/lower';
import { Arena, ArenaOutOfMemoryError } from './runtime/arena.js';
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

/**
 * The graph on the interpreter, made on first use: the eager kernels, raising what eager code raises (the
 * op's own error, with the node's user line on top of its stack).
 */
function eagerRunner(graph: Graph): (inputs: readonly unknown[]) => unknown[] {
  let interpreter: Interpreter | undefined;
  return (inputs) => {
    try {
      return (interpreter ??= new Interpreter(graph)).run([...inputs]) as unknown[];
    } catch (err) {
      throw userFacingError(err);
    }
  };
}

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
    return wholeGraphOnInterpreter(graph, err.message, t0);
  }
  // The runner calls the eager kernels for calls its kernels cannot serve: flagged inputs (sin/cos beyond
  // their exact range, float32 sums that overflow; codegen/imprecise.ts), buffers the arena cannot hold,
  // sizes past the int32 range of the kernels.
  let runner: ProgramRunner;
  try {
    runner = new ProgramRunner(program, module, arena(), eagerRunner(graph));
  } catch (err) {
    // Captured constants too large for the arena: the graph runs on the interpreter, in JS memory.
    if (!(err instanceof ArenaOutOfMemoryError)) throw err;
    return wholeGraphOnInterpreter(graph, err.message, t0);
  }
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

/** A graph this backend cannot run as a program: the interpreter runs it — correct, slower, and said in the report. */
function wholeGraphOnInterpreter(graph: Graph, reason: string, t0: number): CompiledGraph {
  return {
    run: eagerRunner(graph),
    report: { backend: 'cpu', kernels: 0, fallbacks: [], wholeGraphFallback: reason, compileMs: performance.now() - t0 },
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
