/// <reference types="@webgpu/types" />
import { BufferPool } from './pool.js';
// The GPU device: found once per process through the `webgpu` package (Dawn's Node bindings) or the
// browser's `navigator.gpu`, with the reason when there is none. Pipelines are cached by shader text, so
// every program and eager op that generates the same kernel shares one pipeline.

export interface GpuContext {
  readonly device: GPUDevice;
  /** What the adapter says it is (vendor, architecture, device), for explain and the bench. */
  readonly description: string;
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
  return {
    ok: true,
    gpu: {
      device,
      description,
      pool: new BufferPool(device),
      limits: {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxBufferSize: device.limits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
        maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      },
      pipeline(code) {
        let p = pipelines.get(code);
        if (!p) {
          p = createPipeline(device, code);
          pipelines.set(code, p);
        }
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
