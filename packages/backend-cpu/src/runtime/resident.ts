// Resident tensors: program outputs handed to the caller as tensors over their arena block instead of
// being copied into JS arrays, and read by later programs straight from it (see README "Resident
// tensors"). A block belongs to one `ResidentBlock` object, which every storage sharing the bytes
// references; when the last of them is garbage-collected a FinalizationRegistry returns the block.
import type { LoopDType } from '@kiln/lower';
import { BYTES_PER_ELEMENT } from '@kiln/lower';
import { KilnError, Storage, type ExternalBytes, type TypedArray } from '@kiln/tensor';
import type { Arena } from './arena.js';

export interface ResidentOptions {
  /**
   * Bytes of resident outputs alive at once, per arena, above which outputs are copied out to JS arrays
   * again. V8 does not count wasm memory as GC pressure, so without this a loop making resident outputs
   * could grow the arena without bound before the registry gets to release anything. 0 turns them off.
   * The pool keeps below a tighter, self-adjusting limit too (see `ResidentPool.limit`).
   */
  budgetBytes: number;
  /**
   * Bytes handed out since the event loop last turned, above which outputs are copied out until it turns.
   * Finalizers only run between tasks, so a synchronous loop gets nothing back: without this it would
   * spend the whole budget on fresh arena pages (page faults make a new 4 MB block cost more than a copy
   * into a recycled JS array) and keep that footprint for good.
   */
  burstBytes: number;
  /**
   * Outputs smaller than this are copied out: for a few elements the copy costs less than registering
   * the block for finalization and re-checking the view on every read.
   */
  minBytes: number;
  /**
   * Whether an input copied into the arena stays there as its tensor's storage (within the same budgets),
   * so calling again with the same tensor passes it by pointer instead of copying it again.
   */
  keepInputs: boolean;
  /**
   * Whether the first output of at least `WARM_HEAP_MIN_BYTES` raises glibc's adaptive malloc thresholds
   * (`warmHeapFor`), so the fresh arrays that reads and copies out make reuse freed, already-mapped memory
   * instead of faulting in new pages on every call. Only read until it has acted, once per process.
   */
  warmHeap: boolean;
}

/** Process-wide settings; every pool reads them when it hands out an output. */
// burstBytes: 8 MiB, two 4 MB outputs. In a synchronous loop every block past it would be fresh arena pages,
// dearer than copying out into a recycled JS array (README, Budget); 64 MiB made the first 16 calls of a
// 1M-element loop pay them, most of a short timed loop on a loaded machine.
const options: ResidentOptions = { budgetBytes: 256 * 2 ** 20, burstBytes: 8 * 2 ** 20, minBytes: 16384, keepInputs: true, warmHeap: true };

/**
 * What the pool may always have out, whatever live set it measured (see `ResidentPool.limit`): two default
 * bursts, so a loop whose outputs die at once still gets its outputs resident between GCs.
 */
export const RESIDENT_FLOOR_BYTES = 16 * 2 ** 20;

/** A macrotask (not a microtask: finalizers do not run between microtasks) that does not keep Node alive. */
function afterTurn(f: () => void): void {
  const timer = setTimeout(f, 0) as unknown as { unref?: () => void };
  timer.unref?.();
}

export class ResidentConfigError extends KilnError {}

const show = (v: unknown): string => {
  try {
    return typeof v === 'string' ? `'${v}'` : String(v);
  } catch {
    return typeof v;
  }
};

/** Changes the resident-output settings (all arenas); returns the settings now in force. */
export function configureResident(changes: Partial<ResidentOptions> = {}): Readonly<ResidentOptions> {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new ResidentConfigError(
      `configureResident: expects an object of settings, got ${changes === null ? 'null' : Array.isArray(changes) ? 'an array' : `${typeof changes} ${show(changes)}`}`,
      `e.g. configureResident({ budgetBytes: 64 * 2 ** 20 }); settings: ${Object.keys(options).join(', ')}`,
    );
  }
  for (const [key, value] of Object.entries(changes) as [keyof ResidentOptions, unknown][]) {
    if (value === undefined) continue;
    if (!Object.hasOwn(options, key)) throw new ResidentConfigError(`configureResident: unknown setting '${key}'`, `one of ${Object.keys(options).join(', ')}`);
    if (key === 'keepInputs' || key === 'warmHeap') {
      if (typeof value !== 'boolean') throw new ResidentConfigError(`configureResident: ${key} must be true or false, got ${typeof value} ${show(value)}`, 'pass a boolean');
      options[key] = value;
    } else if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new ResidentConfigError(
        `configureResident: ${key} must be a finite number ≥ 0, got ${show(value)}`,
        key === 'budgetBytes' ? 'a byte count; 0 turns resident outputs off' : 'a byte count',
      );
    } else {
      options[key] = value;
    }
  }
  return { ...options };
}

/** Outputs from this size on make the arrays whose page faults `warmHeapFor` avoids (1 MiB: 256 Ki floats). */
export const WARM_HEAP_MIN_BYTES = 2 ** 20;
/** glibc's largest adaptive mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB on 64-bit). */
const GLIBC_MMAP_THRESHOLD_MAX = 32 * 2 ** 20;
let heapWarmed = false;

/**
 * Called with the size of each program output before it is handed out. At the first large one (once per
 * process, unless `warmHeap` is off) it allocates and drops a block just under 32 MiB. glibc's malloc maps
 * such a block on its own (mmap), and freeing a mapped block raises its adaptive thresholds to that block's
 * size: later blocks under 32 MiB come from its heap, and it returns freed memory at the top of that heap to
 * the OS only past 64 MiB instead of past twice the largest block freed so far (8 MiB after a 4 MB read).
 * Without it a loop that reads 4 MB results frees two of them per call (the read and the copy out of wasm
 * memory), the GC frees several calls' worth together, glibc trims them, and every fresh array faults its
 * 1024 pages in again: 12–20 µs each on the VM the bench runs on, 12–40 ms per call against a 0.6 ms kernel
 * (backend-cpu README, "What a read costs"). The block is never touched, so it costs a map and an unmap;
 * the price is up to 64 MiB of freed heap kept mapped. Other allocators (musl, macOS) are not affected.
 */
export function warmHeapFor(bytes: number): void {
  if (heapWarmed || bytes < WARM_HEAP_MIN_BYTES || !options.warmHeap) return;
  heapWarmed = true;
  try {
    // Two pages under the maximum, so the mapped block (header and page rounding included) stays within it.
    // Dropped at once: the next GC frees it, to glibc.
    void new ArrayBuffer(GLIBC_MMAP_THRESHOLD_MAX - 8192);
  } catch {
    // no room for it (RangeError): a hint only, and the call goes on without it
  }
}

/** One arena block that backs resident tensors. Its pointer is only read while a storage holds this. */
export class ResidentBlock implements ExternalBytes {
  private cached: TypedArray;

  constructor(
    readonly pool: ResidentPool,
    readonly ptr: number,
    readonly numel: number,
    readonly dtype: LoopDType,
    readonly blockBytes: number,
  ) {
    this.cached = pool.arena.view(dtype, ptr, numel);
  }

  /** The last storage over the block was disposed: the pool takes the block back now (see Tensor.dispose). */
  release(): void {
    this.pool.giveBack(this);
  }

  /** The view, re-made when the memory grew (growth detaches the old buffer; a stale view reads length 0). */
  view(): TypedArray {
    if (this.cached.buffer !== this.pool.arena.memory.buffer) this.cached = this.pool.arena.view(this.dtype, this.ptr, this.numel);
    return this.cached;
  }
}

/** The resident blocks of one arena: how many bytes are out, and releasing them once unreachable. */
export class ResidentPool {
  /** Bytes of blocks handed out and not yet released. */
  bytes = 0;
  blocks = 0;
  /** Bytes handed out since the event loop last turned (reset by a timer armed at the first of them). */
  burst = 0;
  /**
   * `bytes` right after the collector last returned a block: the resident bytes still reachable then, the
   * best measure of the live set the pool has (dead blocks are only known dead when a finalizer runs).
   */
  private liveAfterCollect = 0;
  // The held value is the pointer and size only: it must not reference the block, or it would never die.
  private readonly registry = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => {
    this.arena.release(ptr);
    this.bytes -= bytes;
    this.blocks--;
    this.liveAfterCollect = this.bytes;
  });

  constructor(readonly arena: Arena) {}

  /**
   * Bytes the pool may have out now: twice the live set it last measured, at least `RESIDENT_FLOOR_BYTES`,
   * at most the budget. Blocks of dead tensors stay out until a major GC runs their finalizers, and V8 schedules those
   * by the JS heap alone, so their interval stretches as a process ages: with the whole budget as the only
   * limit, the dead blocks waiting for a GC kept the arena's high-water mark (which wasm memory never gives
   * back) creeping towards the budget — 97 → 224 MB over the soak's 10⁶ calls. Past this limit outputs are
   * copied out to JS arrays, which V8 does count (external memory), so the next GC comes sooner and returns
   * the dead blocks, which later outputs reuse.
   */
  limit(): number {
    return Math.min(options.budgetBytes, Math.max(RESIDENT_FLOOR_BYTES, 2 * this.liveAfterCollect));
  }

  /** Whether an output of `bytes` may stay resident now (within the limits, and big enough to pay). */
  admits(bytes: number): boolean {
    return bytes >= options.minBytes && this.bytes + bytes <= this.limit() && this.burst + bytes <= options.burstBytes;
  }

  /** Whether an input copied into a block of `bytes` may stay there (see `ResidentOptions.keepInputs`). */
  admitsInput(bytes: number): boolean {
    return options.keepInputs && this.admits(bytes);
  }

  /**
   * Makes a JS-memory storage live in an arena block that already holds a copy of its bytes; the pool
   * takes the block as it does an output's (see `adopt`).
   */
  moveIn(storage: Storage, ptr: number, blockBytes: number, numel: number, dtype: LoopDType): void {
    storage.moveToExternal(this.adopt(ptr, blockBytes, numel, dtype).external!);
  }

  /**
   * Takes ownership of an arena block (`blockBytes` as allocated) and returns a storage over its first
   * `numel` elements. The caller must not release the block afterwards, nor keep its pointer.
   */
  adopt(ptr: number, blockBytes: number, numel: number, dtype: LoopDType): Storage {
    this.arena.hold(ptr);
    const block = new ResidentBlock(this, ptr, numel, dtype, blockBytes);
    this.registry.register(block, { ptr, bytes: blockBytes }, block);
    this.bytes += blockBytes;
    this.blocks++;
    if (this.burst === 0) afterTurn(() => (this.burst = 0));
    this.burst += blockBytes;
    return Storage.fromExternal(block, dtype);
  }

  /**
   * Returns a block whose last storage was disposed: to the arena at once (the next output reuses its warm
   * pages) and off this turn's burst, so a loop that disposes what it read keeps its outputs resident.
   */
  giveBack(block: ResidentBlock): void {
    if (!this.registry.unregister(block)) return; // already given back
    this.arena.release(block.ptr);
    this.bytes -= block.blockBytes;
    this.blocks--;
    this.burst = Math.max(0, this.burst - block.blockBytes);
  }

  /**
   * The pointer of the first element of a contiguous tensor whose bytes are resident in this pool, or
   * undefined when it must be copied in. The tensor (hence its block) is alive for as long as the caller
   * holds it, so the pointer is only valid while the caller holds the tensor.
   */
  pointerOf(storage: Storage, offset: number, dtype: LoopDType): number | undefined {
    const block = storage.external;
    if (!(block instanceof ResidentBlock) || block.pool !== this || block.dtype !== dtype) return undefined;
    return block.ptr + offset * BYTES_PER_ELEMENT[dtype];
  }
}

const pools = new WeakMap<Arena, ResidentPool>();

export function residentPool(arena: Arena): ResidentPool {
  let pool = pools.get(arena);
  if (!pool) pools.set(arena, (pool = new ResidentPool(arena)));
  return pool;
}
