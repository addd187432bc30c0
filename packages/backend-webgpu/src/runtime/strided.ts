/// <reference types="@webgpu/types" />
// Strided views of device tensors. A device tensor's storage is one GPU buffer; a view that core builds over
// it (a returned view, the pieces of split, a transpose kept across a break) has its own shape, strides and
// offset. Kernels read their inputs densely from element 0, so a view that is not laid out that way is
// first copied on the GPU into a fresh buffer (one small kernel, 32-bit words, so every dtype is one case).
import type { Tensor } from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';
import type { GpuContext } from './device.js';
import { GpuBytes, deviceTensor, gpuBytesOf } from './device-tensor.js';
import { MAX_DISPATCH, WORKGROUP } from '../codegen/shader.js';

/** Rank this kernel handles; views of higher rank are refused with a hint (no kernel goes that deep today). */
const MAX_RANK = 16;

// P = [numel, rank, offset, shape[0..rank), strides[0..rank)]; element i of the output is the i-th element of
// the view in row-major order.
const STRIDED_COPY = `@group(0) @binding(0) var<storage, read> P: array<i32>;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = i32(wg.x + wg.y * nwg.x) * ${WORKGROUP} + i32(li);
  if (i >= P[0]) { return; }
  let rank = P[1];
  var rest = i;
  var at = P[2];
  for (var k = rank - 1; k >= 0; k = k - 1) {
    let size = P[3 + k];
    at = at + (rest % size) * P[3 + rank + k];
    rest = rest / size;
  }
  dst[i] = src[at];
}`;

/** Whether kernels can read `t` from its buffer as it is: dense row-major from element 0. */
export const readsDensely = (t: Tensor): boolean => t.offset === 0 && t.isContiguous();

/** A dense copy of a strided device tensor, made on the GPU (queued; returns at once). */
export function denseCopy(gpu: GpuContext, t: Tensor): Tensor {
  if (t.dtype === 'float64') throw new KilnError('float64 tensors cannot live on webgpu', "cast first: t.to('float32')");
  if (t.ndim > MAX_RANK) throw new KilnError(`webgpu: a view of rank ${t.ndim} (more than ${MAX_RANK}) cannot be copied on the GPU`, 'call contiguous() on it before the view op, or move it to the CPU');
  const source = gpuBytesOf(t);
  const n = t.numel;
  const out = gpu.pool.take(Math.max(n, 1) * 4);
  const buffer = source.buffer.then(async (src) => {
    if (n === 0) return out;
    const params = Int32Array.from([n, t.ndim, t.offset, ...t.shape, ...t.strides]);
    const paramBuffer = gpu.pool.take(params.byteLength);
    gpu.device.queue.writeBuffer(paramBuffer, 0, params);
    const pipeline = await gpu.pipeline(STRIDED_COPY);
    const groups = Math.ceil(n / WORKGROUP);
    const x = Math.min(groups, gpu.limits.maxComputeWorkgroupsPerDimension, MAX_DISPATCH);
    const encoder = gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, gpu.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [paramBuffer, src, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
    }));
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
    // The queue runs in order: whatever takes the parameter buffer next is recorded after this copy.
    gpu.pool.give(paramBuffer);
    return out;
  });
  buffer.catch(() => {});
  return deviceTensor(gpu, new GpuBytes(buffer, n), t.shape, t.dtype as LoopDType, true);
}

/** The inputs with every strided webgpu tensor replaced by a dense copy (others as they are). */
export function denseInputs(gpu: GpuContext, inputs: readonly unknown[]): readonly unknown[] {
  let out: unknown[] | undefined;
  inputs.forEach((x, i) => {
    const t = x as Tensor;
    if (t?.device !== 'webgpu' || readsDensely(t)) return;
    (out ??= [...inputs])[i] = denseCopy(gpu, t);
  });
  return out ?? inputs;
}
