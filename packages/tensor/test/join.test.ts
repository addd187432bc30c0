import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { IndexError, ShapeError, Tensor, ValueError, arange, cat, chunk, getOp, split, stack, tensor, zeros } from '@kiln/tensor';

import { FC_RUNS, expectError, layoutArb, makeTensor, numelOf, ravel, shapeArb, unravel, valuesFor } from './support/refs.js';
import { metaOnSymbolicSizes } from './support/symbolic.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

/** A tensor whose values are `start + row-major index`, laid out as asked. */
const numbered = (shape: number[], layout: 'contiguous' | 'permuted' | 'strided', start = 0) =>
  makeTensor(valuesFor(shape).map((v) => v + start), shape, layout);

/** Reference cat: output index `i` reads the part whose segment along `dim` contains `i[dim]`. */
function refCat(parts: { flat: number[]; shape: number[] }[], dim: number): { flat: number[]; shape: number[] } {
  const shape = [...parts[0]!.shape];
  shape[dim] = parts.reduce((a, p) => a + p.shape[dim]!, 0);
  const flat = new Array<number>(numelOf(shape));
  for (let i = 0; i < flat.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    let at = idx[dim]!;
    while (at >= parts[k]!.shape[dim]!) at -= parts[k++]!.shape[dim]!;
    const local = [...idx];
    local[dim] = at;
    flat[i] = parts[k]!.flat[ravel(local, parts[k]!.shape)]!;
  }
  return { flat, shape };
}

const Cat = suite('join: cat');

Cat('joins along dim 0 and along a negative dim, as torch.cat', () => {
  const a = tensor([[1, 2], [3, 4]]);
  const b = tensor([[5, 6]]);
  assert.equal(cat([a, b]).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.equal(cat([a, tensor([[7], [8]])], -1).toArray(), [[1, 2, 7], [3, 4, 8]]);
  assert.equal(cat([a]).toArray(), a.toArray());
});

Cat('promotes dtypes like torch.cat', () => {
  const r = cat([tensor([1, 2]), tensor([0.5])]);
  assert.is(r.dtype, 'float32');
  assert.equal(values(r), [1, 2, 0.5]);
  assert.is(cat([tensor([true]), tensor([false])]).dtype, 'bool');
  assert.equal(cat([tensor([true]), tensor([3])]).toArray(), [1, 3]);
});

Cat('skips 1-D empty tensors whatever the rank of the others (PyTorch legacy rule)', () => {
  const x = tensor([[1, 2], [3, 4]]);
  assert.equal(cat([zeros([0], { dtype: 'int32' }), x, zeros([0], { dtype: 'int32' })], 1).toArray(), x.toArray());
  assert.equal(cat([zeros([0]), zeros([0])]).shape, [0]);
});

Cat('size-0 parts along the joined dim contribute nothing', () => {
  const r = cat([zeros([2, 0]), tensor([[1.5], [2.5]]), zeros([2, 0])], 1);
  assert.equal(r.shape, [2, 1]);
  assert.equal(values(r), [1.5, 2.5]);
});

Cat('errors name the op, the positions and the shapes', () => {
  expectError(() => cat([tensor([[1, 2]]), tensor([[1, 2, 3]])]), ShapeError, 'cat', 'position 1', '[1, 3]', '[1, 2]', 'dim 1');
  expectError(() => cat([tensor([[1, 2]]), tensor([1, 2])]), ShapeError, 'cat', 'different number of dims');
  expectError(() => cat([tensor(1), tensor(2)]), ShapeError, 'cat', 'zero-dimensional');
  expectError(() => cat([]), ValueError, 'cat', "'tensors'");
  expectError(() => cat([tensor([1])], 2), IndexError, 'cat', 'dim=2');
});

Cat('property: matches a naive reference over random shapes and layouts', () => {
  fc.assert(
    fc.property(
      shapeArb(3, 3).filter((s) => s.length > 0),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), layoutArb), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (shape, specs, dimSeed) => {
        const dim = dimSeed % shape.length;
        const parts = specs.map(([len, layout], k) => {
          const s = [...shape];
          s[dim] = len;
          return { t: numbered(s, layout, 100 * k), flat: valuesFor(s).map((v) => v + 100 * k), shape: s };
        });
        const expected = refCat(parts, dim);
        const r = cat(parts.map((p) => p.t), dim - shape.length);
        assert.equal(r.shape, expected.shape);
        assert.equal(values(r), expected.flat);
      },
    ),
    FC_RUNS,
  );
});

const Stack = suite('join: stack');

Stack('adds a new dim at the given position', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([4, 5, 6]);
  assert.equal(stack([a, b]).toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(stack([a, b], 1).toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.equal(stack([a, b], -1).toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.equal(stack([tensor(1), tensor(2)]).toArray(), [1, 2]);
  assert.equal(stack([zeros([0, 2]), zeros([0, 2])], 1).shape, [0, 2, 2]);
});

Stack('needs equal shapes; errors name both shapes', () => {
  expectError(() => stack([tensor([1, 2]), tensor([1, 2, 3])]), ShapeError, 'stack', 'position 1', '[3]', '[2]');
  expectError(() => stack([tensor([1, 2])], 2), IndexError, 'stack', 'dim=2');
  expectError(() => stack([]), ValueError, 'stack');
});

Stack('property: out[i] reads tensors[i[dim]] at the other coordinates; the decomposition agrees', () => {
  const decompose = getOp('stack')!.decompose!;
  fc.assert(
    fc.property(shapeArb(3, 3), fc.array(layoutArb, { minLength: 1, maxLength: 3 }), fc.nat(), (shape, layouts, dimSeed) => {
      const dim = dimSeed % (shape.length + 1);
      const ts = layouts.map((layout, k) => numbered(shape, layout, 10 * k));
      const r = stack(ts, dim);
      const outShape = [...shape];
      outShape.splice(dim, 0, ts.length);
      assert.equal(r.shape, outShape);
      const expected = Array.from({ length: numelOf(outShape) }, (_, i) => {
        const idx = unravel(i, outShape);
        const k = idx.splice(dim, 1)[0]!;
        return ravel(idx, shape) + 1 + 10 * k;
      });
      assert.equal(values(r), expected);
      assert.equal(values(decompose([ts, dim]) as Tensor), expected);
    }),
    FC_RUNS,
  );
});

/** PyTorch's piece lengths for split(size) along a dim of length n. */
function refSplitLengths(n: number, size: number): number[] {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let start = 0; start < n; start += size) out.push(Math.min(size, n - start));
  return out;
}

const Split = suite('join: split');

Split('splits by size (the last piece shorter) and by sections', () => {
  assert.equal(arange(7).split(3).map((t) => t.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.equal(arange(6).split(3).map((t) => t.toArray()), [[0, 1, 2], [3, 4, 5]]);
  assert.equal(arange(7).split([2, 0, 5]).map((t) => t.toArray()), [[0, 1], [], [2, 3, 4, 5, 6]]);
  const m = arange(6).reshape([2, 3]);
  assert.equal(split(m, 2, 1).map((t) => t.toArray()), [[[0, 1], [3, 4]], [[2], [5]]]);
  assert.equal(split(m, 5, -1).map((t) => t.shape), [[2, 3]]);
});

Split('an empty dim gives one empty piece; pieces are views of the input', () => {
  assert.equal(zeros([0, 2]).split(2).map((t) => t.shape), [[0, 2]]);
  assert.equal(zeros([0]).split(0).map((t) => t.shape), [[0]]);
  const x = arange(6).reshape([2, 3]);
  const [, right] = x.split([1, 2], 1);
  assert.ok(right!.storage === x.storage, 'a piece shares the storage');
  right!.fill_(-1);
  assert.equal(x.toArray(), [[0, -1, -1], [3, -1, -1]]);
});

Split('errors: sections that do not sum to the size, a bad split size, a 0-dim input', () => {
  expectError(() => arange(5).split([2, 2]), ShapeError, 'split', '[2, 2]', 'size 5');
  expectError(() => arange(5).split([6, -1]), ShapeError, 'split');
  expectError(() => arange(5).split(0), ValueError, 'split', 'splitSize=0');
  expectError(() => arange(5).split(-2), ValueError, 'split');
  expectError(() => tensor(1).split(1), ShapeError, 'split', '0-dim');
  expectError(() => arange(5).split(1, 1), IndexError, 'split', 'dim=1');
});

Split('property: pieces have PyTorch lengths, join back to the input and alias it; the decomposition agrees', () => {
  const decompose = getOp('split')!.decompose!;
  fc.assert(
    fc.property(shapeArb(3, 5).filter((s) => s.length > 0), layoutArb, fc.nat(), fc.integer({ min: 1, max: 4 }), (shape, layout, dimSeed, size) => {
      const dim = dimSeed % shape.length;
      const x = numbered(shape, layout);
      const pieces = x.split(size, dim);
      assert.equal(pieces.map((p) => p.shape[dim]), refSplitLengths(shape[dim]!, size));
      assert.equal(values(cat(pieces, dim)), values(x));
      for (const p of pieces) assert.ok(p.storage === x.storage);
      const viaNarrow = decompose([x, size, dim]) as Tensor[];
      assert.equal(viaNarrow.map((p) => values(p)), pieces.map((p) => values(p)));
    }),
    FC_RUNS,
  );
});

const Chunk = suite('join: chunk');

Chunk('pieces of ceil(n / chunks), so possibly fewer than asked (as torch.chunk)', () => {
  assert.equal(arange(6).chunk(4).map((t) => t.toArray()), [[0, 1], [2, 3], [4, 5]]);
  assert.equal(arange(5).chunk(2).map((t) => t.toArray()), [[0, 1, 2], [3, 4]]);
  assert.equal(arange(2).chunk(5).map((t) => t.toArray()), [[0], [1]]);
  assert.equal(chunk(arange(6).reshape([2, 3]), 3, 1).map((t) => t.shape), [[2, 1], [2, 1], [2, 1]]);
});

Chunk('an empty dim gives `chunks` empty pieces; bad chunk counts are errors', () => {
  assert.equal(zeros([0, 3]).chunk(3).map((t) => t.shape), [[0, 3], [0, 3], [0, 3]]);
  expectError(() => arange(4).chunk(0), ValueError, 'chunk', 'chunks=0');
  expectError(() => tensor(3).chunk(1), ShapeError, 'chunk');
});

Chunk('property: piece count and lengths follow the PyTorch formula; pieces join back', () => {
  const decompose = getOp('chunk')!.decompose!;
  fc.assert(
    fc.property(shapeArb(3, 6).filter((s) => s.length > 0), layoutArb, fc.nat(), fc.integer({ min: 1, max: 7 }), (shape, layout, dimSeed, chunks) => {
      const dim = dimSeed % shape.length;
      const n = shape[dim]!;
      const x = numbered(shape, layout);
      const pieces = chunk(x, chunks, dim);
      const expected = n === 0 ? new Array<number>(chunks).fill(0) : refSplitLengths(n, Math.ceil(n / chunks));
      assert.equal(pieces.map((p) => p.shape[dim]), expected);
      assert.equal(values(cat(pieces, dim)), values(x));
      assert.equal((decompose([x, chunks, dim]) as Tensor[]).map(values), pieces.map(values));
    }),
    FC_RUNS,
  );
});

Cat.run();
Stack.run();
Split.run();
Chunk.run();

const Symbolic = suite('join: meta functions over symbolic sizes');

Symbolic('property: cat, stack, split and chunk metas on symbolic sizes give the eager shapes', () => {
  fc.assert(
    fc.property(shapeArb(3, 5).filter((s) => s.length > 0), fc.nat(), fc.integer({ min: 1, max: 4 }), (shape, dimSeed, k) => {
      const dim = dimSeed % shape.length;
      const x = zeros(shape);
      const other = zeros(shape.map((s, d) => (d === dim ? k : s)));
      const cases: [string, unknown[], Tensor[]][] = [
        ['cat', [[x, other], dim], [cat([x, other], dim)]],
        ['stack', [[x, x], dim], [stack([x, x], dim)]],
        ['split', [x, k, dim], split(x, k, dim)],
        ['chunk', [x, k, dim], chunk(x, k, dim)],
      ];
      for (const [name, args, eager] of cases) {
        const meta = metaOnSymbolicSizes(name, args);
        assert.equal(meta.shapes, eager.map((t) => [...t.shape]), name);
        assert.equal(meta.dtypes, eager.map((t) => t.dtype), name);
      }
      if (shape.some((s) => s > 1)) assert.ok(metaOnSymbolicSizes('cat', [[x, other], dim]).symbolic);
    }),
    FC_RUNS,
  );
});

Symbolic.run();
