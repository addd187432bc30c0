// Which thread of a split call runs which chunk. Each thread owns a contiguous range of the chunks, the
// caller the first, and takes them from the front of its range; a thread whose range is empty takes
// chunks from the back of the others' ranges, so a thread the OS runs late (or a worker that never wakes)
// still cannot hold the call up. Stealing from the back keeps each thread's rows where they were on the
// last call: with one shared counter (the previous scheme) the chunks went to whichever thread asked first,
// so about half of what a thread read and wrote sat in the other core's cache from the call before.
// Softmax 1024² on 2 threads: each thread's chunks ran ≈ 15 % slower than alone that way (trace of 300
// calls, per-chunk timestamps).
// A split whose chunks cost what their size says (rows, elements: not a matmul, whose every chunk packs
// its own copy of A) cuts each thread's share into chunks that shrink toward its back: the owner takes the
// large ones first, and what is left when the other thread runs dry (what it steals, or waits for at the
// join) is small. Softmax 1024² on 2 threads, 300 traced calls: 16 equal chunks of 32 rows per share
// left the caller waiting ≈ 5 µs at the join in half the calls and 20–26 µs in a quarter.
//
// The table shared with the workers (Int32Array): [range count, one word per range (MAX_CHUNKS), the chunk
// bounds (MAX_CHUNKS + 1)]. A range's word packs its next chunk (low 16 bits) and its end (high 16 bits), so
// the owner taking from the front and a thief taking from the back agree through one compare-and-swap.
import type { KernelSignature } from '../codegen/kernels/frame.js';

/** Chunks per split call at most: the size of the table. */
export const MAX_CHUNKS = 64;

/** Chunks per thread of a split call unless its kernel says (a matmul: 2, see chunkBounds). */
const CHUNKS_PER_THREAD = 4;
/** In a graded share, the last chunk is about this fraction of the first. */
const LAST_OF_FIRST = 1 / 8;

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

/**
 * The chunk bounds of a split call over `extent` of the split axis, first and last included: whole
 * `align`-wide blocks (the last chunk also takes a partial block), an equal share of them per thread, each
 * share cut into the kernel's chunks per thread (fewer for a matmul, where each chunk packs its own copy of
 * A; graded, see above, except for a matmul). Every share has as many chunks, so assignRanges' ranges are
 * the shares.
 */
export function chunkBounds(split: NonNullable<KernelSignature['split']>, extent: number, threads: number): number[] {
  const blocks = Math.floor(extent / split.align);
  const shares = Math.min(threads, blocks, MAX_CHUNKS);
  const perThread = split.chunksPerThread ?? (split.unit === 'macs' ? 2 : CHUNKS_PER_THREAD);
  const pieces = Math.max(1, Math.min(perThread, Math.floor(blocks / shares), Math.floor(MAX_CHUNKS / shares)));
  // shares as chunk sizes: equal, or weights q^i (the last LAST_OF_FIRST of the first), as fractions of a share
  const q = split.unit === 'macs' || pieces === 1 ? 1 : LAST_OF_FIRST ** (1 / (pieces - 1));
  const before = (i: number) => (q === 1 ? i / pieces : (1 - q ** i) / (1 - q ** pieces));
  const bounds: number[] = [];
  for (let t = 0; t < shares; t++) {
    const from = Math.floor((blocks * t) / shares), size = Math.floor((blocks * (t + 1)) / shares) - from;
    const n = Math.min(pieces, size);
    for (let i = 0, last = -1; i < n; i++) {
      // at least one block per chunk, and room for one per chunk after it
      last = Math.min(Math.max(Math.round(size * before(i)), last + 1), size - (n - i));
      bounds.push((from + last) * split.align);
    }
  }
  bounds.push(extent);
  return bounds;
}
