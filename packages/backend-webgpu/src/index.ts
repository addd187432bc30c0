/// <reference types="@webgpu/types" />
// @kiln/backend-webgpu: WGSL kernels from the shared loop IR, device tensors and their eager ops, Dawn in Node.
export { compileGraphForWebGpu, lowerForWebGpu, webgpuBackend, webgpuBackendPlugin, registerWebGpuBackend, WEBGPU_CAPABILITIES } from './backend.js';
export { webgpuBackendPlugin as default } from './backend.js';
export type { WebGpuCompiled } from './backend.js';
export { acquireDevice, releaseDevice } from './runtime/device.js';
export type { GpuContext, DeviceResult, GpuStats } from './runtime/device.js';
export { kernelShader, WebGpuCodegenError } from './codegen/index.js';
export type { WgslKernel } from './codegen/index.js';
export { dispatchGrid } from './runtime/gpu-memory.js';
export { reductionSplit } from './runtime/split.js';
export { webgpuDevice } from './eager.js';
export { initWebGpu } from './init.js';
export { configureWebGpu, cpuHandoffElements, DEFAULT_CPU_HANDOFF_ELEMENTS } from './runtime/config.js';
export type { WebGpuOptions } from './runtime/config.js';
export type { WebGpuStatus } from './init.js';
