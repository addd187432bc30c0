// Making the GPU usable from eager code: find the device once, then register `webgpu` as a tensor device
// (t.to('webgpu'), creation ops with { device: 'webgpu' }, eager ops on device tensors).
import { registerDevice } from '@kiln/tensor';
import { acquireDevice, type GpuContext } from './runtime/device.js';
import { webgpuDevice } from './eager.js';

export type WebGpuStatus = { readonly ok: true; readonly adapter: string; readonly gpu: GpuContext } | { readonly ok: false; readonly reason: string };

let registered: Promise<WebGpuStatus> | undefined;

/** Opens the GPU and registers the `webgpu` device. Never throws: says why when there is no adapter. */
export function initWebGpu(): Promise<WebGpuStatus> {
  return (registered ??= acquireDevice().then((r) => {
    if (!r.ok) return { ok: false, reason: r.reason };
    registerDevice(webgpuDevice(r.gpu));
    return { ok: true, adapter: r.gpu.description, gpu: r.gpu };
  }));
}
