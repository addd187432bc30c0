// Property tests of the view ops: random chains of them against a naive reference (values, shapes, and
// storage shared exactly where a view must share it).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { KilnError, ShapeError, Tensor, ViewError, tensor, zeros } from '@kiln/tensor';
import { FC_RUNS, expectError, layoutArb, makeTensor, numelOf, refFromFlat, refToFlat, shapeArb, unravel, valuesFor } from './support/refs.js';
import type { RefArray } from './support/refs.js';

const values = (t: Tensor) => Array.from(t.toTypedArray());

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
