// What a persistent compile cache keeps of a CPU compile: the lowered program, the generated wasm bytes and
// each kernel's calling convention. A later process instantiates the bytes and binds the same program to its
// arena, skipping lowering and code generation. Only data survives a structured clone, so a program that
// holds anything else (a captured constant tensor, a graph node of an eager step) is not kept at all: the
// cache then compiles it afresh, never runs a half-restored program.
import type { BackendPersistence, BackendReport, CompiledGraph, LoweredProgram } from '@kiln/lower';
import { codeStamp } from '@kiln/lower';
import type { Graph } from '@kiln/graph';
import { Tensor } from '@kiln/tensor';
import type { DType, TypedArray } from '@kiln/tensor';
import type { Arena } from './arena.js';
import { instantiateKernels } from './compile.js';
import type { CompiledModule, EmittedKernel } from './compile.js';
import { ProgramRunner } from './program.js';
import type { EagerRun } from './eager-fallback.js';
import { plainReport, reportExtras } from './report-extras.js';

interface SavedCpuProgram {
  readonly format: 1;
  readonly program: LoweredProgram;
  readonly emitted: readonly EmittedKernel[];
  readonly wasm: Uint8Array;
  readonly setsImpreciseFlag: boolean;
  readonly report: BackendReport;
}

const PLAIN_PROTOTYPES = new Set<unknown>([Object.prototype, Array.prototype, null, Map.prototype, Set.prototype, Uint8Array.prototype]);

/** Whether `value` is made only of what a structured clone copies faithfully (no class instances, no functions). */
export function isPlainData(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || value === undefined) return true;
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object') return true;
  if (seen.has(value)) return true;
  seen.add(value);
  if (!PLAIN_PROTOTYPES.has(Object.getPrototypeOf(value))) return false;
  if (value instanceof Uint8Array) return true;
  if (value instanceof Map) return [...value].every(([k, v]) => isPlainData(k, seen) && isPlainData(v, seen));
  if (value instanceof Set) return [...value].every((v) => isPlainData(v, seen));
  if (Object.getOwnPropertySymbols(value).length) return false;
  for (const key of Object.keys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if (d.get || d.set || !isPlainData(d.value, seen)) return false;
  }
  return true;
}

/** A captured constant (a buffer's `constant` tensor) as data: dtype, shape and its bytes. */
interface SavedConstant {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

type Buffer = LoweredProgram['buffers'][number];

function saveConstants(program: LoweredProgram): LoweredProgram {
  const buffers = program.buffers.map((b): Buffer => {
    const constant = (b as { constant?: unknown }).constant;
    if (!(constant instanceof Tensor)) return b;
    const data = constant.toTypedArray();
    const saved: SavedConstant = { dtype: constant.dtype, shape: [...constant.shape], bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
    return { ...b, constant: undefined, savedConstant: saved } as Buffer;
  });
  return { ...program, buffers };
}

const TYPED: Partial<Record<DType, (b: ArrayBuffer) => TypedArray>> = {
  float32: (b) => new Float32Array(b),
  int32: (b) => new Int32Array(b),
  bool: (b) => new Uint8Array(b),
};

function loadConstants(program: LoweredProgram): LoweredProgram | undefined {
  let ok = true;
  const buffers = program.buffers.map((b): Buffer => {
    const saved = (b as { savedConstant?: SavedConstant }).savedConstant;
    if (!saved) return b;
    const typed = TYPED[saved.dtype];
    if (!typed) return (ok = false), b;
    const { savedConstant: _s, ...rest } = b as Buffer & { savedConstant?: SavedConstant };
    return { ...rest, constant: Tensor.fromData(typed(saved.bytes.slice().buffer), saved.shape, saved.dtype) } as Buffer;
  });
  return ok ? { ...program, buffers } : undefined;
}

function isSaved(x: unknown): x is SavedCpuProgram {
  const s = x as SavedCpuProgram;
  return typeof s === 'object' && s !== null && s.format === 1 && s.wasm instanceof Uint8Array && Array.isArray(s.emitted) && typeof s.program === 'object';
}

/**
 * @param arena the process's arena
 * @param eagerRunner the graph on the interpreter (for calls the kernels hand back to eager code)
 */
export function cpuPersistence(arena: () => Arena, eagerRunner: (graph: Graph) => EagerRun): BackendPersistence {
  return {
    // The whole package (codegen and runtime): this file's folder is runtime/, its parent the package's code.
    stamp: () => codeStamp(new URL('../index.js', import.meta.url).href),
    save(compiled: CompiledGraph): unknown {
      const runner = (compiled as { runner?: ProgramRunner }).runner;
      if (!runner) return undefined;
      const module: CompiledModule = runner.module;
      const saved: SavedCpuProgram = { format: 1, program: saveConstants(runner.program), emitted: module.emitted, wasm: module.wasm, setsImpreciseFlag: module.setsImpreciseFlag, report: plainReport(compiled.report) };
      return isPlainData(saved) ? saved : undefined;
    },
    load(saved: unknown, graph: Graph): CompiledGraph | undefined {
      if (!isSaved(saved)) return undefined;
      const program = loadConstants(saved.program);
      if (!program) return undefined;
      const t0 = performance.now();
      const kernels = instantiateKernels(saved.emitted, saved.wasm, arena());
      const module: CompiledModule = { kernels, wasm: saved.wasm, emitted: saved.emitted, timings: { codegenMs: 0, wasmCompileMs: performance.now() - t0 }, setsImpreciseFlag: saved.setsImpreciseFlag };
      const runner = new ProgramRunner(program, module, arena(), eagerRunner(graph));
      const loadMs = performance.now() - t0;
      const report = { ...saved.report, ...reportExtras(graph, program, module, runner), compileMs: loadMs, phasesMs: { load: loadMs } };
      return { run: (inputs) => runner.run(inputs), runner, timeSteps: () => runner.timeSteps(), report } as CompiledGraph;
    },
  };
}
