/// <reference types="@webgpu/types" />
// What a persistent compile cache keeps of a WebGPU compile: the lowered program and each kernel's WGSL and
// layout (bindings, dispatch sizes, split and per-row forms). A later process skips lowering and WGSL
// generation; it still asks the device for each pipeline (WebGPU has no way to save a compiled one), which
// the device does asynchronously while the call is recorded. The WGSL depends on the device's binding limit
// and on whether the adapter is a software one, so both are in the stamp and thus in the key.
import type { Graph } from '@kiln/graph';
import type { BackendPersistence, BackendReport, CompiledGraph, LoweredProgram } from '@kiln/lower';
import { codeStamp, isPlainData, programFromData, programToData } from '@kiln/lower';
import type { WgslKernel } from '../codegen/index.js';
import type { GpuContext } from './device.js';
import { WebGpuProgram } from './program.js';

interface SavedWebGpuProgram {
  readonly format: 1;
  readonly program: LoweredProgram;
  /** Each kernel step's index in `program.steps`, with its shader. */
  readonly kernels: readonly (readonly [number, WgslKernel])[];
  readonly report: Omit<BackendReport, 'generatedCode'>;
  readonly wgsl: string;
}

/** What compileGraphForWebGpu returns (backend.ts), as far as a save needs it. */
interface WebGpuCompiledParts extends CompiledGraph {
  readonly program?: unknown;
  readonly shaders?: readonly WgslKernel[];
}

function isSaved(x: unknown): x is SavedWebGpuProgram {
  const s = x as SavedWebGpuProgram;
  return typeof s === 'object' && s !== null && s.format === 1 && Array.isArray(s.kernels) && typeof s.program === 'object' && typeof s.wgsl === 'string';
}

/**
 * @param context the process's device once the backend is initialized
 * @param eagerRunner the graph on the eager kernels (a flagged call's recompute)
 */
export function webgpuPersistence(context: () => GpuContext | undefined, eagerRunner: (graph: () => Graph) => (inputs: readonly unknown[]) => unknown[]): BackendPersistence {
  const code = codeStamp(new URL('../index.js', import.meta.url).href);
  return {
    stamp: () => {
      const gpu = context();
      return gpu ? `${code}|bindings ${gpu.limits.maxStorageBuffersPerShaderStage}|${gpu.software ? 'software' : 'hardware'}` : `${code}|no device`;
    },
    save(compiled: WebGpuCompiledParts): unknown {
      // A graph the interpreter runs (sizes that depend on data) has no program to keep.
      if (!(compiled.program instanceof WebGpuProgram) || !compiled.shaders) return undefined;
      const lowered = compiled.program.program;
      // Every kernel step has its shader, in step order (backend.ts generateShaders).
      const steps = lowered.steps.flatMap((s, i) => (s.kind === 'kernel' ? [i] : []));
      if (steps.length !== compiled.shaders.length) return undefined;
      const { generatedCode, ...report } = compiled.report;
      const saved: SavedWebGpuProgram = {
        format: 1,
        program: programToData(lowered),
        kernels: steps.map((i, n) => [i, compiled.shaders![n]!] as const),
        report,
        wgsl: generatedCode?.() ?? '',
      };
      return isPlainData(saved) ? saved : undefined;
    },
    load(saved: unknown, graph: () => Graph): CompiledGraph | undefined {
      const gpu = context();
      if (!gpu || !isSaved(saved)) return undefined;
      const lowered = programFromData(saved.program);
      if (!lowered) return undefined;
      const t0 = performance.now();
      const shaders = new Map(saved.kernels.map(([i, kernel]) => {
        const pipeline = gpu.pipeline(kernel.code);
        // A pipeline that fails is reported by the call that awaits it, not as an unhandled rejection.
        pipeline.catch(() => {});
        return [i, { kernel, pipeline }] as const;
      }));
      const program = new WebGpuProgram(lowered, gpu, shaders, eagerRunner(graph));
      if (!program.launchable) return undefined;
      const loadMs = performance.now() - t0;
      const report: BackendReport = { ...saved.report, generatedCode: () => saved.wgsl, compileMs: loadMs, phasesMs: { load: loadMs } };
      return { program, shaders: saved.kernels.map(([, k]) => k), run: (inputs) => program.launch(inputs), report } as CompiledGraph;
    },
  };
}
