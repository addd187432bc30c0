// Which thread of a split call runs which chunk. Each thread owns a contiguous range of the chunks, the
// caller the first, and takes them from the front of its range; a thread whose range is empty takes
// chunks from the back of the others' ranges, so a thread the OS runs late (or a worker that never wakes)
// still cannot hold the call up. Stealing from the back keeps each thread's rows where they were on the
// last call: with one shared counter (the previous scheme) the chunks went to whichever thread asked first,
// so about half of what a thread read and wrote sat in the other core's cache from the call before.
// Softmax 1024² on 2 threads: each thread's chunks ran ≈ 15 % slower than alone that way (trace of 300
// calls, per-chunk timestamps).
//
// The table shared with the workers (Int32Array): [range count, one word per range (MAX_CHUNKS), the chunk
// bounds (MAX_CHUNKS + 1)]. A range's word packs its next chunk (low 16 bits) and its end (high 16 bits), so
// the owner taking from the front and a thief taking from the back agree through one compare-and-swap.
import { MAX_CHUNKS } from './dispatch.js';

/** Where the chunk bounds start in the table. */
export const BOUNDS_AT = 1 + MAX_CHUNKS;
/** The table's length in Int32 slots. */
export const TABLE_SLOTS = BOUNDS_AT + MAX_CHUNKS + 1;

/**
 * Gives each of `threads` threads an equal contiguous range of `count` chunks (thread 0, the caller, the
 * first). Written before any worker is offered the call.
 */
export function assignRanges(table: Int32Array, count: number, threads: number): void {
  for (let t = 0; t < threads; t++) {
    const begin = Math.floor((t * count) / threads), end = Math.floor(((t + 1) * count) / threads);
    Atomics.store(table, 1 + t, begin | (end << 16));
  }
  Atomics.store(table, 0, threads);
}

/**
 * The next chunk for thread `own` (its range's front, else another range's back), or -1 when none is left.
 * Self-contained (no names from outside, literal offsets): the worker source embeds its text.
 */
export function takeChunk(table: Int32Array, own: number): number {
  const ranges = table[0]!;
  for (let k = 0; k < ranges; k++) {
    const slot = 1 + ((own + k) % ranges);
    for (;;) {
      const word = Atomics.load(table, slot);
      const next = word & 0xffff, end = word >>> 16;
      if (next >= end) break;
      // the own range from the front, the others from the back
      const taken = k === 0 ? next : end - 1;
      const after = k === 0 ? (next + 1) | (end << 16) : next | ((end - 1) << 16);
      if (Atomics.compareExchange(table, slot, word, after) === word) return taken;
    }
  }
  return -1;
}
