/// <reference types="@webgpu/types" />
// The WebGPU backend: core graph → lowered program → one WGSL shader per kernel → a program whose calls
// return device tensors at once (the work is queued). It uses only the public contract of @kiln/lower.
import type { Graph } from '@kiln/graph';
import { Interpreter } from '@kiln/graph';
import type { Backend, BackendAvailability, BackendCapabilities, BackendCompileContext, CompiledGraph, LoweredProgram } from '@kiln/lower';
import { LoweringError, backendPlugin, loweredOps, lowerForCodegen, printProgram, registerBackend } from '@kiln/lower';
import { kernelShader, WebGpuCodegenError } from './codegen/index.js';
import type { ShaderOptions, WgslKernel } from './codegen/index.js';
import type { GpuContext } from './runtime/device.js';
import { WebGpuProgram } from './runtime/program.js';
import { webgpuPersistence } from './runtime/persist.js';
import { initWebGpu } from './init.js';
import { WORKGROUP } from './codegen/shader.js';
import { holdsFloat64, hostTwins, onWebGpu } from './runtime/handoff.js';
import { handoffRunner } from './runtime/cpu-program.js';
import { Tensor } from '@kiln/tensor';

/** float32/int32/bool kernels (bools stored as one int32 each), no float64 (WGSL has none). */
export const WEBGPU_CAPABILITIES: BackendCapabilities = Object.freeze<BackendCapabilities>({
  device: 'webgpu',
  dtypes: ['float32', 'int32', 'bool'],
  float64: false,
  boolStorage: 'int32',
  // Loop indices are split from one flat index per axis; deeper nests than this are untested.
  maxDims: 64,
  maxThreads: WORKGROUP,
});

export interface WebGpuCompiled extends CompiledGraph {
  readonly program: WebGpuProgram;
  readonly shaders: readonly WgslKernel[];
}

type Shaders = Map<number, { kernel: WgslKernel; pipeline: Promise<GPUComputePipeline> }>;

/** Compiles a core graph for the GPU: calls return device tensors (see WebGpuProgram.launch). */
export function compileGraphForWebGpu(graph: Graph, gpu: GpuContext, ctx: BackendCompileContext = { capabilities: WEBGPU_CAPABILITIES, overrideLowering: () => undefined }): WebGpuCompiled {
  const t0 = performance.now();
  const { program: lowered, kernels, loweredMs } = lowerForWebGpu(graph, ctx, gpu.limits.maxStorageBuffersPerShaderStage, { flags: true, software: gpu.software });
  const shaders: Shaders = new Map([...kernels].map(([i, kernel]) => [i, { kernel, pipeline: quietly(gpu.pipeline(kernel.code)) }]));
  const eager = eagerRunner(() => graph);
  const program = new WebGpuProgram(lowered, gpu, shaders, eager);
  const onHost = handoff(graph, gpu, eager);
  const list = [...shaders.values()].map((s) => s.kernel);
  const wgsl = list.flatMap((k) => [`// WGSL of ${k.name}\n${k.code}`, ...(k.split?.passes ?? []).map((code, p) => `// WGSL of ${k.name}, split pass ${p} (few long rows)\n${code}`), ...(k.perRow ? [`// WGSL of ${k.name}, one row per invocation (short rows, software adapter)\n${k.perRow.code}`] : [])]);
  const compileMs = performance.now() - t0;
  return {
    program,
    shaders: list,
    run: (inputs) => onHost(inputs) ?? program.launch(inputs),
    report: {
      backend: 'webgpu',
      kernels: list.length,
      eagerSteps: lowered.steps.flatMap((s) => (s.kind === 'fallback' ? [{ op: s.op, ...(s.node ? { node: s.node } : {}), reason: s.reason }] : [])),
      ...(lowered.fusions ? { fusions: lowered.fusions } : {}),
      code: [printProgram(lowered), ...wgsl].join('\n\n'),
      generatedCode: () => wgsl.join('\n\n'),
      compileMs,
      phasesMs: { lower: loweredMs, wgsl: compileMs - loweredMs },
    },
  };
}

/**
 * Lowers a core graph for this code generator (a kernel it rejects sends its nodes to eager steps) and
 * generates each kernel's WGSL, keyed by step index. Needs no device: AOT compilation (@kiln/aot) uses it,
 * without `options.flags` (an AOT module has no eager kernels to recompute a flagged call with).
 */
export function lowerForWebGpu(
  graph: Graph,
  ctx: BackendCompileContext = { capabilities: WEBGPU_CAPABILITIES, overrideLowering: () => undefined },
  // Without a device (AOT), the limit every WebGPU device guarantees.
  maxStorageBuffers = SPEC_MIN_STORAGE_BUFFERS_PER_STAGE,
  options: ShaderOptions = {},
): { program: LoweredProgram; kernels: Map<number, WgslKernel>; loweredMs: number } {
  const { program, generated, loweredMs } = lowerForCodegen(graph, ctx, (_kernels, lowered) => generateShaders(lowered, maxStorageBuffers, options), rejection, 'WebGPU');
  return { program, kernels: generated, loweredMs };
}

/** WebGPU's default (and guaranteed minimum) maxStorageBuffersPerShaderStage. */
const SPEC_MIN_STORAGE_BUFFERS_PER_STAGE = 8;

function generateShaders(program: LoweredProgram, maxStorageBuffers: number, options: ShaderOptions): Map<number, WgslKernel> {
  const kernels = new Map<number, WgslKernel>();
  program.steps.forEach((step, i) => {
    if (step.kind !== 'kernel') return;
    let kernel = kernelShader(step.kernel, options);
    // A fused kernel reading more buffers than the device binds (a sum of 20 tensors on lavapipe's 16) is
    // refused here: its nodes then run as eager steps, rather than the pipeline failing at the call.
    const bindings = kernel.buffers.length + 1 + (kernel.flags ? 1 : 0);
    if (bindings > maxStorageBuffers) {
      throw new WebGpuCodegenError(kernel.name, `it binds ${bindings} storage buffers, more than the device's ${maxStorageBuffers}`);
    }
    // The split form of a reduction binds one more buffer (its partials); without room it runs whole.
    if (kernel.split && bindings + 1 > maxStorageBuffers) kernel = { ...kernel, split: undefined };
    kernels.set(i, kernel);
  });
  return kernels;
}

/** A pipeline that fails is reported by the call that awaits it, not as an unhandled rejection. */
function quietly<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

const rejection = (err: unknown) => (err instanceof WebGpuCodegenError ? { kernel: err.kernel, message: err.message } : undefined);

let context: GpuContext | undefined;

export const webgpuBackend: Backend = {
  name: 'webgpu',
  // Above the CPU backend: where a config or an import loads this backend and an adapter exists, `auto` runs
  // compiled code on the GPU (and returns webgpu tensors).
  priority: 200,
  capabilities: WEBGPU_CAPABILITIES,
  async init(): Promise<BackendAvailability> {
    const status = await initWebGpu();
    if (!status.ok) return { available: false, reason: status.reason };
    context = status.gpu;
    return { available: true };
  },
  compile(graph, ctx) {
    const t0 = performance.now();
    try {
      const compiled = compileGraphForWebGpu(graph, context!, ctx);
      if (compiled.program.launchable) return compiled;
      // Sizes that depend on data need a readback before the outputs exist, and calls are synchronous:
      // the interpreter runs such a graph (on the inputs' device), and the report says so.
      return interpreted(graph, 'its output sizes depend on the data (nonzero, item), which the GPU must read back first', t0);
    } catch (err) {
      if (!(err instanceof LoweringError)) throw err;
      return interpreted(graph, err.message, t0);
    }
  },
  loweredOps: () => loweredOps(),
  // A persistent compile cache keeps the lowered program and its WGSL (runtime/persist.ts).
  persist: webgpuPersistence(() => context, eagerRunner),
};

/**
 * The graph on the interpreter over CPU tensors (the eager kernels), made on first use: a flagged call's
 * recompute. `graph` is asked for only then (a program loaded from a persistent cache may never need it).
 */
function eagerRunner(graph: () => Graph): (inputs: readonly unknown[]) => unknown[] {
  let interpreter: Interpreter | undefined;
  return (inputs) => (interpreter ??= new Interpreter(graph())).run([...inputs]) as unknown[];
}

/**
 * The call on the CPU when its tensor inputs are small and on the host (runtime/handoff.ts), or undefined:
 * the CPU backend's compiled program, made on the first handoff (runtime/cpu-program.ts), else the eager
 * kernels. A graph holding a webgpu constant always runs on the device.
 */
function handoff(graph: Graph, gpu: GpuContext, interpreter: (inputs: readonly unknown[]) => unknown[]): (inputs: readonly unknown[]) => unknown[] | undefined {
  const deviceConstants = graph.nodes.some((n) => n.kind === 'constant' && n.args[0] instanceof Tensor && n.args[0].device !== 'cpu');
  if (deviceConstants) return () => undefined;
  const cpu = handoffRunner(graph, interpreter);
  return (inputs) => {
    const tensors = inputs.filter((x): x is Tensor => x instanceof Tensor);
    const twins = hostTwins(tensors);
    if (!twins) return undefined;
    let next = 0;
    const results = cpu.run(inputs.map((x) => (x instanceof Tensor ? twins[next++] : x)));
    if (holdsFloat64(results)) return undefined;
    gpu.stats.cpuCalls++;
    if (cpu.compiled) gpu.stats.cpuPrograms++;
    return onWebGpu(gpu, results, tensors, twins) as unknown[];
  };
}

function interpreted(graph: Graph, reason: string, t0: number): CompiledGraph {
  const interpreter = new Interpreter(graph);
  return {
    run: (inputs) => interpreter.run([...inputs]) as unknown[],
    report: { backend: 'webgpu', kernels: 0, eagerSteps: [], wholeGraphFallback: reason, compileMs: performance.now() - t0 },
  };
}

/** The backend as a config plugin (`plugins: ['@kiln/backend-webgpu']`): adds it to one compiler's hooks. */
export const webgpuBackendPlugin = backendPlugin(webgpuBackend);

/**
 * Registers the backend for every compiler of the process, as importing `@kiln/backend-cpu` does for the
 * CPU. Not done on import: a program that only wants eager webgpu tensors keeps compiling for the CPU.
 */
export function registerWebGpuBackend(): void {
  registerBackend(webgpuBackend);
}
