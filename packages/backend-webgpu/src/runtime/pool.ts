/// <reference types="@webgpu/types" />
// Device buffers reused across calls, by size class (powers of two from 256 bytes). All work goes through
// one queue in order, so a buffer handed back after a call is safe to hand out to the next: whatever the
// next call records runs after everything the previous one submitted.
const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function sizeClass(bytes: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
}

export class BufferPool {
  /** Buffers created so far (the pool never shrinks; a test watches that steady use does not grow it). */
  created = 0;
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly staging = new Map<number, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  take(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused) return reused;
    this.created++;
    return this.device.createBuffer({ size, usage: STORAGE() });
  }

  give(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
  }

  takeStaging(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    return this.staging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  giveStaging(buffer: GPUBuffer): void {
    const list = this.staging.get(buffer.size) ?? [];
    list.push(buffer);
    this.staging.set(buffer.size, list);
  }
}
