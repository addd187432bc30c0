/// <reference types="@webgpu/types" />
import { BufferPool } from './pool.js';
// The GPU device: found once per process through the `webgpu` package (Dawn's Node bindings) or the
// browser's `navigator.gpu`, with the reason when there is none. Pipelines are cached by shader text, so
// every program and eager op that generates the same kernel shares one pipeline.

export interface GpuContext {
  readonly device: GPUDevice;
  /** What the adapter says it is (vendor, architecture, device), for explain and the bench. */
  readonly description: string;
  /**
   * Whether the adapter runs shaders on the CPU (Mesa's lavapipe/llvmpipe, SwiftShader): kernels then
   * avoid workgroup barriers where they can (codegen ShaderOptions.matmul).
   */
  readonly software: boolean;
  readonly limits: {
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxComputeWorkgroupsPerDimension: number;
    /** Storage buffers one kernel may bind (its parameter buffer included): 16 on lavapipe. */
    readonly maxStorageBuffersPerShaderStage: number;
  };
  /** Device buffers reused by size class, shared by every program and eager op. */
  readonly pool: BufferPool;
  /** The pipeline for a shader; rejects with the compiler's messages when the WGSL is invalid. */
  pipeline(code: string): Promise<GPUComputePipeline>;
  /** What the process asked of the device so far (the bench's profile and tests read differences). */
  readonly stats: GpuStats;
}

/** Counters of device work, for profiling dispatch overhead; they only grow. */
export interface GpuStats {
  /** Compute dispatches recorded, and the workgroups they launch. */
  dispatches: number;
  workgroups: number;
  /** Queue submits of recorded commands (each call's encoder, downloads). */
  submits: number;
  /** Queue writes: parameter arrays and uploads. */
  writes: number;
  /** Buffers mapped for reading (each a round trip to the device). */
  readbacks: number;
  /** Pipelines compiled, and requests served by the cache. */
  pipelines: number;
  pipelineHits: number;
  /** Calls a kernel flagged and the eager kernels recomputed (runtime/flag.ts). */
  recomputed: number;
  /** Eager ops and compiled calls run on the CPU because their inputs were small and on the host (runtime/handoff.ts). */
  cpuCalls: number;
  /** Those of the compiled calls among them that ran the CPU backend's compiled program (runtime/cpu-program.ts). */
  cpuPrograms: number;
}

export type DeviceResult = { readonly ok: true; readonly gpu: GpuContext } | { readonly ok: false; readonly reason: string };

let pending: Promise<DeviceResult> | undefined;
/**
 * Dawn's instance must outlive every device made from it: if the `GPU` object is garbage-collected, its
 * event loop runs on freed memory (a crash in InstanceBase::ProcessEvents). Held here for the process.
 */
let instance: GPU | undefined;

/** The process's GPU, or why there is none. Never throws; asks once. */
export function acquireDevice(): Promise<DeviceResult> {
  return (pending ??= open());
}

/**
 * Destroys the process's device (its buffers and pipelines go with it); the next `acquireDevice()` opens a
 * new one. Call it before a process that used the GPU exits: Dawn tears down cleanly only from here.
 */
export async function releaseDevice(): Promise<void> {
  const current = pending;
  pending = undefined;
  const result = await current;
  if (result?.ok) result.gpu.device.destroy();
}

async function open(): Promise<DeviceResult> {
  let gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    try {
      const mod = (await import('webgpu')) as { create(options: string[]): GPU; globals: object };
      // GPUBufferUsage, GPUMapMode… are globals in a browser; Dawn's bindings export them.
      for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      gpu = mod.create([]);
    } catch (err) {
      return { ok: false, reason: `the 'webgpu' package (Dawn) could not be loaded: ${(err as Error).message}` };
    }
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return { ok: false, reason: `requestAdapter() failed: ${(err as Error).message}` };
  }
  instance = gpu;
  if (!adapter) {
    return { ok: false, reason: 'no WebGPU adapter (no GPU and no Vulkan driver; on Debian, mesa-vulkan-drivers from bookworm-backports gives a software one)' };
  }
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
  const info = adapter.info as GPUAdapterInfo | undefined;
  const description = [info?.vendor, info?.architecture, info?.device].filter((s) => s).join(' ') || 'unknown adapter';
  const pipelines = new Map<string, Promise<GPUComputePipeline>>();
  const stats: GpuStats = { dispatches: 0, workgroups: 0, submits: 0, writes: 0, readbacks: 0, pipelines: 0, pipelineHits: 0, recomputed: 0, cpuCalls: 0, cpuPrograms: 0 };
  return {
    ok: true,
    gpu: {
      device,
      description,
      software: /llvmpipe|lavapipe|swiftshader|software/i.test(description),
      pool: new BufferPool(device),
      stats,
      limits: {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxBufferSize: device.limits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
        maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      },
      pipeline(code) {
        let p = pipelines.get(code);
        if (!p) {
          stats.pipelines++;
          p = createPipeline(device, code);
          pipelines.set(code, p);
        } else stats.pipelineHits++;
        return p;
      },
    },
  };
}

async function createPipeline(device: GPUDevice, code: string): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(`WGSL did not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
}
