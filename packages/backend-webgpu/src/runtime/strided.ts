/// <reference types="@webgpu/types" />
// Strided views of device tensors, and writes through them. A device tensor's storage is one GPU buffer; a
// view that core builds over it (a returned view, the pieces of split, a transpose kept across a break) has
// its own shape, strides and offset. Kernels read their inputs densely from element 0, so a view laid out
// otherwise is first copied on the GPU into a fresh buffer; an in-place write into a view scatters the new
// values into a copy of its whole buffer, which then becomes the storage's (copy-on-write clones keep the
// old one). One small kernel does both, on 32-bit words, so every dtype is one case.
import type { Tensor } from '@kiln/tensor';
import { KilnError, Storage, Tensor as TensorClass, contiguousStridesOf } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';
import type { GpuContext } from './device.js';
import { GpuBytes, deviceTensor, gpuBytesOf, toDeviceLayout } from './device-tensor.js';
import { MAX_DISPATCH, WORKGROUP } from '../codegen/shader.js';

/** Rank the kernel handles; higher-rank views are refused with a hint (no kernel goes that deep today). */
const MAX_RANK = 16;

// P = [numel, rank, srcOffset, dstOffset, shape[rank], srcStrides[rank], dstStrides[rank]]: element i of the
// view (row-major) goes from src to dst, each addressed through its own strides.
const STRIDED_COPY = `@group(0) @binding(0) var<storage, read> P: array<i32>;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = i32(wg.x + wg.y * nwg.x) * ${WORKGROUP} + i32(li);
  if (i >= P[0]) { return; }
  let rank = P[1];
  var rest = i;
  var src_at = P[2];
  var dst_at = P[3];
  for (var k = rank - 1; k >= 0; k = k - 1) {
    let size = P[4 + k];
    let index = rest % size;
    src_at = src_at + index * P[4 + rank + k];
    dst_at = dst_at + index * P[4 + 2 * rank + k];
    rest = rest / size;
  }
  dst[dst_at] = src[src_at];
}`;

interface Layout { readonly strides: readonly number[]; readonly offset: number }

/** Records the copy of `shape`'s elements from `src` (through `from`) to `dst` (through `to`) into `encoder`. */
async function recordCopy(gpu: GpuContext, encoder: GPUCommandEncoder, shape: readonly number[], src: GPUBuffer, from: Layout, dst: GPUBuffer, to: Layout): Promise<void> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  if (shape.length > MAX_RANK) throw new KilnError(`webgpu: a view of rank ${shape.length} (more than ${MAX_RANK}) cannot be copied on the GPU`, 'call contiguous() on it before the view op, or move it to the CPU');
  const params = Int32Array.from([n, shape.length, from.offset, to.offset, ...shape, ...from.strides, ...to.strides]);
  const paramBuffer = gpu.pool.take(params.byteLength);
  gpu.device.queue.writeBuffer(paramBuffer, 0, params);
  const pipeline = await gpu.pipeline(STRIDED_COPY);
  const groups = Math.ceil(n / WORKGROUP);
  const x = Math.min(groups, gpu.limits.maxComputeWorkgroupsPerDimension, MAX_DISPATCH);
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, gpu.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [paramBuffer, src, dst].map((buffer, binding) => ({ binding, resource: { buffer } })),
  }));
  pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  pass.end();
  // The queue runs in order: whatever takes the parameter buffer next is submitted after this copy.
  gpu.pool.give(paramBuffer);
}

const quiet = <T>(p: Promise<T>): Promise<T> => (p.catch(() => {}), p);

/** Whether kernels can read `t` from its buffer as it is: dense row-major from element 0. */
export const readsDensely = (t: Tensor): boolean => t.offset === 0 && t.isContiguous();

/** A dense copy of a strided device tensor, made on the GPU (queued; returns at once). */
export function denseCopy(gpu: GpuContext, t: Tensor): Tensor {
  const out = gpu.pool.take(Math.max(t.numel, 1) * 4);
  gpu.pool.enter();
  const buffer = quiet(gpuBytesOf(t).buffer.then(async (src) => {
    const encoder = gpu.device.createCommandEncoder();
    await recordCopy(gpu, encoder, t.shape, src, t, out, { strides: contiguousStridesOf(t.shape), offset: 0 });
    gpu.device.queue.submit([encoder.finish()]);
    return out;
  }).finally(() => gpu.pool.leave()));
  return deviceTensor(new GpuBytes(gpu, buffer, t.numel, { owned: true }), t.shape, t.dtype as LoopDType);
}

/**
 * A program's inputs as it reads them: every webgpu tensor pinned to the bytes it holds now (a later
 * in-place write gives its storage new bytes, and must not change what queued work reads), strided ones
 * as a dense copy. Called synchronously when the program is queued.
 */
export function launchInputs(gpu: GpuContext, inputs: readonly unknown[]): readonly unknown[] {
  let out: unknown[] | undefined;
  inputs.forEach((x, i) => {
    if (!(x instanceof TensorClass) || x.device !== 'webgpu') return;
    const bytes = gpuBytesOf(x);
    // Host values go to the device now: a later write through the handoff must not reach queued work.
    bytes.moveToDevice();
    bytes.markShared();
    (out ??= [...inputs])[i] = readsDensely(x) ? new TensorClass(Storage.fromExternal(bytes, x.dtype), x.shape, x.strides, 0, x.dtype) : denseCopy(gpu, x);
  });
  return out ?? inputs;
}

/**
 * Writes `given` (a webgpu tensor of dst's shape and dtype) into `dst`, a webgpu tensor or a CPU one
 * (which moves to webgpu): dst's storage takes new bytes holding the result, so its views see the write and
 * copy-on-write clones keep the old values. When dst covers its whole storage densely the new bytes are
 * value's own; otherwise value is scattered into a copy of the storage's old elements.
 */
export function writeInto(gpu: GpuContext, dst: Tensor, given: Tensor): void {
  if (dst.numel === 0) return;
  const value = readsDensely(given) ? given : denseCopy(gpu, given);
  const storage = dst.storage;
  const total = dst.device === 'cpu' ? storage.size : gpuBytesOf(dst).numel;
  let bytes: GpuBytes;
  if (readsDensely(dst) && dst.numel === total) {
    bytes = gpuBytesOf(value);
    bytes.markShared(); // value's storage and dst's now read the same bytes
  } else {
    const out = gpu.pool.take(total * 4);
    const encoder = gpu.device.createCommandEncoder();
    let old: Promise<GPUBuffer | undefined> = Promise.resolve(undefined);
    if (dst.device === 'cpu') {
      const data = toDeviceLayout(storage.data, dst.dtype);
      gpu.device.queue.writeBuffer(out, 0, data.buffer, data.byteOffset, data.byteLength);
    } else old = gpuBytesOf(dst).buffer;
    gpu.pool.enter();
    const buffer = quiet(Promise.all([old, gpuBytesOf(value).buffer]).then(async ([from, src]) => {
      if (from) encoder.copyBufferToBuffer(from, 0, out, 0, total * 4);
      await recordCopy(gpu, encoder, dst.shape, src, { strides: contiguousStridesOf(dst.shape), offset: 0 }, out, dst);
      gpu.device.queue.submit([encoder.finish()]);
      return out;
    }).finally(() => gpu.pool.leave()));
    bytes = new GpuBytes(gpu, buffer, total, { owned: true });
  }
  storage.moveToExternal(bytes);
  storage.version++;
}
