// One wasm memory shared by every kernel module of a runtime, with a first-fit allocator. Buffers that
// flow between kernels stay here; only a program's inputs and outputs cross to JS. Growing the memory
// detaches old ArrayBuffers, so views are always made fresh from `memory.buffer`.
import type { LoopDType } from '@kiln/core';
import { wasmApi, type WasmMemory } from './wasm-api.js';

const PAGE = 65536;
/** 64-byte alignment: a cache line, and more than any v128 access needs. */
const ALIGN = 64;

export type TypedArray = Float32Array | Int32Array | Uint8Array | Float64Array;

const VIEW = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, float64: Float64Array } as const;

export class Arena {
  readonly memory: WasmMemory;
  private top = ALIGN; // address 0 stays unused so a null pointer never aliases a buffer
  private readonly free = new Map<number, number>(); // ptr → bytes
  private readonly live = new Map<number, number>();

  constructor(initialBytes = 16 * PAGE) {
    this.memory = new wasmApi.Memory({ initial: Math.ceil(initialBytes / PAGE) });
  }

  get bytesInUse(): number {
    let n = 0;
    for (const b of this.live.values()) n += b;
    return n;
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let best: number | undefined;
    for (const [ptr, b] of this.free) if (b >= size && (best === undefined || b < this.free.get(best)!)) best = ptr;
    if (best !== undefined) {
      const b = this.free.get(best)!;
      this.free.delete(best);
      if (b > size) this.free.set(best + size, b - size);
      this.live.set(best, size);
      return best;
    }
    const ptr = this.top;
    this.top += size;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    this.live.set(ptr, size);
    return ptr;
  }

  /**
   * Returns a block. Free neighbours are merged and a free block at the top lowers the top, so a program
   * that allocates and releases the same pattern every call keeps a fixed footprint instead of fragmenting.
   */
  release(ptr: number): void {
    let size = this.live.get(ptr);
    if (size === undefined) throw new Error(`arena: release of unknown pointer ${ptr}`);
    this.live.delete(ptr);
    const next = this.free.get(ptr + size);
    if (next !== undefined) {
      this.free.delete(ptr + size);
      size += next;
    }
    for (const [p, b] of this.free) {
      if (p + b !== ptr) continue;
      this.free.delete(p);
      ptr = p;
      size += b;
      break;
    }
    if (ptr + size === this.top) this.top = ptr;
    else this.free.set(ptr, size);
  }

  view(dtype: LoopDType, ptr: number, numel: number): TypedArray {
    return new VIEW[dtype](this.memory.buffer, ptr, numel);
  }
}
