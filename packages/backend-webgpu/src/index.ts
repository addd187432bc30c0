/// <reference types="@webgpu/types" />
export { compileGraphForWebGpu } from './backend.js';
export type { WebGpuCompiled } from './backend.js';
export { acquireDevice, releaseDevice } from './runtime/device.js';
export type { GpuContext, DeviceResult } from './runtime/device.js';
export { kernelShader, WebGpuCodegenError } from './codegen/index.js';
export type { WgslKernel } from './codegen/index.js';
export { webgpuDevice } from './eager.js';
export { initWebGpu } from './init.js';
export type { WebGpuStatus } from './init.js';
