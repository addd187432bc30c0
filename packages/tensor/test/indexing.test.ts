import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  IndexError, KilnTypeError, ShapeError, Tensor, ValueError, embedding, gather, getOp, indexSelect, maskedFill, oneHot,
  tensor, tril, triu, zeros,
} from '@kiln/tensor';

import { FC_RUNS, expectError, layoutArb, makeTensor, numelOf, ravel, refBroadcastShape, shapeArb, unravel, valuesFor } from './support/refs.js';
import { withDType } from './support/relayout.js';
import { metaOnSymbolicSizes } from './support/symbolic.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());
const ints = (flat: number[], shape: number[]) => tensor(flat, { dtype: 'int32' }).reshape(shape);

const IndexSelect = suite('indexing: indexSelect');

IndexSelect('picks slices along a dim, repeats allowed', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(x.indexSelect(1, tensor([2, 0, 2])).toArray(), [[3, 1, 3], [6, 4, 6]]);
  assert.equal(indexSelect(x, 0, tensor([1])).toArray(), [[4, 5, 6]]);
  assert.equal(indexSelect(x, -2, tensor(1)).toArray(), [[4, 5, 6]], 'a 0-dim index keeps the dim');
  assert.equal(indexSelect(x, 1, zeros([0], { dtype: 'int32' })).shape, [2, 0]);
  assert.equal(indexSelect(tensor(7.5), 0, tensor([0])).toArray(), 7.5);
});

IndexSelect('errors: out-of-range and negative indices, a non-int32 or 2-D index', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  expectError(() => x.indexSelect(1, tensor([0, 3])), IndexError, 'indexSelect', 'index 3', '[1]', 'size 3', 'shape [2, 3]');
  expectError(() => x.indexSelect(0, tensor([-1])), IndexError, 'indexSelect', 'index -1');
  expectError(() => x.indexSelect(0, tensor([0.0, 1.5])), KilnTypeError, 'indexSelect', "'index'", 'int32', 'float32');
  expectError(() => x.indexSelect(0, tensor([[0]])), ShapeError, 'indexSelect', '[1, 1]');
  expectError(() => x.indexSelect(2, tensor([0])), IndexError, 'indexSelect', 'dim=2');
});

IndexSelect('property: out[..., j, ...] = x[..., index[j], ...] over random layouts', () => {
  fc.assert(
    fc.property(
      shapeArb(3, 4).filter((s) => s.length > 0),
      layoutArb,
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 5 }),
      (shape, layout, dimSeed, picks) => {
        const dim = dimSeed % shape.length;
        const n = shape[dim]!;
        const index = n === 0 ? [] : picks.map((p) => p % n);
        const x = makeTensor(valuesFor(shape), shape, layout);
        const r = indexSelect(x, dim, tensor(index, { dtype: 'int32' }));
        const outShape = [...shape];
        outShape[dim] = index.length;
        assert.equal(r.shape, outShape);
        const expected = Array.from({ length: numelOf(outShape) }, (_, i) => {
          const idx = unravel(i, outShape);
          idx[dim] = index[idx[dim]!]!;
          return ravel(idx, shape) + 1;
        });
        assert.equal(values(r), expected);
      },
    ),
    FC_RUNS,
  );
});

const Gather = suite('indexing: gather');

Gather('the torch.gather documentation example, and a smaller index', () => {
  const t = tensor([[1, 2], [3, 4]]);
  assert.equal(gather(t, 1, tensor([[0, 0], [1, 0]])).toArray(), [[1, 1], [4, 3]]);
  assert.equal(t.gather(0, tensor([[1, 0]])).toArray(), [[3, 2]]);
  assert.equal(t.gather(1, zeros([2, 0], { dtype: 'int32' })).shape, [2, 0]);
  assert.equal(gather(tensor(5), 0, tensor(0)).toArray(), 5);
});

Gather('errors: index out of range, rank mismatch, index larger than self off the gather dim', () => {
  const t = tensor([[1, 2], [3, 4]]);
  expectError(() => t.gather(1, tensor([[0, 2]])), IndexError, 'gather', 'index 2', '[0, 1]', 'dim 1');
  expectError(() => t.gather(1, tensor([0, 1])), ShapeError, 'gather', '[2]', '[2, 2]');
  expectError(() => tensor([1, 2]).gather(-1, tensor([[0, 1]])), ShapeError, 'gather', 'different number of dims');
  expectError(() => t.gather(1, tensor([[0], [0], [0]])), ShapeError, 'gather', 'dim 0: 3 > 2');
  expectError(() => t.gather(1, tensor([[true]])), KilnTypeError, 'gather', 'bool');
});

Gather('property: out[i] = x[i with i[dim] replaced by index[i]] over random layouts', () => {
  fc.assert(
    fc.property(
      shapeArb(3, 4).filter((s) => s.length > 0 && s.every((v) => v > 0)),
      layoutArb,
      layoutArb,
      fc.nat(),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }),
      fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
      (shape, xLayout, iLayout, dimSeed, sizes, picks) => {
        const dim = dimSeed % shape.length;
        const iShape = shape.map((s, d) => (d === dim ? sizes[d]! : Math.min(s, sizes[d]!)));
        const iFlat = Array.from({ length: numelOf(iShape) }, (_, i) => picks[i % picks.length]! % shape[dim]!);
        const x = makeTensor(valuesFor(shape), shape, xLayout);
        const index = withDType(makeTensor(iFlat, iShape, iLayout), 'int32');
        const r = x.gather(dim, index);
        assert.equal(r.shape, iShape);
        const expected = iFlat.map((v, i) => {
          const idx = unravel(i, iShape);
          idx[dim] = v;
          return ravel(idx, shape) + 1;
        });
        assert.equal(values(r), expected);
      },
    ),
    FC_RUNS,
  );
});

const Embedding = suite('indexing: embedding');

Embedding('rows of weight for every index, any index shape (F.embedding(input, weight))', () => {
  const weight = tensor([[0, 0.5], [1, 1.5], [2, 2.5]]);
  assert.equal(embedding(tensor([[2, 0], [1, 1]]), weight).toArray(), [[[2, 2.5], [0, 0.5]], [[1, 1.5], [1, 1.5]]]);
  assert.equal(embedding(tensor(1), weight).toArray(), [1, 1.5]);
  assert.equal(embedding(zeros([0, 4], { dtype: 'int32' }), weight).shape, [0, 4, 2]);
});

Embedding('errors name embedding and the argument', () => {
  const weight = tensor([[0, 0.5], [1, 1.5]]);
  expectError(() => embedding(tensor([0, 2]), weight), IndexError, 'embedding', 'index 2', "'input'", 'rows of weight');
  expectError(() => embedding(tensor([0.5]), weight), KilnTypeError, 'embedding', "'input'", 'float32');
  expectError(() => embedding(tensor([0]), tensor([1, 2])), ShapeError, 'embedding', "'weight'", '[2]');
});

Embedding('property: the kernel and the decomposition agree with a row lookup', () => {
  const decompose = getOp('embedding')!.decompose!;
  fc.assert(
    fc.property(shapeArb(3, 3), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), layoutArb, (iShape, rows, cols, layout) => {
      const iFlat = valuesFor(iShape).map((v) => (v * 7) % rows);
      const weight = makeTensor(valuesFor([rows, cols]), [rows, cols], layout);
      const input = tensor(iFlat, { dtype: 'int32' }).reshape(iShape);
      const expected = iFlat.flatMap((r) => Array.from({ length: cols }, (_, c) => r * cols + c + 1));
      const r = embedding(input, weight);
      assert.equal(r.shape, [...iShape, cols]);
      assert.equal(values(r), expected);
      assert.equal(values(decompose([input, weight]) as Tensor), expected);
    }),
    FC_RUNS,
  );
});

const MaskedFill = suite('indexing: maskedFill');

MaskedFill('fills where the mask is true; the mask broadcasts; the value takes self’s dtype', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(x.maskedFill(tensor([true, false, true]), 0).toArray(), [[0, 2, 0], [0, 5, 0]]);
  assert.equal(x.maskedFill(x.gt(4), 1.9).toArray(), [[1, 2, 3], [4, 1, 1]], '1.9 truncates into int32');
  assert.equal(x.maskedFill(x.gt(4), 1.9).dtype, 'int32');
  const f = tensor([0.5, 1.5]);
  assert.equal(f.maskedFill(tensor([true, false]), -Infinity).toArray(), [-Infinity, 1.5]);
  assert.equal(f.maskedFill(tensor([false, true]), tensor(7)).toArray(), [0.5, 7], 'a 0-dim tensor value');
  assert.equal(maskedFill(tensor([1, 2]), tensor([[true], [false]]), 9).toArray(), [[9, 9], [1, 2]], 'self broadcasts too (out of place)');
  assert.equal(x.toArray(), [[1, 2, 3], [4, 5, 6]], 'the input is unchanged');
});

MaskedFill('errors: a non-bool mask, a tensor value with dims, unbroadcastable shapes', () => {
  const x = tensor([1, 2, 3]);
  expectError(() => x.maskedFill(tensor([1, 0, 1]), 0), KilnTypeError, 'maskedFill', "'mask'", 'int32');
  expectError(() => x.maskedFill(x.gt(1), tensor([1, 2, 3])), ShapeError, 'maskedFill', "'value'", '[3]');
  expectError(() => x.maskedFill(tensor([true, false]), 0), ShapeError, 'maskedFill', '[3]', '[2]');
});

MaskedFill('property: matches where(mask, value, x) element by element; the decomposition agrees', () => {
  const decompose = getOp('maskedFill')!.decompose!;
  fc.assert(
    fc.property(shapeArb(3, 3), layoutArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 3 }), (shape, layout, bits, drop) => {
      const maskShape = shape.slice(Math.min(drop, shape.length)).map((s, i) => (bits[i]! ? 1 : s));
      const maskFlat = Array.from({ length: numelOf(maskShape) }, (_, i) => (bits[i % bits.length]! ? 1 : 0));
      const x = makeTensor(valuesFor(shape), shape, layout);
      const mask = withDType(makeTensor(maskFlat, maskShape, layout), 'bool');
      const outShape = refBroadcastShape(shape, maskShape)!;
      const expected = Array.from({ length: numelOf(outShape) }, (_, i) => {
        const idx = unravel(i, outShape);
        const m = maskFlat[ravel(maskShape.map((s, d) => (s === 1 ? 0 : idx[d + outShape.length - maskShape.length]!)), maskShape)]!;
        return m ? -5 : ravel(idx, shape) + 1;
      });
      assert.equal(values(maskedFill(x, mask, -5)), expected);
      assert.equal(values(decompose([x, mask, -5]) as Tensor), expected);
    }),
    FC_RUNS,
  );
});

const Triangles = suite('indexing: tril and triu');

Triangles('keep the lower / upper triangle of the last two dims, with a diagonal offset', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  assert.equal(x.tril().toArray(), [[1, 0, 0], [4, 5, 0], [7, 8, 9]]);
  assert.equal(x.tril(-1).toArray(), [[0, 0, 0], [4, 0, 0], [7, 8, 0]]);
  assert.equal(x.triu().toArray(), [[1, 2, 3], [0, 5, 6], [0, 0, 9]]);
  assert.equal(triu(x, 1).toArray(), [[0, 2, 3], [0, 0, 6], [0, 0, 0]]);
  assert.equal(tril(tensor([[1, 2, 3]]), 5).toArray(), [[1, 2, 3]]);
  assert.equal(tril(tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])).toArray(), [[[1, 0], [3, 4]], [[5, 0], [7, 8]]]);
  assert.equal(x.toArray(), [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 'the input is unchanged');
});

Triangles('a tensor with fewer than 2 dims is an error', () => {
  expectError(() => tril(tensor([1, 2])), ShapeError, 'tril', '[2]');
  expectError(() => tensor(1).triu(), ShapeError, 'triu');
});

Triangles('property: element (r, c) survives iff c - r <= k (tril) / >= k (triu), over random layouts', () => {
  fc.assert(
    fc.property(shapeArb(4, 4).filter((s) => s.length >= 2), layoutArb, fc.integer({ min: -4, max: 4 }), (shape, layout, k) => {
      const x = makeTensor(valuesFor(shape), shape, layout);
      const expectWith = (keep: (r: number, c: number) => boolean) =>
        valuesFor(shape).map((v, i) => {
          const idx = unravel(i, shape);
          return keep(idx[idx.length - 2]!, idx[idx.length - 1]!) ? v : 0;
        });
      assert.equal(values(tril(x, k)), expectWith((r, c) => c - r <= k));
      assert.equal(values(triu(x, k)), expectWith((r, c) => c - r >= k));
    }),
    FC_RUNS,
  );
});

const OneHot = suite('indexing: oneHot');

OneHot('int32 one-hot rows; numClasses inferred as max + 1 by default', () => {
  const r = oneHot(tensor([0, 2, 1]));
  assert.is(r.dtype, 'int32');
  assert.equal(r.toArray(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
  assert.equal(oneHot(tensor([[1], [0]]), 4).toArray(), [[[0, 1, 0, 0]], [[1, 0, 0, 0]]]);
  assert.equal(oneHot(zeros([0], { dtype: 'int32' }), 3).shape, [0, 3]);
  assert.equal(oneHot(tensor(1), 2).toArray(), [0, 1]);
});

OneHot('errors: negative or too-large classes, an empty tensor without numClasses, a float input', () => {
  expectError(() => oneHot(tensor([0, 3]), 3), IndexError, 'oneHot', 'index 3', 'numClasses=3');
  expectError(() => oneHot(tensor([0, -1])), IndexError, 'oneHot', 'index -1');
  expectError(() => oneHot(zeros([0], { dtype: 'int32' })), ValueError, 'oneHot', 'empty', 'numClasses');
  expectError(() => oneHot(tensor([0.5])), KilnTypeError, 'oneHot', 'float32');
  expectError(() => oneHot(tensor([0]), -3), ValueError, 'oneHot', 'numClasses=-3');
  expectError(() => oneHot(tensor([0, 1]), 2 ** 31), ValueError, 'oneHot', '[2, 2147483648]');
});

OneHot('property: each row has a single 1 at its class', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 12 }), fc.integer({ min: 0, max: 3 }), (classes, extra) => {
      const n = classes.length === 0 ? extra : Math.max(...classes) + 1 + extra;
      const r = oneHot(ints(classes, [classes.length]), n);
      assert.equal(r.shape, [classes.length, n]);
      assert.equal(values(r), classes.flatMap((c) => Array.from({ length: n }, (_, j) => (j === c ? 1 : 0))));
    }),
    FC_RUNS,
  );
});

IndexSelect.run();
Gather.run();
Embedding.run();
MaskedFill.run();
Triangles.run();
OneHot.run();

const Symbolic = suite('indexing: meta functions over symbolic sizes');

Symbolic('property: the metas on symbolic sizes give the eager shapes and dtypes', () => {
  fc.assert(
    fc.property(shapeArb(3, 4).filter((s) => s.length >= 2 && s.every((v) => v > 0)), fc.nat(), fc.integer({ min: 0, max: 4 }), (shape, dimSeed, n) => {
      const dim = dimSeed % shape.length;
      const x = makeTensor(valuesFor(shape), shape, 'contiguous');
      const index = zeros([n], { dtype: 'int32' });
      const gatherIndex = zeros(shape.map((s, d) => (d === dim ? n : s)), { dtype: 'int32' });
      const mask = zeros(shape.slice(1), { dtype: 'bool' });
      const ids = zeros(shape.slice(0, 2), { dtype: 'int32' });
      const weight = zeros([shape[0]!, n]);
      const cases: [string, unknown[], Tensor][] = [
        ['indexSelect', [x, dim, index], indexSelect(x, dim, index)],
        ['gather', [x, dim, gatherIndex], gather(x, dim, gatherIndex)],
        ['embedding', [ids, weight], embedding(ids, weight)],
        ['maskedFill', [x, mask, 1], maskedFill(x, mask, 1)],
        ['tril', [x, 0], tril(x)],
        ['triu', [x, 1], triu(x, 1)],
        ['oneHot', [ids, 3], oneHot(ids, 3)],
      ];
      for (const [name, args, eager] of cases) {
        const meta = metaOnSymbolicSizes(name, args);
        assert.equal(meta.shapes, [[...eager.shape]], name);
        assert.equal(meta.dtypes, [eager.dtype], name);
      }
    }),
    FC_RUNS,
  );
});

Symbolic.run();
