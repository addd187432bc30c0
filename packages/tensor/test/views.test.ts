import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { IndexError, KilnError, ShapeError, Tensor, ViewError, arange, tensor, zeros } from '@kiln/tensor';
import {
  FC_RUNS, expectError, layoutArb, makeTensor, numelOf, refFromFlat, refToFlat, shapeArb, unravel, valuesFor,
} from './support/refs.js';
import type { RefArray } from './support/refs.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());
const grid = () => arange(12).reshape([3, 4]); // [[0..3], [4..7], [8..11]]

const Hand = suite('views: each view op by hand, sharing storage');

Hand('reshape and view of contiguous data share storage; -1 is inferred', () => {
  const x = grid();
  const r = x.reshape([2, -1]);
  assert.equal(r.shape, [2, 6]);
  assert.ok(r.storage === x.storage);
  assert.equal(r.toArray(), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]);
  const v = x.view([4, 3]);
  assert.ok(v.storage === x.storage);
  assert.equal(v.toArray(), [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]);
  assert.equal(tensor(5).reshape([1, 1]).toArray(), [[5]]);
  assert.equal(x.reshape([12]).reshape([3, 2, 2]).select(2, 1).toArray(), [[1, 3], [5, 7], [9, 11]]);
});

Hand('reshape of non-viewable data copies; view of it throws a ViewError', () => {
  const t = grid().transpose(0, 1); // [4, 3], strides [1, 4]
  const r = t.reshape([12]);
  assert.ok(r.storage !== t.storage, 'a transposed tensor cannot be flattened without a copy');
  assert.equal(values(r), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  const err = expectError(() => t.view([12]), ViewError, 'view:', '[12]', '[4, 3]', 'strides [1, 4]');
  assert.match(err.message, /reshape|contiguous/, 'the hint says what to do');
  // Some non-contiguous tensors can still be viewed: splitting a dim keeps its stride pattern.
  const s = t.view([2, 2, 3]);
  assert.ok(s.storage === t.storage);
  assert.equal(s.toArray(), [[[0, 4, 8], [1, 5, 9]], [[2, 6, 10], [3, 7, 11]]]);
  assert.ok(t.reshape([2, 2, 3]).storage === t.storage, 'reshape views when it can, even when non-contiguous');
});

Hand('permute and transpose', () => {
  const x = arange(24).reshape([2, 3, 4]);
  const p = x.permute([2, 0, 1]);
  assert.equal(p.shape, [4, 2, 3]);
  assert.equal(p.strides, [1, 12, 4]);
  assert.ok(p.storage === x.storage);
  assert.equal((p.toArray() as number[][][])[3]![1]![2], x.select(0, 1).select(0, 2).select(0, 3).toArray());
  assert.equal(x.permute([-1, 0, 1]).shape, [4, 2, 3]);
  assert.equal(grid().transpose(0, 1).toArray(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  assert.equal(grid().transpose(-1, -2).shape, [4, 3]);
  assert.equal(tensor(3).transpose(0, -1).shape, [], 'a 0-dim tensor transposes to itself');
  assert.equal(tensor(3).transpose(0, 0).toArray(), 3);
  expectError(() => x.permute([0, 1]), ShapeError, 'permute', '[2, 3, 4]');
  expectError(() => x.permute([0, 0, 1]), ShapeError, 'permute');
  expectError(() => x.transpose(0, 3), IndexError, 'transpose', 'dim1=3', 'rank 3');
});

Hand('expand broadcasts size-1 dims with stride 0 and adds leading dims', () => {
  const c = tensor([[1], [2]]);
  const e = c.expand([3, 2, 4]);
  assert.equal(e.shape, [3, 2, 4]);
  assert.equal(e.strides, [0, 1, 0]);
  assert.ok(e.storage === c.storage);
  assert.equal(e.select(0, 2).toArray(), [[1, 1, 1, 1], [2, 2, 2, 2]]);
  assert.equal(c.expand([-1, 3]).toArray(), [[1, 1, 1], [2, 2, 2]]);
  assert.equal(c.expand([2, 0]).shape, [2, 0]);
  expectError(() => c.expand([3, 3]), ShapeError, 'expand', '[2, 1]', '[3, 3]');
  expectError(() => c.expand([3]), ShapeError, 'expand');
  expectError(() => c.expand([-1, 2, 2]), ShapeError, 'expand');
  expectError(() => c.expand([2, -2]), ShapeError, 'expand', '-2');
});

Hand('slice and narrow, with negative bounds, clamping and steps', () => {
  const x = grid();
  const s = x.slice(1, 1, 3);
  assert.ok(s.storage === x.storage);
  assert.is(s.offset, 1);
  assert.equal(s.toArray(), [[1, 2], [5, 6], [9, 10]]);
  assert.equal(x.slice(1, -2).toArray(), [[2, 3], [6, 7], [10, 11]]);
  assert.equal(x.slice(0, 1, 100).shape, [2, 4]);
  assert.equal(x.slice(0, 2, 1).shape, [0, 4]);
  assert.equal(x.slice(1, 0, null, 3).toArray(), [[0, 3], [4, 7], [8, 11]]);
  assert.equal(x.slice(1, -100, -2).toArray(), [[0, 1], [4, 5], [8, 9]]);
  assert.equal(x.slice().toArray(), x.toArray(), 'defaults: dim 0, the whole range');
  // Options right after the last positional argument given: fine at run time, not yet in the method types.
  const sliceLoose = x.slice as (...args: unknown[]) => Tensor;
  assert.equal(sliceLoose.call(x, 1, { start: 2 }).toArray(), [[2, 3], [6, 7], [10, 11]], 'bounds by name');
  expectError(() => x.slice(1, 0, 4, 0), IndexError, 'slice', 'step');
  const n = x.narrow(0, 1, 2);
  assert.ok(n.storage === x.storage);
  assert.equal(n.toArray(), [[4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.equal(x.narrow(1, -1, 1).toArray(), [[3], [7], [11]]);
  assert.equal(x.narrow(0, 3, 0).shape, [0, 4]);
  expectError(() => x.narrow(0, 2, 2), IndexError, 'narrow', 'start=2', 'length=2', 'size 3');
});

Hand('select drops a dim; squeeze and unsqueeze', () => {
  const x = grid();
  const r = x.select(0, -1);
  assert.ok(r.storage === x.storage);
  assert.equal(r.toArray(), [8, 9, 10, 11]);
  assert.equal(x.select(1, 2).toArray(), [2, 6, 10]);
  assert.is(x.select(0, 1).select(0, 2).toArray(), 6);
  expectError(() => x.select(0, 3), IndexError, 'select', 'index 3', 'size 3');
  expectError(() => tensor(1).select(0, 0), IndexError, 'select', '0-dim');
  const y = zeros([1, 3, 1, 2]);
  assert.equal(y.squeeze().shape, [3, 2]);
  assert.equal(y.squeeze(2).shape, [1, 3, 2]);
  assert.equal(y.squeeze([0, 2]).shape, [3, 2]);
  assert.equal(y.squeeze(1).shape, [1, 3, 1, 2], 'squeezing a dim that is not 1 keeps it');
  assert.ok(y.squeeze().storage === y.storage);
  assert.equal(x.unsqueeze(0).shape, [1, 3, 4]);
  assert.equal(x.unsqueeze(-1).shape, [3, 4, 1]);
  assert.equal(x.unsqueeze(1).toArray(), [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]);
  assert.ok(x.unsqueeze(2).storage === x.storage);
  assert.equal(tensor(4).unsqueeze(0).toArray(), [4]);
  expectError(() => x.unsqueeze(3), IndexError, 'unsqueeze');
});

Hand('flatten views contiguous data and copies otherwise', () => {
  const x = arange(24).reshape([2, 3, 4]);
  assert.equal(x.flatten().shape, [24]);
  assert.ok(x.flatten().storage === x.storage);
  assert.equal(x.flatten(1).shape, [2, 12]);
  assert.equal(x.flatten(0, 1).shape, [6, 4]);
  assert.equal(tensor(7).flatten().toArray(), [7]);
  const t = x.transpose(0, 2);
  assert.ok(t.flatten().storage !== t.storage);
  assert.equal(values(t.flatten()), values(t));
  expectError(() => x.flatten(2, 1), IndexError, 'flatten');
});

Hand('contiguous copies only when needed; clone always gives new storage', () => {
  const x = grid();
  assert.ok(x.contiguous() === x, 'already contiguous: the same tensor');
  const t = x.transpose(0, 1);
  const c = t.contiguous();
  assert.ok(c.storage !== t.storage);
  assert.ok(c.isContiguous());
  assert.equal(c.toArray(), t.toArray());
  assert.not.ok(t.isContiguous());
  assert.ok(x.slice(0, 1).isContiguous(), 'a row slice with an offset is contiguous');
  assert.not.ok(x.slice(1, 1).isContiguous());
  for (const src of [x, t, x.slice(1, 1, 3), x.expand([2, 3, 4])]) {
    const k = src.clone();
    assert.ok(k.storage !== src.storage);
    assert.equal(k.toArray(), src.toArray());
    assert.equal(k.shape, src.shape);
  }
  assert.ok(x.clone().storage.sharesBufferWith(x.storage), 'a clone of contiguous data is lazy (copy-on-write)');
});

Hand.run();

// ---- property tests: random chains of view ops against a naive reference ----

type Step = readonly [number, number, number, number];
interface Applied {
  name: string;
  out: Tensor;
  ref: RefArray;
  isView: boolean; // must share storage with its input
}

const refPermute = (r: RefArray, perm: number[]): RefArray => ({
  shape: perm.map((d) => r.shape[d]!),
  at: (idx) => {
    const src = new Array<number>(idx.length);
    perm.forEach((d, i) => (src[d] = idx[i]!));
    return r.at(src);
  },
});
const refReshape = (r: RefArray, shape: number[]): RefArray => refFromFlat(refToFlat(r), shape);

function randomPermutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Picks one view op valid for `x`'s shape from the seeds, applies it to the tensor and to the reference. */
function applyStep(x: Tensor, ref: RefArray, [which, s1, s2, s3]: Step): Applied | null {
  const shape = ref.shape;
  const nd = shape.length;
  const dim = nd ? s1 % nd : 0;
  switch (which % 10) {
    case 0: {
      const perm = randomPermutation(nd, s2);
      return { name: `permute(${perm})`, out: x.permute(perm), ref: refPermute(ref, perm), isView: true };
    }
    case 1: {
      if (!nd) return null;
      const other = s2 % nd;
      const perm = shape.map((_, i) => (i === dim ? other : i === other ? dim : i));
      return { name: `transpose(${dim}, ${other})`, out: x.transpose(dim, other), ref: refPermute(ref, perm), isView: true };
    }
    case 2: {
      if (!nd) return null;
      const size = shape[dim]!;
      const start = (s2 % (size + 3)) - 1; // includes -1 and past-the-end
      const end = (s3 % (size + 3)) - 1;
      const step = 1 + (s3 % 3);
      const norm = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
      const picks: number[] = [];
      for (let i = norm(start); i < norm(end); i += step) picks.push(i);
      const out = x.slice(dim, start, end, step);
      const refOut: RefArray = {
        shape: shape.map((s, d) => (d === dim ? picks.length : s)),
        at: (idx) => ref.at(idx.map((v, d) => (d === dim ? picks[v]! : v))),
      };
      return { name: `slice(${dim}, ${start}, ${end}, ${step})`, out, ref: refOut, isView: true };
    }
    case 3: {
      if (!nd) return null;
      const size = shape[dim]!;
      const start = s2 % (size + 1);
      const length = s3 % (size - start + 1);
      const refOut: RefArray = {
        shape: shape.map((s, d) => (d === dim ? length : s)),
        at: (idx) => ref.at(idx.map((v, d) => (d === dim ? v + start : v))),
      };
      return { name: `narrow(${dim}, ${start}, ${length})`, out: x.narrow(dim, start, length), ref: refOut, isView: true };
    }
    case 4: {
      if (!nd || shape[dim] === 0) return null;
      const index = s2 % shape[dim]!;
      const refOut: RefArray = {
        shape: shape.filter((_, d) => d !== dim),
        at: (idx) => ref.at([...idx.slice(0, dim), index, ...idx.slice(dim)]),
      };
      return { name: `select(${dim}, ${index})`, out: x.select(dim, index), ref: refOut, isView: true };
    }
    case 5: {
      const all = s2 % 2 === 0;
      const drop = (d: number) => shape[d] === 1 && (all || d === dim);
      const refOut: RefArray = {
        shape: shape.filter((_, d) => !drop(d)),
        at: (idx) => {
          const full: number[] = [];
          let k = 0;
          for (let d = 0; d < nd; d++) full.push(drop(d) ? 0 : idx[k++]!);
          return ref.at(full);
        },
      };
      const out = all ? x.squeeze() : nd ? x.squeeze(dim) : x.squeeze();
      return { name: all ? 'squeeze()' : `squeeze(${dim})`, out, ref: refOut, isView: true };
    }
    case 6: {
      const at = s2 % (nd + 1);
      const refOut: RefArray = {
        shape: [...shape.slice(0, at), 1, ...shape.slice(at)],
        at: (idx) => ref.at([...idx.slice(0, at), ...idx.slice(at + 1)]),
      };
      return { name: `unsqueeze(${at})`, out: x.unsqueeze(at), ref: refOut, isView: true };
    }
    case 7: {
      // Expand every size-1 dim to a size in 0..3 and add up to one leading dim.
      const target = shape.map((s, d) => (s === 1 ? (s2 >> d) % 4 : s));
      const lead = s3 % 2 ? [s3 % 3] : [];
      const size = [...lead, ...target];
      const refOut: RefArray = {
        shape: size,
        at: (idx) => ref.at(shape.map((s, d) => (s === 1 ? 0 : idx[d + lead.length]!))),
      };
      return { name: `expand(${size})`, out: x.expand(size), ref: refOut, isView: true };
    }
    case 8: {
      const numel = numelOf(shape);
      const divisors = numel === 0 ? [0] : Array.from({ length: numel }, (_, i) => i + 1).filter((d) => numel % d === 0);
      const d = divisors[s2 % divisors.length]!;
      const candidates: number[][] = [[numel], [...shape].reverse(), numel ? [d, numel / d] : [0, s3 % 3], [1, -1], [...shape, 1]];
      const requested = candidates[s3 % candidates.length]!;
      const resolved = requested.map((v) => (v === -1 ? numel : v));
      return { name: `reshape(${requested})`, out: x.reshape(requested), ref: refReshape(ref, resolved), isView: false };
    }
    default: {
      if (!nd) return { name: 'flatten()', out: x.flatten(), ref: refReshape(ref, [1]), isView: false };
      const start = s2 % nd;
      const end = start + (s3 % (nd - start));
      const shapeOut = [...shape.slice(0, start), numelOf(shape.slice(start, end + 1)), ...shape.slice(end + 1)];
      return { name: `flatten(${start}, ${end})`, out: x.flatten(start, end), ref: refReshape(ref, shapeOut), isView: false };
    }
  }
}

const stepArb = fc.tuple(fc.nat(9), fc.nat(1000), fc.nat(1000), fc.nat(1000));

const Chains = suite('views: random chains of view ops match a naive reference (property)');

Chains('values, shapes and storage sharing after every step', () => {
  fc.assert(
    fc.property(shapeArb(4, 4), layoutArb, fc.array(stepArb, { maxLength: 6 }), (shape, layout, steps) => {
      let x = makeTensor(valuesFor(shape), shape, layout);
      let ref = refFromFlat(valuesFor(shape), shape);
      const trail: string[] = [`${layout} ${JSON.stringify(shape)}`];
      for (const step of steps) {
        const r = applyStep(x, ref, step);
        if (!r) continue;
        trail.push(r.name);
        const where = trail.join(' → ');
        assert.equal(r.out.shape, r.ref.shape, where);
        assert.equal(values(r.out), refToFlat(r.ref), where);
        if (r.isView) assert.ok(r.out.storage === x.storage, `${where}: must be a view`);
        if (!r.isView && x.isContiguous()) assert.ok(r.out.storage === x.storage, `${where}: contiguous input must not copy`);
        x = r.out;
        ref = r.ref;
      }
    }),
    FC_RUNS,
  );
});

Chains('view succeeds exactly when reshape does not copy, and then agrees with it', () => {
  fc.assert(
    fc.property(shapeArb(4, 4), layoutArb, fc.array(stepArb, { maxLength: 4 }), fc.nat(1000), (shape, layout, steps, pick) => {
      let x = makeTensor(valuesFor(shape), shape, layout);
      let ref = refFromFlat(valuesFor(shape), shape);
      for (const step of steps) {
        const r = applyStep(x, ref, step);
        if (r) [x, ref] = [r.out, r.ref];
      }
      const numel = x.numel;
      const targets = [[numel], [-1], [1, numel], [...x.shape].reverse(), [...x.shape, 1]];
      const target = targets[pick % targets.length]!;
      const reshaped = x.reshape(target);
      let viewed: Tensor | null = null;
      try {
        viewed = x.view(target);
      } catch (e) {
        assert.instance(e, ViewError);
      }
      assert.is(viewed !== null, reshaped.storage === x.storage, `view(${target}) of shape ${x.shape} strides ${x.strides}`);
      if (viewed) assert.equal(values(viewed), values(reshaped));
      if (x.isContiguous()) assert.ok(viewed, 'contiguous data can always be viewed');
    }),
    FC_RUNS,
  );
});

Chains('contiguous() and clone() keep values; contiguous() copies only non-contiguous data', () => {
  fc.assert(
    fc.property(shapeArb(4, 4), layoutArb, fc.array(stepArb, { maxLength: 4 }), (shape, layout, steps) => {
      let x = makeTensor(valuesFor(shape), shape, layout);
      let ref = refFromFlat(valuesFor(shape), shape);
      for (const step of steps) {
        const r = applyStep(x, ref, step);
        if (r) [x, ref] = [r.out, r.ref];
      }
      const c = x.contiguous();
      assert.ok(c.isContiguous());
      assert.equal(values(c), refToFlat(ref));
      assert.is(c.storage === x.storage, x.isContiguous());
      const k = x.clone();
      assert.ok(k.storage !== x.storage);
      assert.equal(values(k), refToFlat(ref));
      assert.equal(unravel(0, x.shape).length, x.ndim);
    }),
    FC_RUNS,
  );
});

Chains('errors from view ops are typed KilnErrors', () => {
  const x = zeros([2, 3]);
  for (const bad of [
    () => x.reshape([4]), () => x.reshape([-1, -1]), () => x.reshape([-2, 3]), () => x.view([7]), () => x.select(2, 0),
    () => x.narrow(1, 0, 4), () => x.squeeze(5), () => x.flatten(0, 9), () => x.permute([1]), () => zeros([0, 2]).reshape([0, -1]),
  ]) {
    expectError(bad, KilnError);
  }
  expectError(() => x.reshape([4]), ShapeError, 'reshape', '[4]', '[2, 3]', '6 elements');
});

Chains.run();
