/// <reference types="@webgpu/types" />
// The runtime a WebGPU AOT module carries (bundled apart from the CPU runtime, so CPU modules stay small).
import type { WebGpuPlan } from './plan.js';
import { instantiateWebGpuProgram } from './webgpu.js';
import { readSafetensors } from './weights.js';
import { AotLoadError } from './errors.js';
import { weightBytes, type LoadOptions, type WeightsSource } from './index.js';

export { AotInputError, AotLoadError, AotRuntimeError } from './errors.js';

export interface WebGpuLoadOptions extends LoadOptions {
  /** The WebGPU entry point: navigator.gpu by default; in Node, `(await import('webgpu')).create([])`. */
  readonly gpu?: GPU;
}

/** A loaded WebGPU AOT module: an asynchronous call (results are read back from the GPU). */
export interface AotGpuModel {
  (...args: unknown[]): Promise<unknown>;
  readonly inputs: WebGpuPlan['inputs'];
  readonly device: GPUDevice;
}

export async function loadWebGpuModel(plan: WebGpuPlan, weights: WeightsSource, moduleUrl: string, options: WebGpuLoadOptions = {}): Promise<AotGpuModel> {
  if (plan.format !== 'kiln-aot-plan' || plan.version !== 1) throw new AotLoadError(`this runtime reads kiln-aot-plan version 1, got ${String(plan.format)} ${String(plan.version)}`);
  const blob = await weightBytes(weights, moduleUrl, options.weights);
  const program = await instantiateWebGpuProgram(plan, blob ? readSafetensors(blob) : new Map(), options.gpu);
  return Object.assign((...args: unknown[]) => program.run(args), { inputs: plan.inputs, device: program.device });
}
