// Copy-on-write: `clone()` shares the buffer until either side is written; views share one Storage and keep
// aliasing through those copies.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, arange, runEager, getOp, tensor, writeBack } from '@kiln/tensor';

import { FC_RUNS } from './support/refs.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

/** Each in-place op with arguments that change every element of a float tensor holding 0..n-1. */
const WRITES: [string, (t: Tensor) => unknown][] = [
  ['add_', (t) => t.add_(100)],
  ['sub_', (t) => t.sub_(tensor(100))],
  ['mul_', (t) => t.mul_(-1).sub_(1)],
  ['div_', (t) => t.add_(1).div_(0.5)],
  ['fill_', (t) => t.fill_(-3)],
  ['zero_', (t) => t.add_(1).zero_()],
  ['copy_', (t) => t.copy_(tensor([-9]))],
  ['maskedFill_', (t) => t.maskedFill_(t.ge(0), 42)],
  ['clamp_', (t) => t.clamp_(50, 60)],
];

const Clones = suite('cow: clones never see writes to their source, and vice versa');

Clones('a clone shares the buffer until the first write, then only the writer copies', () => {
  const x = arange(0, 4, 1, { dtype: 'float32' });
  const c = x.clone();
  assert.ok(c.storage !== x.storage);
  assert.ok(c.storage.sharesBufferWith(x.storage), 'lazy: no copy yet');
  x.add_(1);
  assert.not.ok(c.storage.sharesBufferWith(x.storage));
  assert.equal(values(x), [1, 2, 3, 4]);
  assert.equal(values(c), [0, 1, 2, 3]);
  c.mul_(10);
  assert.equal(values(c), [0, 10, 20, 30]);
  assert.equal(values(x), [1, 2, 3, 4]);
});

for (const [name, write] of WRITES) {
  Clones(`${name} on the source leaves an earlier clone alone, and ${name} on a clone leaves the source alone`, () => {
    const x = arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]);
    const c = x.clone();
    write(x);
    assert.equal(values(c), [0, 1, 2, 3, 4, 5], 'clone after writing its source');
    assert.not.equal(values(x), [0, 1, 2, 3, 4, 5], 'the source did change');
    const y = arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]);
    const d = y.clone();
    write(d);
    assert.equal(values(y), [0, 1, 2, 3, 4, 5], 'source after writing its clone');
    assert.equal(values(d), values(x), 'the clone changed the same way');
  });
}

Clones('clones of clones are independent of each other and of the source', () => {
  const a = tensor([1, 2, 3]);
  const b = a.clone();
  const c = b.clone();
  b.fill_(0);
  assert.equal(a.toArray(), [1, 2, 3]);
  assert.equal(b.toArray(), [0, 0, 0]);
  assert.equal(c.toArray(), [1, 2, 3]);
  c.add_(1);
  a.mul_(2);
  assert.equal([a.toArray(), b.toArray(), c.toArray()], [[2, 4, 6], [0, 0, 0], [2, 3, 4]]);
});

const Views = suite('cow: writes through views');

Views('a write into a view of the source reaches the source and its views, never a clone', () => {
  const x = arange(6).reshape([2, 3]);
  const row = x.select(0, 0);
  const col = x.transpose(0, 1).select(0, 1);
  const c = x.clone();
  row.fill_(-1);
  assert.equal(x.toArray(), [[-1, -1, -1], [3, 4, 5]]);
  assert.equal(col.toArray(), [-1, 4], 'another view made before the copy still aliases');
  assert.equal(c.toArray(), [[0, 1, 2], [3, 4, 5]]);
  x.select(1, 2).mul_(10);
  assert.equal(row.toArray(), [-1, -1, -10]);
  assert.equal(c.toArray(), [[0, 1, 2], [3, 4, 5]]);
});

Views('a write into a view of a clone never reaches the source', () => {
  const x = arange(6).reshape([2, 3]);
  const xRow = x.select(0, 1);
  const c = x.clone();
  const cCol = c.select(1, 0);
  cCol.fill_(7);
  assert.equal(c.toArray(), [[7, 1, 2], [7, 4, 5]]);
  assert.equal(x.toArray(), [[0, 1, 2], [3, 4, 5]]);
  assert.equal(xRow.toArray(), [3, 4, 5]);
});

Views('the clone of a view is isolated from its base, contiguous (lazy) or not (copied at once)', () => {
  const base = arange(8);
  const contiguousPart = base.slice(0, 2, 5);
  const stridedPart = base.slice(0, 0, 8, 3);
  const c1 = contiguousPart.clone();
  const c2 = stridedPart.clone();
  assert.ok(c1.storage.sharesBufferWith(base.storage), 'a contiguous view is cloned lazily');
  base.fill_(0);
  assert.equal(c1.toArray(), [2, 3, 4]);
  assert.equal(c2.toArray(), [0, 3, 6]);
  c1.add_(1);
  c2.add_(1);
  assert.equal(base.toArray(), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(contiguousPart.toArray(), [0, 0, 0], 'the view still aliases its base');
});

Views('in-place ops called through the registry (runEager) respect copy-on-write too', () => {
  const x = tensor([1, 2]);
  const c = x.clone();
  runEager(getOp('add_')!, [x.select(0, 0), 5, 1]);
  assert.equal(x.toArray(), [6, 2]);
  assert.equal(c.toArray(), [1, 2]);
});

const Model = suite('cow: random programs against a model of buffers');

type Action =
  | { kind: 'clone'; k: number }
  | { kind: 'slice'; k: number; start: number; step: number }
  | { kind: 'fill'; k: number; j: number; v: number }
  | { kind: 'add'; k: number; v: number }
  | { kind: 'copy'; k: number; from: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('clone' as const), k: fc.nat() }),
  fc.record({ kind: fc.constant('slice' as const), k: fc.nat(), start: fc.integer({ min: 0, max: 3 }), step: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('fill' as const), k: fc.nat(), j: fc.nat(), v: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ kind: fc.constant('add' as const), k: fc.nat(), v: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('copy' as const), k: fc.nat(), from: fc.nat() }),
);

Model('property: every tensor always reads what a model of shared and copied arrays says', () => {
  fc.assert(
    fc.property(fc.array(actionArb, { maxLength: 25 }), (actions) => {
      // The model: clones get a fresh array, views keep their parent's array with a position map.
      const buffers: number[][] = [[0, 1, 2, 3, 4, 5, 6, 7]];
      const pool: { t: Tensor; buffer: number; positions: number[] }[] = [
        { t: arange(0, 8, 1, { dtype: 'float64' }), buffer: 0, positions: [0, 1, 2, 3, 4, 5, 6, 7] },
      ];
      const read = (e: (typeof pool)[number]) => e.positions.map((p) => buffers[e.buffer]![p]!);
      for (const a of actions) {
        const e = pool[a.k % pool.length]!;
        const n = e.positions.length;
        if (a.kind === 'clone') {
          buffers.push(read(e));
          pool.push({ t: e.t.clone(), buffer: buffers.length - 1, positions: e.positions.map((_, i) => i) });
        } else if (a.kind === 'slice') {
          const positions = e.positions.filter((_, i) => i >= a.start && (i - a.start) % a.step === 0);
          pool.push({ t: e.t.slice(0, a.start, null, a.step), buffer: e.buffer, positions });
        } else if (a.kind === 'fill' && n > 0) {
          e.t.select(0, a.j % n).fill_(a.v);
          buffers[e.buffer]![e.positions[a.j % n]!] = a.v;
        } else if (a.kind === 'add') {
          e.t.add_(a.v);
          for (const p of e.positions) buffers[e.buffer]![p]! += a.v;
        } else if (a.kind === 'copy') {
          const src = pool[a.from % pool.length]!;
          if (src.positions.length === 0) continue;
          const v = read(src)[0]!;
          e.t.copy_(src.t.slice(0, 0, 1));
          for (const p of e.positions) buffers[e.buffer]![p] = v;
        }
        for (const entry of pool) assert.equal(values(entry.t), read(entry));
      }
    }),
    FC_RUNS,
  );
});

Clones('writeBack of a whole fresh result moves its bytes (no copy): views follow, earlier clones keep the old values, the version counts the write', () => {
  const x = arange(0, 4, 1, { dtype: 'float32' });
  const view = x.view([2, 2]);
  const before = x.clone();
  const version = x.storage.version;
  const result = arange(10, 14, 1, { dtype: 'float32' });
  writeBack(x, result);
  assert.ok(x.storage.sharesBufferWith(result.storage), 'the bytes moved');
  assert.equal(values(x), [10, 11, 12, 13]);
  assert.equal(values(view), [10, 11, 12, 13]);
  assert.equal(values(before), [0, 1, 2, 3]);
  assert.ok(x.storage.version > version);
  // Later writes through either side copy first: the other keeps its values.
  x.add_(1);
  assert.equal(values(result), [10, 11, 12, 13]);
  result.mul_(0);
  assert.equal(values(x), [11, 12, 13, 14]);
  // A write into part of a storage (a narrow view) copies values as copy_ does.
  const y = arange(0, 4, 1, { dtype: 'float32' });
  writeBack(y.narrow(0, 1, 2), tensor([7, 8], { dtype: 'float32' }));
  assert.equal(values(y), [0, 7, 8, 3]);
});

Clones.run();
Views.run();
Model.run();
