// How a split call is cut into chunks (runtime/chunk-ranges.ts): in order, in whole blocks of the split
// axis, an equal share per thread with as many chunks each (the owner ranges), and, where chunks cost what
// their size says (rows, elements), chunks that shrink toward the back of each share, so that what a thread
// is left waiting for at the join is a small chunk. A matmul's chunks stay equal (each packs its own A).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkBounds, MAX_CHUNKS } from '../src/runtime/chunk-ranges.js';

type Split = Parameters<typeof chunkBounds>[0];
const rows: Split = { extent: 1024, align: 1, work: 1 << 20, unit: 'elements', chunksPerThread: 16 };
const elements: Split = { extent: 1 << 24, align: 16, work: 1 << 24, unit: 'elements' };
const columns: Split = { extent: 1024, align: 8, work: 1 << 30, unit: 'macs' };

const sizes = (b: number[]) => b.slice(1).map((x, i) => x - b[i]!);

/** The checks every cut must pass: first 0, last `extent`, increasing, inner bounds on whole blocks. */
function assertCovers(split: Split, extent: number, threads: number): number[] {
  const b = chunkBounds(split, extent, threads);
  const where = `${split.unit} extent ${extent} align ${split.align}, ${threads} threads: ${b.join(', ')}`;
  assert.is(b[0], 0, where);
  assert.is(b.at(-1), extent, where);
  assert.ok(b.length - 1 <= MAX_CHUNKS, `at most ${MAX_CHUNKS} chunks: ${where}`);
  for (let i = 1; i < b.length; i++) assert.ok(b[i]! > b[i - 1]!, `no empty chunk: ${where}`);
  for (const x of b.slice(0, -1)) assert.is(x % split.align, 0, `whole blocks: ${where}`);
  return b;
}

const Cut = suite('chunk bounds');

Cut('softmax 1024² rows on 2 threads: two shares of 512 rows, 16 chunks each, shrinking toward the back', () => {
  const b = assertCovers(rows, 1024, 2);
  assert.is(b.length - 1, 32);
  assert.is(b[16], 512, 'the caller’s share is the first half, the worker’s the second');
  for (const share of [sizes(b).slice(0, 16), sizes(b).slice(16)]) {
    for (let i = 1; i < share.length; i++) assert.ok(share[i]! <= share[i - 1]!, `each chunk at most the one before: ${share.join(', ')}`);
    assert.ok(share[0]! >= 6 * share.at(-1)!, `the last chunk is a small fraction of the first: ${share.join(', ')}`);
    assert.ok(share.at(-1)! <= 16, `the join waits for at most a small chunk (≤ 16 rows, half the old 32): ${share.join(', ')}`);
  }
});

Cut('elements in whole cache lines: equal shares, graded chunks, the last chunk takes the partial block', () => {
  const b = assertCovers(elements, 1 << 24, 2);
  assert.is(b.length - 1, 8);
  assert.is(b[4], 1 << 23);
  const s = sizes(b);
  assert.ok(s[3]! < s[0]! && s[7]! < s[4]!, s.join(', '));
  const odd = assertCovers(elements, (1 << 18) + 13, 2);
  assert.is(sizes(odd).at(-1)! % 16, 13, 'the partial block rides with the last chunk');
});

Cut('matmul columns: equal chunks, two per thread', () => {
  const b = assertCovers(columns, 1024, 2);
  assert.equal(sizes(b), [256, 256, 256, 256]);
});

Cut('few blocks, many threads, odd sizes: every cut still covers the axis in order', () => {
  for (const split of [rows, elements, columns]) {
    for (const threads of [2, 3, 4, 7, 64, 100, 256]) {
      for (const blocks of [threads, threads + 1, 2 * threads + 3, 40, 1000, 4099]) {
        if (blocks < threads) continue;
        const b = assertCovers(split, blocks * split.align + (split.align > 1 ? 5 : 0), threads);
        // every share has as many chunks, so assignRanges' equal ranges are the shares
        const shares = Math.min(threads, MAX_CHUNKS);
        assert.is((b.length - 1) % shares, 0, `${b.length - 1} chunks over ${shares} shares`);
      }
    }
  }
});

Cut.run();
