// Tensors on the webgpu device. A device tensor is an ordinary Tensor (device 'webgpu') whose storage is a
// `GpuBytes`. Its values are in one of two places, never both:
// - a GPU buffer (a promise of one, because the work that fills it may still be queued), or
// - a host array, in the CPU's layout: a small tensor made from JS data stays there until a kernel needs
//   it on the device (as tfjs does), and an output read back whole by `await t.data()` keeps its values
//   there and gives its buffer back to the pool at once, so a loop of calls whose results are read needs
//   no garbage collection to keep device memory flat.
// Small host-resident inputs let a call run on the CPU instead (runtime/handoff.ts). A buffer that a
// GpuBytes owns goes back to the pool when it is garbage-collected or disposed; views that core builds over
// it may be strided; a tensor that shares another's buffer (an output that is an input unchanged) reads
// that one through `source` instead of owning it.
import type { ExternalBytes, Tensor as TensorType, TypedArray } from '@kiln/tensor';
import { KilnError, Storage, Tensor, allocate, contiguousStridesOf, syncReadError } from '@kiln/tensor';
import type { LoopDType } from '@kiln/lower';
import type { GpuContext } from './device.js';
import type { FlagCheck } from './flag.js';
import { cpuHandoffElements } from './config.js';

/** Where an owning GpuBytes' values are; shared with the finalizer, which gives back `buffer` if set. */
interface Place {
  buffer?: Promise<GPUBuffer>;
  host?: TypedArray;
  /** The dtype of `host`, which says its layout (bool: one byte each on the host, an int32 on the GPU). */
  dtype?: LoopDType;
}

/** Values on the host, in the CPU's layout for their dtype (bool as one byte each). */
export interface HostValues {
  readonly host: TypedArray;
  readonly dtype: LoopDType;
}

export class GpuBytes implements ExternalBytes {
  /** Every tensor over these bytes, a view that core builds included, is a webgpu tensor. */
  readonly device = 'webgpu';
  private readonly place: Place;
  /** Whether a storage other than the first may read these bytes (see `markShared`). */
  private shared = false;

  /**
   * @param values the buffer once the work writing it is queued (its values may still be flagged, see
   *   `buffer`), or values on the host
   * @param numel elements, each stored in 4 bytes on the GPU (bool as int32)
   * @param options.source the bytes these read, once `after` settles, when they hold no values of their own
   *   (values undefined; the source is kept alive through this)
   * @param options.check the eager-recompute flag of the call that wrote these bytes (runtime/flag.ts)
   * @param options.owned whether the buffer goes back to the pool when these bytes are collected
   */
  constructor(
    private readonly gpu: GpuContext,
    values: Promise<GPUBuffer> | HostValues | undefined,
    readonly numel: number,
    readonly options: { readonly source?: GpuBytes; readonly after?: Promise<unknown>; readonly check?: FlagCheck; readonly owned?: boolean } = {},
  ) {
    this.place = values instanceof Promise ? { buffer: values } : values ? { host: values.host, dtype: values.dtype } : {};
    // Host values need no finalizer (it would only cost the garbage collector): it is registered once they
    // move to a buffer.
    if (options.owned && this.place.buffer) released.register(this, { gpu, place: this.place }, this);
  }

  /** Bytes that read `source`'s buffer once `after` (the call returning them) is queued. */
  static sharing(gpu: GpuContext, source: GpuBytes, after: Promise<unknown>, numel: number): GpuBytes {
    source.markShared();
    return new GpuBytes(gpu, undefined, numel, { source, after });
  }

  get source(): GpuBytes | undefined {
    return this.options.source;
  }

  get check(): FlagCheck | undefined {
    return this.options.check;
  }

  /** The values on the host (CPU layout) while they are there; undefined once they live in a buffer. */
  get host(): TypedArray | undefined {
    return this.options.source ? undefined : this.place.host;
  }

  /** Whether the values are in a buffer these bytes own (not on the host, not disposed). */
  get holdsBuffer(): boolean {
    return this.place.buffer !== undefined && !this.options.source;
  }

  /** The buffer, uploaded from the host values first if they are there (they then move to the device). */
  get raw(): Promise<GPUBuffer> {
    // Asked each time: the source may have moved its values to the host (and its old buffer to the pool).
    const { source, after } = this.options;
    if (source) return after!.then(() => source.buffer);
    this.moveToDevice();
    return this.place.buffer!;
  }

  /** Writes host values into a pooled buffer now (queued), where they are on the host. */
  moveToDevice(): void {
    if (this.options.source || this.place.buffer || !this.place.host) return;
    const data = toDeviceLayout(this.place.host, this.place.dtype!);
    const buffer = this.gpu.pool.take(Math.max(data.byteLength, 4));
    this.gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    this.gpu.stats.writes++;
    this.place.buffer = Promise.resolve(buffer);
    this.place.host = undefined;
    if (this.options.owned) released.register(this, { gpu: this.gpu, place: this.place }, this);
  }

  /** The buffer once its values are final: after the writing call's flag was read (runtime/flag.ts). */
  get buffer(): Promise<GPUBuffer> {
    const { check } = this.options;
    return check ? check.verify().then(() => this.raw) : this.raw;
  }

  /**
   * Keeps `values` (all of these bytes, final, read back) on the host and gives the buffer back to the
   * pool once no queued work can still record a read of it. Only for bytes that own their buffer.
   */
  keepOnHost(values: HostValues): void {
    if (!this.options.owned || this.options.source || !this.place.buffer) return;
    const buffer = this.place.buffer;
    released.unregister(this); // registered again if the values move back to a buffer
    this.place.buffer = undefined;
    this.place.host = values.host;
    this.place.dtype = values.dtype;
    void buffer.then((b) => this.gpu.pool.giveWhenIdle(b), () => {});
  }

  /**
   * Another storage reads these bytes too (a queued call's pinned input, a tensor written with them, an
   * output that is this input unchanged): disposing one of them must not free them under the others, so
   * they are then freed only when collected.
   */
  markShared(): void {
    this.shared = true;
  }

  /**
   * `dispose()`: the buffer goes back to the pool now (once no queued work can still record a read of it),
   * unless another storage may still read it (`markShared`; then it waits for collection).
   */
  release(): void {
    if (!this.options.owned || this.shared) return;
    released.unregister(this);
    const { buffer } = this.place;
    this.place.buffer = this.place.host = undefined;
    void buffer?.then((b) => this.gpu.pool.giveWhenIdle(b), () => {});
  }

  view(): TypedArray {
    throw syncReadError('webgpu', 'reading the elements');
  }
}

const released = new FinalizationRegistry<{ gpu: GpuContext; place: Place }>(({ gpu, place }) => {
  // A failed computation's buffer was never handed out; there is nothing to return.
  place.buffer?.then((b) => gpu.pool.give(b), () => {});
});

/** A device tensor over `bytes`. */
export function deviceTensor(bytes: GpuBytes, shape: readonly number[], dtype: LoopDType): TensorType {
  return new Tensor(Storage.fromExternal(bytes, dtype), shape, contiguousStridesOf(shape), 0, dtype);
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

/**
 * A CPU tensor (any layout) as a webgpu tensor, returned at once: up to `cpuHandoffElements` elements it
 * stays on the host until a kernel needs it on the device (runtime/handoff.ts), larger ones are written into
 * a fresh pooled buffer (the write is queued).
 */
export function upload(gpu: GpuContext, t: TensorType): TensorType {
  const values = t.toTypedArray(); // a copy: later writes to `t` do not reach the device tensor
  const data = toDeviceLayout(values, t.dtype);
  const dtype = t.dtype as LoopDType;
  if (t.numel <= cpuHandoffElements()) return deviceTensor(new GpuBytes(gpu, { host: values, dtype }, t.numel, { owned: true }), t.shape, dtype);
  const buffer = gpu.pool.take(Math.max(data.byteLength, 4));
  gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  gpu.stats.writes++;
  return deviceTensor(new GpuBytes(gpu, Promise.resolve(buffer), t.numel, { owned: true }), t.shape, dtype);
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
 * The elements of a device tensor in row-major order, as a new array. Values on the host are copied from
 * there; otherwise they are read back, and errors of the work that computed them surface here. A strided
 * view reads the part of the buffer it spans and picks its elements on the host. A read of all of a
 * buffer's elements keeps them on the host and gives the buffer back (GpuBytes.keepOnHost).
 */
export function downloadTensor(gpu: GpuContext, t: TensorType): Promise<TypedArray> {
  const bytes = gpuBytesOf(t);
  const onHost = bytes.host;
  // No async frame on the host path: a small call's whole read is this copy.
  if (onHost) return Promise.resolve(new Tensor(new Storage(onHost, t.dtype), t.shape, t.strides, t.offset, t.dtype).toTypedArray());
  return readDevice(gpu, t, bytes);
}

async function readDevice(gpu: GpuContext, t: TensorType, bytes: GpuBytes): Promise<TypedArray> {
  const dtype = t.dtype as LoopDType;
  const dense = t.offset === 0 && t.isContiguous();
  let span = t.numel;
  if (!dense && span > 0) span = t.offset + 1 + t.shape.reduce((end, size, k) => end + (size - 1) * t.strides[k]!, 0);
  gpu.pool.enter();
  try {
    const data = await readChecked(gpu, bytes, dtype, span);
    if (span === bytes.numel && span > 0) bytes.keepOnHost({ host: data.slice(), dtype });
    if (dense) return data;
    return new Tensor(new Storage(data, dtype), t.shape, t.strides, t.offset, dtype).toTypedArray();
  } finally {
    gpu.pool.leave();
  }
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
