// Resident tensors: program outputs handed to the caller as tensors over their arena block instead of
// being copied into JS arrays, and read by later programs straight from it (see README "Resident
// tensors"). A block belongs to one `ResidentBlock` object, which every storage sharing the bytes
// references; when the last of them is garbage-collected a FinalizationRegistry returns the block.
import type { LoopDType } from '@kiln/lower';
import { BYTES_PER_ELEMENT } from '@kiln/lower';
import { KilnError, Storage, Tensor, type ExternalBytes, type TypedArray } from '@kiln/tensor';
import type { Arena } from './arena.js';
import { RESIDENT_FLOOR_BYTES, residentSettings as options } from './resident-options.js';
import { snapshotInputs, type Recipe } from './recipe.js';

/** A macrotask (not a microtask: finalizers do not run between microtasks) that does not keep Node alive. */
function afterTurn(f: () => void): void {
  const timer = setTimeout(f, 0) as unknown as { unref?: () => void };
  timer.unref?.();
}

/**
 * One arena block that backs resident tensors. Its pointer is only read while a storage holds this and the
 * block is not evicted. An evicted block (its output recyclable, see `ResidentPool.makeRoom`) is no longer
 * in the arena: its first read recomputes the elements from its recipe, into a JS array it keeps.
 */
export class ResidentBlock implements ExternalBytes {
  private cached: TypedArray;
  /** How to compute the elements again, while the block may be (or was) evicted; undefined otherwise. */
  recipe: Recipe | undefined;
  /** Whether `makeRoom` may evict the block now (its recipe set, on one of the pool's lists). */
  recyclable = false;
  evicted = false;
  /** Whether an evicted block's elements were computed again (they are `cached` then, a JS array). */
  private recomputed = false;

  constructor(
    readonly pool: ResidentPool,
    readonly ptr: number,
    readonly numel: number,
    readonly dtype: LoopDType,
    readonly blockBytes: number,
    /** A kept input's block (counted against the inputs' burst allowance), not an output's. */
    readonly input = false,
  ) {
    this.cached = pool.arena.view(dtype, ptr, numel);
  }

  /** The last storage over the block was disposed: the pool takes the block back now (see Tensor.dispose). */
  release(): void {
    this.pool.giveBack(this);
  }

  /** The view, re-made when the memory grew (growth detaches the old buffer; a stale view reads length 0). */
  view(): TypedArray {
    if (this.evicted) return this.recomputed ? this.cached : this.recompute();
    if (this.cached.buffer !== this.pool.arena.memory.buffer) this.cached = this.pool.arena.view(this.dtype, this.ptr, this.numel);
    return this.cached;
  }

  /** The elements of an evicted block, computed again from its recipe (once: later reads see the array). */
  private recompute(): TypedArray {
    const recipe = this.recipe;
    // never a stale view of memory another block now owns: an evicted block always keeps its recipe until read
    if (!recipe) throw new KilnError('backend-cpu: an evicted output lost the recipe to recompute it (a bug in Kiln)', 'please report it; configureResident({ recompute: false }) turns evictions off');
    const data = recipe.run(recipe.inputs);
    recipe.counts.recomputed++;
    this.pool.recomputed++;
    this.recipe = undefined; // the snapshots of the inputs go with it
    this.recomputed = true;
    return (this.cached = data);
  }
}

/**
 * The most recyclable blocks a pool holds at once: a synchronous loop evicts its previous call's output,
 * so a few cover any loop whose calls each make one large output.
 */
export const MAX_RECYCLABLE = 4;
/** The most recyclable blocks of earlier turns of the event loop a pool remembers (weakly). */
export const MAX_EARLIER_RECYCLABLE = 8;

/** The resident blocks of one arena: how many bytes are out, and releasing them once unreachable. */
export class ResidentPool {
  /** Bytes of blocks handed out and not yet released. */
  bytes = 0;
  blocks = 0;
  /**
   * Bytes of outputs handed out since the event loop last turned (reset by a timer armed at the first of
   * them), and of inputs kept: each has its own allowance of `burstBytes`. One allowance for both let a
   * synchronous loop's first call spend it all on its kept inputs (two 4 MB inputs: 8 MiB), and every later
   * output of the loop was copied out, read or not.
   */
  burst = 0;
  inputBurst = 0;
  private turnEnding = false;
  /**
   * `bytes` right after the collector last returned a block: the resident bytes still reachable then, the
   * best measure of the live set the pool has (dead blocks are only known dead when a finalizer runs).
   */
  private liveAfterCollect = 0;
  /**
   * Blocks whose outputs can be recomputed, oldest first: `makeRoom` evicts them instead of letting the
   * next output be copied out. This turn's are held strongly: a WeakRef made in a synchronous loop keeps
   * its target until the loop's task ends, a leak for a long loop. So the list is short (past
   * MAX_RECYCLABLE blocks the oldest becomes a plain resident block) and when the event loop turns its
   * blocks move to `earlier`, held weakly (the WeakRefs are made in the timer's own task), so that a dead
   * one is collected and its finalizer returns its block as before, while a live one can still be evicted
   * by a later turn's call (an app's calls, one per request or frame). Blocks also stop being recyclable
   * when evicted, disposed, or failing their recipe's check (the lists drop them lazily).
   */
  private recyclable: ResidentBlock[] = [];
  private earlier: WeakRef<ResidentBlock>[] = [];
  /** Blocks evicted, and evicted blocks read again (recomputed), since the pool was made. */
  evicted = 0;
  recomputed = 0;
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
    return bytes >= options.minBytes && this.fits(bytes);
  }

  private fits(bytes: number): boolean {
    return this.bytes + bytes <= this.limit() && this.burst + bytes <= options.burstBytes;
  }

  /** Whether an input copied into a block of `bytes` may stay there (see `ResidentOptions.keepInputs`). */
  admitsInput(bytes: number): boolean {
    return options.keepInputs && bytes >= options.minBytes && this.bytes + bytes <= this.limit() && this.inputBurst + bytes <= options.burstBytes;
  }

  /**
   * Makes a JS-memory storage live in an arena block that already holds a copy of its bytes; the pool
   * takes the block as it does an output's (see `adopt`), within the inputs' own burst allowance.
   */
  moveIn(storage: Storage, ptr: number, blockBytes: number, numel: number, dtype: LoopDType): void {
    storage.moveToExternal(Storage.fromExternal(this.take(ptr, blockBytes, numel, dtype, true), dtype).external!);
  }

  /**
   * Takes ownership of an arena block (`blockBytes` as allocated) and returns a storage over its first
   * `numel` elements. The caller must not release the block afterwards, nor keep its pointer. With a
   * `recipe` the block is recyclable: `makeRoom` may evict it while its tensor lives.
   */
  adopt(ptr: number, blockBytes: number, numel: number, dtype: LoopDType, recipe?: Recipe): Storage {
    const block = this.take(ptr, blockBytes, numel, dtype, false);
    const storage = Storage.fromExternal(block, dtype);
    if (recipe) {
      recipe.output = storage;
      recipe.outputVersion = storage.version;
      block.recipe = recipe;
      block.recyclable = true;
      if (this.recyclable.push(block) > MAX_RECYCLABLE) retire(this.recyclable.shift()!);
    }
    return storage;
  }

  private take(ptr: number, blockBytes: number, numel: number, dtype: LoopDType, input: boolean): ResidentBlock {
    this.arena.hold(ptr);
    const block = new ResidentBlock(this, ptr, numel, dtype, blockBytes, input);
    this.registry.register(block, { ptr, bytes: blockBytes }, block);
    this.bytes += blockBytes;
    this.blocks++;
    if (!this.turnEnding) {
      this.turnEnding = true;
      afterTurn(() => this.endTurn());
    }
    if (input) this.inputBurst += blockBytes;
    else this.burst += blockBytes;
    return block;
  }

  /** The event loop turned: new burst allowances, and this turn's recyclable blocks held weakly from now. */
  private endTurn(): void {
    this.turnEnding = false;
    this.burst = 0;
    this.inputBurst = 0;
    for (const block of this.recyclable) if (block.recyclable) this.earlier.push(new WeakRef(block));
    this.recyclable = [];
    while (this.earlier.length > MAX_EARLIER_RECYCLABLE) {
      const block = this.earlier.shift()!.deref();
      if (block) retire(block);
    }
  }

  /**
   * Before a call allocates an output of `bytes`: evicts recyclable blocks, oldest first, until the pool
   * admits that many bytes, so the output stays resident (often in the block just evicted, whose pages are
   * warm) instead of being copied out. A synchronous loop never learns that its previous output died (its
   * finalizer waits for the event loop and a major GC), so without this every output past the burst
   * allowance was copied out, and a read made a second copy. Blocks the call reads (`inputs`) stay; a block
   * whose recipe no longer holds (an input or the output written or disposed since) leaves the list and
   * stays, as a plain resident block.
   */
  makeRoom(bytes: number, inputs: readonly unknown[]): void {
    const short = Math.max(this.bytes + bytes - this.limit(), this.burst + bytes - options.burstBytes);
    if (short <= 0) return;
    this.earlier = this.earlier.filter((ref) => ref.deref()?.recyclable);
    this.recyclable = this.recyclable.filter((block) => block.recyclable);
    const readNow = (block: ResidentBlock) => inputs.some((t) => t instanceof Tensor && t.storage.external === block);
    const candidates = [...this.earlier.map((ref) => ref.deref()!), ...this.recyclable].filter((block) => !readNow(block));
    // Evict nothing unless evicting is enough: an output copied out anyway would leave the evicted blocks'
    // tensors to be recomputed for nothing if read again.
    if (candidates.reduce((sum, block) => sum + block.blockBytes, 0) < short) return;
    for (const block of candidates) {
      if (this.fits(bytes)) break;
      const recipe = block.recipe!;
      if (!snapshotInputs(recipe) || !this.registry.unregister(block)) {
        retire(block);
        continue;
      }
      this.returnBlock(block);
      block.recyclable = false;
      block.evicted = true;
      recipe.counts.evicted++;
      this.evicted++;
    }
  }

  /** Whether any block may be evictable (a cheap test before `makeRoom`). */
  get canEvict(): boolean {
    return this.recyclable.length > 0 || this.earlier.length > 0;
  }

  /**
   * Returns a block whose last storage was disposed: to the arena at once (the next output reuses its warm
   * pages) and off this turn's burst, so a loop that disposes what it read keeps its outputs resident.
   */
  giveBack(block: ResidentBlock): void {
    retire(block);
    if (block.evicted) block.recipe = undefined; // its last storage was disposed: nothing reads it again
    if (!this.registry.unregister(block)) return; // already given back, or evicted
    this.returnBlock(block);
  }

  private returnBlock(block: ResidentBlock): void {
    this.arena.release(block.ptr);
    this.bytes -= block.blockBytes;
    this.blocks--;
    if (block.input) this.inputBurst = Math.max(0, this.inputBurst - block.blockBytes);
    else this.burst = Math.max(0, this.burst - block.blockBytes);
  }

  /**
   * The pointer of the first element of a contiguous tensor whose bytes are resident in this pool, or
   * undefined when it must be copied in. The tensor (hence its block) is alive for as long as the caller
   * holds it, so the pointer is only valid while the caller holds the tensor.
   */
  pointerOf(storage: Storage, offset: number, dtype: LoopDType): number | undefined {
    const block = storage.external;
    if (!(block instanceof ResidentBlock) || block.pool !== this || block.evicted || block.dtype !== dtype) return undefined;
    return block.ptr + offset * BYTES_PER_ELEMENT[dtype];
  }
}

/**
 * A recyclable block that may no longer be evicted: a plain resident block from now on. An evicted block is
 * left as it is: its recipe is how its tensor reads (the pool's lists may still name it until filtered).
 */
function retire(block: ResidentBlock): void {
  if (!block.recyclable) return;
  block.recyclable = false;
  block.recipe = undefined;
}

const pools = new WeakMap<Arena, ResidentPool>();

export function residentPool(arena: Arena): ResidentPool {
  let pool = pools.get(arena);
  if (!pool) pools.set(arena, (pool = new ResidentPool(arena)));
  return pool;
}
