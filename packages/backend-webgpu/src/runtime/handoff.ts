// The CPU handoff: a call whose tensor inputs are all small and on the host runs on the CPU's eager kernels
// and returns webgpu tensors whose values stay on the host. A tiny call on the GPU pays a dispatch, a submit
// and a readback (about half a millisecond on lavapipe) for work the CPU does in microseconds; tfjs's WebGPU
// backend does the same below 1,000 elements. Host-resident means a CPU tensor, or a webgpu tensor whose
// values have not gone to the device (made from JS data, or read back whole: runtime/device-tensor.ts).
// The eager kernels are the reference every GPU kernel is checked against, so the results are eager's.
// Larger inputs, or any input already in a GPU buffer, take the device path as before.
import type { Tensor } from '@kiln/tensor';
import { Storage, Tensor as TensorClass } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';
import type { GpuContext } from './device.js';
import { GpuBytes, deviceTensor } from './device-tensor.js';
import { cpuHandoffElements } from './config.js';

/**
 * CPU tensors over the values of `inputs` (the same objects for CPU inputs), in order, when every tensor
 * among them is host-resident with at most the handoff limit's elements and at least one is a webgpu
 * tensor; undefined otherwise (the call then runs on the device).
 */
export function hostTwins(inputs: readonly Tensor[]): Tensor[] | undefined {
  const limit = cpuHandoffElements();
  let onWebGpu = false;
  const twins: Tensor[] = [];
  for (const t of inputs) {
    if (t.device === 'cpu') {
      if (t.numel > limit) return undefined;
      twins.push(t);
      continue;
    }
    const bytes = t.storage.external;
    const host = bytes instanceof GpuBytes ? bytes.host : undefined;
    if (!host || host.length > limit) return undefined;
    onWebGpu = true;
    twins.push(new TensorClass(new Storage(host, t.dtype), t.shape, t.strides, t.offset, t.dtype));
  }
  return onWebGpu ? twins : undefined;
}

/**
 * The CPU results of a handed-off call as webgpu tensors, through any arrays and plain objects: a result
 * over an input's own storage (a view) becomes the same view of that webgpu input; any other tensor gets
 * host-resident bytes of its own (a copy, so nothing the CPU side still holds can change it).
 */
export function onWebGpu(gpu: GpuContext, result: unknown, inputs: readonly Tensor[], twins: readonly Tensor[]): unknown {
  if (result instanceof TensorClass) {
    const i = twins.findIndex((t) => t.storage === result.storage);
    const input = i >= 0 ? inputs[i]! : undefined;
    if (input?.device === 'webgpu') return new TensorClass(input.storage, result.shape, result.strides, result.offset, result.dtype);
    const dtype = result.dtype as LoopDType;
    const bytes = new GpuBytes(gpu, { host: result.toTypedArray(), dtype }, result.numel, { owned: true });
    return deviceTensor(bytes, result.shape, dtype);
  }
  if (Array.isArray(result)) return result.map((r) => onWebGpu(gpu, r, inputs, twins));
  if (result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype) {
    return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, onWebGpu(gpu, v, inputs, twins)]));
  }
  return result;
}

/** Replaces each tensor in `args` (through arrays) with the next of `twins`, in argKey's order. */
export function withTwins(args: readonly unknown[], twins: readonly Tensor[]): unknown[] {
  let next = 0;
  const swap = (a: unknown): unknown => (a instanceof TensorClass ? twins[next++] : Array.isArray(a) ? a.map(swap) : a);
  return args.map(swap);
}

/** Whether a result holds a float64 tensor, which cannot be a webgpu tensor (the call then runs on the device, as before). */
export function holdsFloat64(result: unknown): boolean {
  if (result instanceof TensorClass) return result.dtype === 'float64';
  if (Array.isArray(result)) return result.some(holdsFloat64);
  if (result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype) return Object.values(result).some(holdsFloat64);
  return false;
}
