// One wasm memory shared by every kernel module of a runtime, with a first-fit allocator. Buffers that
// flow between kernels stay here; only a program's inputs and outputs cross to JS. Growing the memory
// detaches old ArrayBuffers, so views are always made fresh from `memory.buffer`.
import type { LoopDType } from '@kiln/lower';
import { KilnError } from '@kiln/tensor';
import { wasmApi, type WasmMemory } from './wasm-api.js';
import type { ThreadPool } from './threads.js';
import { IMPRECISE_FLAG_ADDRESS } from '../codegen/imprecise.js';

const PAGE = 65536;
/** 64-byte alignment: a cache line, and more than any v128 access needs. */
const ALIGN = 64;

export type TypedArray = Float32Array | Int32Array | Uint8Array | Float64Array;

/**
 * The most bytes an arena hands out: 2 GiB, so every byte address (and every in-bounds element offset)
 * fits a signed i32. The kernels do their address arithmetic in i32 and compare with signed ops.
 */
export const ARENA_MAX_BYTES = 2 ** 31;

const MIB = 2 ** 20;
const showBytes = (n: number): string => (n >= MIB ? `${(n / MIB).toFixed(1)} MiB` : `${n} bytes`);

/**
 * A request the arena cannot serve: past its limit, or the host refused to grow the memory. The arena is
 * left as it was; the CPU backend runs such a call with the eager kernels in JS memory instead.
 */
export class ArenaOutOfMemoryError extends KilnError {
  constructor(
    /** Bytes asked for (rounded up to the arena's 64-byte alignment). */
    readonly requestedBytes: number,
    /** The arena's limit in bytes (for a refused grow: what the memory could not grow past). */
    readonly limitBytes: number,
    /** Bytes of the arena's address space in use when the request came (its top, free holes included). */
    readonly usedBytes: number,
    why: string,
  ) {
    super(
      `wasm arena: cannot allocate ${showBytes(requestedBytes)}: ${why} (limit ${showBytes(limitBytes)}, ${showBytes(usedBytes)} in use)`,
      'compiled calls this large run with the eager kernels (in JS memory) instead; to keep them compiled, use smaller tensors or split the work (e.g. over a batch dim)',
    );
  }
}

/**
 * Starts the worker threads of a shared arena. threads.ts installs it when it loads (the package index
 * imports it); the arena does not import node:worker_threads itself, so it also loads where that module
 * does not exist: browsers, and the standalone runtime of AOT-compiled modules, which never use threads.
 */
let startThreadPool: ((memory: WasmMemory, threads: number) => ThreadPool) | undefined;
export function installThreadPool(start: (memory: WasmMemory, threads: number) => ThreadPool): void {
  startThreadPool = start;
}

const VIEW = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, float64: Float64Array } as const;

export class Arena {
  readonly memory: WasmMemory;
  private top = ALIGN; // address 0 stays unused so a null pointer never aliases a buffer
  private readonly free = new Map<number, number>(); // ptr → bytes
  private readonly live = new Map<number, number>();
  /**
   * Blocks handed out for long (resident outputs; see `hold`), ptr → bytes. Kept out of `live` because
   * V8's Map costs O(size) per delete under insert/delete churn (≈ 1.4 µs per alloc/release pair with 600
   * entries, 11 µs with 5000): `live` must stay as small as one call's buffers. A dictionary-mode object
   * costs ≈ 0.15 µs per insert/delete at any size, and these change once per resident output.
   */
  private readonly held: Record<number, number> = Object.create(null) as Record<number, number>;

  /** Set for a shared arena: its maximum size in pages, which every module importing it must declare. */
  readonly maximumPages: number | undefined;
  /** Worker threads that share this arena's memory (see `threads.ts`); only for `{ threads: n > 1 }`. */
  readonly threads: ThreadPool | undefined;

  /** Bytes this arena may hand out (its top never passes it); see `ARENA_MAX_BYTES`. */
  maxBytes: number;

  /**
   * `threads: n > 1` makes the memory shared (a SharedArrayBuffer, with a fixed maximum of 2 GiB) and gives
   * it a pool of up to n - 1 worker threads (started at the first large call) that large kernels split
   * their work with. The default, 1, is one thread on an unshared memory; the CPU backend's own arena takes
   * its count from `configureThreads` / `KILN_THREADS` / the core count (runtime/process-arena.ts).
   */
  constructor(initialBytes = 16 * PAGE, options: { threads?: number; maxBytes?: number } = {}) {
    const initial = Math.ceil(initialBytes / PAGE);
    this.maxBytes = Math.min(options.maxBytes ?? ARENA_MAX_BYTES, ARENA_MAX_BYTES);
    const threads = options.threads ?? 1;
    if (threads > 1) {
      if (!startThreadPool) throw new KilnError('wasm arena: threads need the worker pool of @kiln/backend-cpu (worker_threads of Node), which this runtime does not load', 'create threaded arenas through the @kiln/backend-cpu package in Node');
      this.maximumPages = 32768;
      this.memory = new wasmApi.Memory({ initial, maximum: this.maximumPages, shared: true });
      this.threads = startThreadPool(this.memory, threads);
    } else {
      this.maximumPages = undefined;
      this.memory = new wasmApi.Memory({ initial });
      this.threads = undefined;
    }
  }

  /** Bytes of address space in use: the top of the arena, free holes below it included. */
  get usedBytes(): number {
    return this.top;
  }

  get bytesInUse(): number {
    let n = 0;
    for (const b of this.live.values()) n += b;
    for (const ptr in this.held) n += this.held[ptr]!;
    return n;
  }

  /**
   * A block of at least `bytes`, 64-byte aligned. Raises ArenaOutOfMemoryError, changing nothing, when the
   * block would pass `maxBytes` or the memory cannot grow: the new top is committed only after the grow.
   */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new ArenaOutOfMemoryError(bytes, this.maxBytes, this.top, 'not a byte count');
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
    if (ptr + size > this.maxBytes) throw new ArenaOutOfMemoryError(size, this.maxBytes, ptr, 'past the arena limit');
    const need = ptr + size - this.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.memory.grow(Math.ceil(need / PAGE));
      } catch (err) {
        // The host refused (RangeError: no memory, or a shared memory's maximum): nothing was committed.
        const error = new ArenaOutOfMemoryError(size, this.memory.buffer.byteLength, ptr, 'the host refused to grow the wasm memory');
        throw Object.assign(error, { cause: err });
      }
    }
    this.top = ptr + size;
    this.live.set(ptr, size);
    return ptr;
  }

  /**
   * Returns a block. Free neighbours are merged and a free block at the top lowers the top, so a program
   * that allocates and releases the same pattern every call keeps a fixed footprint instead of fragmenting.
   */
  release(ptr: number): void {
    let size = this.live.get(ptr);
    if (size !== undefined) this.live.delete(ptr);
    else if ((size = this.held[ptr]) !== undefined) delete this.held[ptr];
    else throw new Error(`arena: release of unknown pointer ${ptr}`);
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

  /** Marks a block as long-lived: it stays allocated until `release(ptr)`, which comes much later. */
  hold(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`arena: hold of unknown pointer ${ptr}`);
    this.live.delete(ptr);
    this.held[ptr] = size;
  }

  /** Per thread (0: the calling thread), the scratch block its kernels share: [pointer, bytes]. */
  private readonly scratchBlocks: [number, number][] = [];

  /**
   * A block of at least `bytes` for kernel scratch (matmul packing) on `thread`: one per thread, shared by
   * every kernel of every module on this arena, and made larger when a kernel needs more. Sharing is safe
   * because calls on one thread never overlap and a kernel keeps nothing in its scratch between calls. One
   * block per kernel never came back (each compiled matmul held its 640 KB for the life of the process), and
   * each kernel's first call touched fresh pages of its own.
   */
  scratch(thread: number, bytes: number): number {
    const block = this.scratchBlocks[thread];
    if (block && block[1] >= bytes) return block[0];
    const ptr = this.alloc(bytes); // may throw (ArenaOutOfMemoryError): the old block is kept then
    if (block) this.release(block[0]);
    this.scratchBlocks[thread] = [ptr, bytes];
    return ptr;
  }

  private flag: Int32Array | undefined;

  /**
   * The word kernels set to ask for an eager recompute (codegen/imprecise.ts), as a view made again only
   * when the memory grew: the runner reads and clears it on every call of a program that may set it.
   */
  flagWord(): Int32Array {
    if (this.flag?.buffer !== this.memory.buffer) this.flag = new Int32Array(this.memory.buffer, IMPRECISE_FLAG_ADDRESS, 1);
    return this.flag;
  }

  view(dtype: LoopDType, ptr: number, numel: number): TypedArray {
    return new VIEW[dtype](this.memory.buffer as ArrayBuffer, ptr, numel); // a SharedArrayBuffer when threaded
  }
}
