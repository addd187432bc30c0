/// <reference types="@webgpu/types" />
// Device buffers reused across calls, by size class (powers of two from 256 bytes). All work goes through
// one queue in order, so a buffer handed back after a call is safe to hand out to the next: whatever the
// next call records runs after everything the previous one submitted. A buffer whose tensor is still alive
// (read back whole, or disposed) is given back only when no work is between taking a buffer of a tensor
// and submitting the commands that read it (`enter`/`leave`): such work may hold this very buffer.
const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function sizeClass(bytes: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
}

export class BufferPool {
  /** Buffers created so far (the pool never shrinks; a test watches that steady use does not grow it). */
  created = 0;
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  /** Work that may hold a tensor's buffer it has not yet recorded a read of. */
  private busy = 0;
  private parked: GPUBuffer[] = [];

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

  /** Gives `buffer` back now if no work is in progress, else when the last one leaves. */
  giveWhenIdle(buffer: GPUBuffer): void {
    if (this.busy === 0) this.give(buffer);
    else this.parked.push(buffer);
  }

  /** Work starts that takes tensors' buffers and records reads of them (called before it takes any). */
  enter(): void {
    this.busy++;
  }

  /** That work submitted its commands. */
  leave(): void {
    if (--this.busy > 0) return;
    for (const b of this.parked) this.give(b);
    this.parked = [];
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
