// Tensors that live in GPU memory. A device tensor is an ordinary Tensor (device 'webgpu') whose storage is
// a `GpuBytes`: a promise of a GPU buffer, because the work that fills it may still be
// queued. Ops make dense results; views that core builds over them (runtime/strided.ts) may be strided.
// Its buffer goes back to the pool when the tensor is garbage-collected; a tensor that shares
// another's buffer (an output that is an input unchanged) holds that one alive instead of owning it.
import type { ExternalBytes, Tensor as TensorType, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor, allocate, contiguousStridesOf, syncReadError } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';
import type { GpuContext } from './device.js';
import type { FlagCheck } from './flag.js';

export class GpuBytes implements ExternalBytes {
  /** Every tensor over these bytes, a view that core builds included, is a webgpu tensor. */
  readonly device = 'webgpu';

  constructor(
    /** The buffer once the work writing it is queued; its values may still be flagged (see `buffer`). */
    readonly raw: Promise<GPUBuffer>,
    /** Elements, each stored in 4 bytes on the GPU (bool as int32). */
    readonly numel: number,
    /** The bytes this one reads when it does not own its buffer (kept alive through this reference). */
    readonly source?: GpuBytes,
    /** The eager-recompute flag of the call that wrote these bytes, if it has kernels that can flag. */
    readonly check?: FlagCheck,
  ) {}

  /** The buffer once its values are final: after the writing call's flag was read (runtime/flag.ts). */
  get buffer(): Promise<GPUBuffer> {
    return this.check ? this.check.verify().then(() => this.raw) : this.raw;
  }

  view(): TypedArray {
    throw syncReadError('webgpu', 'reading the elements');
  }
}

const released = new FinalizationRegistry<{ gpu: GpuContext; buffer: Promise<GPUBuffer> }>(({ gpu, buffer }) => {
  // A failed computation's buffer was never handed out; there is nothing to return.
  buffer.then((b) => gpu.pool.give(b), () => {});
});

/** `bytes`, whose buffer returns to the pool once nothing references them. */
export function owned(gpu: GpuContext, bytes: GpuBytes): GpuBytes {
  released.register(bytes, { gpu, buffer: bytes.raw });
  return bytes;
}

/** A device tensor over `bytes`; when `own`, the buffer returns to the pool once the tensor is collected. */
export function deviceTensor(gpu: GpuContext, bytes: GpuBytes, shape: readonly number[], dtype: LoopDType, own: boolean): TensorType {
  return new Tensor(Storage.fromExternal(own ? owned(gpu, bytes) : bytes, dtype), shape, contiguousStridesOf(shape), 0, dtype);
}

export function gpuBytesOf(t: TensorType): GpuBytes {
  const bytes = t.storage.external;
  if (!(bytes instanceof GpuBytes)) throw new KilnError(`a tensor on '${t.device}' has no WebGPU buffer`, "move it with t.to('webgpu')");
  return bytes;
}

/**
 * Host data as the GPU stores it: 32-bit words, booleans widened to 0/1 int32. float64 is kept as its 8-byte
 * values only between eager steps of a program (no kernel computes it); a float64 device tensor is refused.
 */
export function toDeviceLayout(data: TypedArray, dtype: string, insideProgram = false): TypedArray {
  if (dtype === 'bool') return Int32Array.from(data as Uint8Array);
  if (dtype === 'float64' && !insideProgram) {
    throw new KilnError("float64 tensors cannot live on webgpu (WGSL has no 64-bit floats)", "cast first: t.to('float32').to('webgpu'), or keep it on the CPU");
  }
  return data;
}

/** Bytes per element on the GPU: 4, or 8 for float64 held between eager steps. */
export const deviceBytes = (dtype: string): number => (dtype === 'float64' ? 8 : 4);

/** Uploads a CPU tensor (any layout) into a fresh pooled buffer; the write is queued, so this returns at once. */
export function upload(gpu: GpuContext, t: TensorType): TensorType {
  const data = toDeviceLayout(t.toTypedArray(), t.dtype);
  const buffer = gpu.pool.take(Math.max(data.byteLength, 4));
  gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  gpu.stats.writes++;
  return deviceTensor(gpu, new GpuBytes(Promise.resolve(buffer), t.numel), t.shape, t.dtype as LoopDType, true);
}

/** Copies the first `n` elements of a buffer back into a new host array of `dtype`. */
export async function download(gpu: GpuContext, buffer: GPUBuffer, dtype: LoopDType, n: number): Promise<TypedArray> {
  return (await readBack(gpu, buffer, dtype, n)).data;
}

/**
 * Copies the first `n` elements of `buffer` (if any) and the word of `flag` (if any) back in one staging
 * buffer and one map: the flag of the call that wrote the data costs no round trip of its own.
 */
export async function readBack(gpu: GpuContext, buffer: GPUBuffer | undefined, dtype: LoopDType, n: number, flag?: GPUBuffer): Promise<{ data: TypedArray; flagged: boolean }> {
  const out = allocate(dtype, n);
  const bytes = buffer ? n * deviceBytes(dtype) : 0;
  const total = bytes + (flag ? 4 : 0);
  if (total === 0) return { data: out, flagged: false };
  const staging = gpu.pool.takeStaging(total);
  const encoder = gpu.device.createCommandEncoder();
  if (bytes > 0) encoder.copyBufferToBuffer(buffer!, 0, staging, 0, bytes);
  if (flag) encoder.copyBufferToBuffer(flag, 0, staging, bytes, 4);
  gpu.device.queue.submit([encoder.finish()]);
  gpu.stats.submits++;
  gpu.stats.readbacks++;
  await staging.mapAsync(GPUMapMode.READ, 0, total);
  const raw = new Uint8Array(staging.getMappedRange(0, total));
  if (dtype === 'bool') {
    const words = new Int32Array(raw.buffer, raw.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = words[i]!;
  } else new Uint8Array(out.buffer, out.byteOffset, bytes).set(raw.subarray(0, bytes));
  const flagged = flag !== undefined && new Int32Array(raw.buffer, raw.byteOffset + bytes, 1)[0] !== 0;
  staging.unmap();
  gpu.pool.giveStaging(staging);
  return { data: out, flagged };
}

/**
 * The elements of a device tensor in row-major order, read back. Errors of the work that computed it
 * surface here. A strided view reads the part of the buffer it spans and picks its elements on the host.
 */
export async function downloadTensor(gpu: GpuContext, t: TensorType): Promise<TypedArray> {
  const bytes = gpuBytesOf(t);
  const dense = t.offset === 0 && t.isContiguous();
  let span = t.numel;
  if (!dense && span > 0) span = t.offset + 1 + t.shape.reduce((end, size, k) => end + (size - 1) * t.strides[k]!, 0);
  const data = await readChecked(gpu, bytes, t.dtype as LoopDType, span);
  if (dense) return data;
  return new Tensor(new Storage(data, t.dtype), t.shape, t.strides, t.offset, t.dtype).toTypedArray();
}

/** `n` elements of `bytes`, final: a flag nobody has read yet is read with the data (runtime/flag.ts). */
async function readChecked(gpu: GpuContext, bytes: GpuBytes, dtype: LoopDType, n: number): Promise<TypedArray> {
  const check = bytes.check;
  if (!check?.pending || n === 0) return download(gpu, await bytes.buffer, dtype, n);
  const { data, flagged } = await readBack(gpu, await bytes.raw, dtype, n, check.flag);
  await check.observe(flagged);
  // Flagged: the eager kernels' values are now in the buffer.
  return flagged ? download(gpu, await bytes.raw, dtype, n) : data;
}
