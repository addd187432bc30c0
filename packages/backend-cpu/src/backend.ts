// The CPU backend plugin: core graph → lowered program → one wasm module → a runner. It uses only the
// public backend contract of @kiln/lower. A kernel this code generator cannot emit sends the nodes it holds
// to their eager kernels as steps of the program (the rest stays fused), and the report says so.
import { availableParallelism } from 'node:os';
import type { Graph } from '@kiln/graph';
import { Interpreter, userFacingError } from '@kiln/graph';
import type { Backend, BackendAvailability, BackendCapabilities, BackendCompileContext, CompiledGraph, LoweredProgram } from '@kiln/lower';
import { LoweringError, backendPlugin, loweredOps, lowerForCodegen, printProgram, registerBackend } from '@kiln/lower';
import { ArenaOutOfMemoryError } from './runtime/arena.js';
import { cpuArena } from './runtime/process-arena.js';
import { wasmApi } from './runtime/wasm-api.js';
import { compileKernels } from './runtime/compile.js';
import type { CompiledModule } from './runtime/compile.js';
import { CpuCodegenError } from './codegen/kernels/errors.js';
import { ProgramRunner } from './runtime/program.js';
import { warnEagerFallback } from './runtime/eager-fallback.js';
import { reportExtras } from './runtime/report-extras.js';
import { cpuPersistence } from './runtime/persist.js';

/** The process's arena (runtime/process-arena.ts), made at the first compile. */
const arena = cpuArena;

/** What lowering may hand this code generator: wasm32 SIMD float32/int32, bools as bytes, no float64 math. */
export const CPU_CAPABILITIES: BackendCapabilities = Object.freeze<BackendCapabilities>({
  device: 'cpu',
  dtypes: ['float32', 'int32', 'bool'],
  float64: false,
  boolStorage: 'uint8',
  // Codegen has no rank limit (strides are kernel parameters); deeper nests than this are untested.
  maxDims: 64,
  maxThreads: availableParallelism(),
});

// The smallest module with a SIMD instruction (a function returning v128.const 0): validates only where the
// engine has wasm SIMD, which every kernel of this backend uses.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);

function initCpu(): BackendAvailability {
  if (typeof wasmApi !== 'object') return { available: false, reason: 'this engine has no WebAssembly' };
  if (!wasmApi.validate(SIMD_PROBE)) return { available: false, reason: 'this engine has no WebAssembly SIMD (v128)' };
  return { available: true };
}

/** Lowers and generates code; a kernel codegen rejects sends its nodes to eager and the graph is lowered again. */
function lowerAndGenerate(graph: Graph, ctx: BackendCompileContext): { program: LoweredProgram; module: CompiledModule; loweredMs: number } {
  const rejected = (err: unknown) => (err instanceof CpuCodegenError ? { kernel: err.kernel, message: err.message } : undefined);
  const { program, generated, loweredMs } = lowerForCodegen(graph, ctx, (kernels) => compileKernels(kernels, arena()), rejected, 'CPU');
  return { program, module: generated, loweredMs };
}

export function compileGraphForCpu(graph: Graph, ctx: BackendCompileContext = { capabilities: CPU_CAPABILITIES, overrideLowering: () => undefined }): CompiledGraph & { runner?: ProgramRunner } {
  const t0 = performance.now();
  let lowered;
  try {
    lowered = lowerAndGenerate(graph, ctx);
  } catch (err) {
    // A graph whose structure lowering cannot express (a multi-output eager node, a runtime assert no step
    // can place): the interpreter runs it whole — correct, slower, and said in the report.
    if (!(err instanceof LoweringError)) throw err;
    return wholeGraphOnInterpreter(graph, err.message, t0);
  }
  const { program, module, loweredMs } = lowered;
  // The runner calls the eager kernels for calls its kernels cannot serve: flagged inputs (sin/cos beyond
  // their exact range, float32 sums that overflow; codegen/imprecise.ts), buffers the arena cannot hold,
  // sizes past the int32 range of the kernels.
  let runner: ProgramRunner;
  try {
    runner = new ProgramRunner(program, module, arena(), eagerRunner(() => graph));
  } catch (err) {
    // Captured constants too large for the arena: the graph runs on the interpreter, in JS memory.
    if (!(err instanceof ArenaOutOfMemoryError)) throw err;
    warnEagerFallback(`${err.message.split('\n')[0]}; this graph's captured constants do not fit, so it runs with the eager kernels`);
    return wholeGraphOnInterpreter(graph, err.message, t0);
  }
  const compileMs = performance.now() - t0;
  let code: string | undefined;
  return {
    run: (inputs) => runner.run(inputs),
    runner,
    timeSteps: () => runner.timeSteps(),
    report: {
      backend: 'cpu',
      kernels: program.steps.filter((s) => s.kind === 'kernel').length,
      eagerSteps: program.steps.flatMap((s) => (s.kind === 'fallback' ? [{ op: s.op, ...(s.node ? { node: s.node } : {}), reason: s.reason }] : [])),
      ...(program.fusions ? { fusions: program.fusions } : {}),
      // printed when read (explain, reports, logs, a persistent cache): a plain compile never reads it, and
      // the printer's first run in a process is about a millisecond
      get code() {
        return (code ??= printProgram(program));
      },
      ...reportExtras(() => graph, program, module, runner),
      compileMs,
      phasesMs: { lower: loweredMs, wasm: compileMs - loweredMs },
    },
  };
}

/**
 * The graph on the interpreter, made on first use: the eager kernels, raising what eager code raises (the
 * op's own error, with the node's user line on top of its stack). `graph` is asked for only then: a program
 * loaded from a persistent cache may never need the graph it was compiled from.
 */
function eagerRunner(graph: () => Graph): (inputs: readonly unknown[]) => unknown[] {
  let interpreter: Interpreter | undefined;
  return (inputs) => {
    try {
      return (interpreter ??= new Interpreter(graph())).run([...inputs]) as unknown[];
    } catch (err) {
      throw userFacingError(err);
    }
  };
}

/** A graph this backend cannot run as a program: the interpreter runs it — correct, slower, and said in the report. */
function wholeGraphOnInterpreter(graph: Graph, reason: string, t0: number): CompiledGraph {
  return {
    run: eagerRunner(() => graph),
    report: { backend: 'cpu', kernels: 0, eagerSteps: [], wholeGraphFallback: reason, compileMs: performance.now() - t0 },
  };
}

export const cpuBackend: Backend = {
  name: 'cpu',
  priority: 100,
  capabilities: CPU_CAPABILITIES,
  init: initCpu,
  compile: compileGraphForCpu,
  loweredOps: () => loweredOps(),
  persist: cpuPersistence(arena, eagerRunner),
};

// Importing the package registers the backend for every compiler, so `auto` finds it.
registerBackend(cpuBackend);

/** The same backend as a config plugin (`plugins: ['@kiln/backend-cpu']`): adds it to one compiler's hooks. */
export const cpuBackendPlugin = backendPlugin(cpuBackend);
