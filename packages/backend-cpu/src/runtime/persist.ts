// What a persistent compile cache keeps of a CPU compile: the lowered program, the generated wasm bytes and
// each kernel's calling convention. A later process instantiates the bytes and binds the same program to its
// arena, skipping lowering and code generation. The program travels as data (@kiln/lower's programToData):
// one that holds anything else is not kept at all.
import type { BackendPersistence, BackendReport, CompiledGraph, LoweredProgram } from '@kiln/lower';
import { isPlainData, kilnCodeStamp, programFromData, programToData } from '@kiln/lower';
import type { Graph } from '@kiln/graph';
import type { Arena } from './arena.js';
import { instantiateKernels } from './compile.js';
import { matmulBlockingFor } from './matmul-autotune.js';
import type { CompiledModule, EmittedKernel } from './compile.js';
import { ProgramRunner } from './program.js';
import type { EagerRun } from './eager-fallback.js';
import { plainReport, reportExtras } from './report-extras.js';

interface SavedCpuProgram {
  /**
   * 2: each emitted kernel holds its size checks (format 1 made a loaded program walk every kernel for them).
   * 3: the products' blocking is kept, and a load whose blocking this process would not choose is a miss.
   */
  readonly format: 3;
  readonly program: LoweredProgram;
  readonly emitted: readonly EmittedKernel[];
  readonly wasm: Uint8Array;
  readonly setsImpreciseFlag: boolean;
  readonly report: BackendReport;
  /** JSON of the products' blocking; absent when the program has no product. */
  readonly matmulBlocking?: string;
}

function isSaved(x: unknown): x is SavedCpuProgram {
  const s = x as SavedCpuProgram;
  return typeof s === 'object' && s !== null && s.format === 3 && s.wasm instanceof Uint8Array && Array.isArray(s.emitted) && s.emitted.every((e) => typeof e?.sizeCheck === 'object') && typeof s.program === 'object';
}

/**
 * @param arena the process's arena
 * @param eagerRunner the graph on the interpreter (for calls the kernels hand back to eager code), made on its first run
 */
export function cpuPersistence(arena: () => Arena, eagerRunner: (graph: () => Graph) => EagerRun): BackendPersistence {
  return {
    // The whole package (codegen and runtime): this file's folder is runtime/, its parent the package's code.
    // Built, it is part of Kiln's stamped build (kilnCodeStamp): no file is read for it.
    stamp: () => kilnCodeStamp(new URL('../index.js', import.meta.url).href),
    save(compiled: CompiledGraph): unknown {
      const runner = (compiled as { runner?: ProgramRunner }).runner;
      if (!runner) return undefined;
      const module: CompiledModule = runner.module;
      const saved: SavedCpuProgram = {
        format: 3, program: programToData(runner.program), emitted: module.emitted, wasm: module.wasm, setsImpreciseFlag: module.setsImpreciseFlag, report: plainReport(compiled.report),
        ...(module.matmulBlocking ? { matmulBlocking: JSON.stringify(module.matmulBlocking) } : {}),
      };
      return isPlainData(saved) ? saved : undefined;
    },
    load(saved: unknown, graph: () => Graph): CompiledGraph | undefined {
      if (!isSaved(saved)) return undefined;
      // The blocking is not in the key (the key is made before compiling, and the blocking can change when
      // the machine tunes or KILN_MATMUL_AUTOTUNE changes): an entry built with another blocking is a miss.
      const blocking = matmulBlockingFor(saved.emitted.map((e) => e.kernel));
      if ((blocking ? JSON.stringify(blocking) : undefined) !== saved.matmulBlocking) return undefined;
      const program = programFromData(saved.program);
      if (!program) return undefined;
      const t0 = performance.now();
      const kernels = instantiateKernels(saved.emitted, saved.wasm, arena());
      const module: CompiledModule = {
        kernels, wasm: saved.wasm, emitted: saved.emitted, timings: { codegenMs: 0, wasmCompileMs: performance.now() - t0 }, setsImpreciseFlag: saved.setsImpreciseFlag,
        ...(blocking ? { matmulBlocking: blocking } : {}),
      };
      const runner = new ProgramRunner(program, module, arena(), eagerRunner(graph));
      const loadMs = performance.now() - t0;
      const report = { ...saved.report, ...reportExtras(graph, program, module, runner), compileMs: loadMs, phasesMs: { load: loadMs } };
      return { run: (inputs) => runner.run(inputs), runner, timeSteps: () => runner.timeSteps(), report } as CompiledGraph;
    },
  };
}
