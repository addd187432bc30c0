// Differential corpus, part 4: numeric edge cases (NaN, infinities, overflow, zero divisors, ties, casts
// out of range), sizes in plain JS arithmetic (negative modulo, true division), and results that alias
// inputs or each other — where a compiled kernel most easily disagrees with the eager one.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { skip } from '@kiln/core';
import { assertNoDifference, pure } from './differential-support.js';
import type { Program } from './differential-support.js';

const Numerics = suite('differential corpus: numeric edge cases');
const SizeMath = suite('differential corpus: sizes in JS arithmetic');
const Aliasing = suite('differential corpus: results that alias');

/** A logger the policy skips, as console.log is: a graph break in the middle of a frame. */
const log = (..._xs: unknown[]): void => {};
skip(log);

const cases = (s: typeof Numerics, programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertNoDifference(program, name));
};
/** Floats with the special values mixed in: NaN, ±Infinity, ±0, halves (rounding ties), large magnitudes. */
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -0.5, -2.5, 3e9, -3e9, 7, -7, 1e-30, 65536.5];
const special = (n: number, shift: number, values = SPECIAL) =>
  k.Tensor.fromData(Float32Array.from({ length: n }, (_, i) => values[(i + shift) % values.length]!), [n], 'float32');
// Without ±3e9: eager sums in float64, compiled kernels in float32, and 3e9 - 3e9 + 3 cancels differently.
const SPECIAL_SMALL = SPECIAL.filter((v) => !(Math.abs(v) > 1e6 && Number.isFinite(v)));

cases(Numerics, {
  'casts of NaN, infinities and out-of-range floats to int32 and bool': {
    world: pure((x: k.Tensor) => [x.to('int32'), x.to('bool'), x.mul(2).to('int32'), x.to('int32').to('float32')]),
    shapes: [16, 5, 1, 0],
    args: (_g, n, call) => [special(n, call)],
  },
  'round, floor, ceil, sign and abs at ties and special values': {
    world: pure((x: k.Tensor) => [x.round(), x.floor(), x.ceil(), x.sign(), x.abs(), x.neg(), x.relu()]),
    shapes: [16, 7, 1],
    args: (_g, n, call) => [special(n, call)],
  },
  'maximum, minimum, clamp and where with NaN': {
    world: pure((x: k.Tensor, y: k.Tensor) => [k.maximum(x, y), k.minimum(x, y), x.clamp(-1, 1), k.where(x.gt(y), x, y), x.eq(x), x.ne(y)]),
    shapes: [16, 9, 1],
    args: (_g, n, call) => [special(n, call), special(n, call + 3)],
  },
  'amax, argmax, sum and softmax over rows holding NaN and infinities': {
    world: pure((x: k.Tensor) => [x.amax(1), x.argmax(1), x.amin(1), x.argmin(1), x.sum(1), x.softmax(1), x.logsumexp(1)]),
    shapes: [[4, 4], [2, 8], [1, 16]],
    args: (_g, s, call) => [special(s[0] * s[1], call, SPECIAL_SMALL).reshape(s)],
    tol: 1e-4,
  },
  'a row of -Infinity through softmax and logSoftmax': {
    world: pure((x: k.Tensor, m: k.Tensor) => {
      const masked = x.maskedFill(m, -Infinity);
      return [masked.softmax(-1), masked.logSoftmax(-1), masked.amax(-1)];
    }),
    shapes: [[3, 4], [1, 1], [2, 3]],
    args: (g, s) => [g.floats(s), k.onesLike(g.floats(s), { dtype: 'bool' }).maskedFill(k.arange(s[0]).unsqueeze(1).gt(0).expand(s), false)],
    tol: 1e-4,
  },
  'int32 arithmetic that overflows and wraps': {
    world: pure((a: k.Tensor) => [a.mul(a), a.add(2147483647), a.sub(-2147483647), a.mul(65536).mul(65536), a.neg().abs(), a.sum(), a.cumsum(0)]),
    shapes: [[4], [1], [6]],
    args: (g, s) => [g.ints(s, 40000, 50000).mul(g.next() < 0.5 ? 1 : -1)],
  },
  'float division by zero, and an int remainder by zero': {
    world: pure((x: k.Tensor, a: k.Tensor, b: k.Tensor) => [x.div(0), x.div(x.sub(x)), a.div(b), a.remainder(b)]),
    shapes: [[4], [1], [3]],
    args: (g, s) => [g.floats(s), g.ints(s), g.ints(s, 0, 0)],
  },
  'pow of int tensors with negative exponents, and 0 to the 0': {
    world: pure((a: k.Tensor, e: k.Tensor) => [a.pow(e.abs()), a.to('float32').pow(e), a.pow(0), k.zerosLike(a).pow(e.abs())]),
    shapes: [[5], [1], [3]],
    args: (g, s) => [g.ints(s, -3, 3), g.ints(s, -2, 2)],
  },
  'a number argument that is NaN, infinite or beyond int32': {
    world: pure((x: k.Tensor, a: k.Tensor, v: number) => [x.add(v), x.mul(v), a.add(v), x.clamp(null, v), k.full([2], v)]),
    shapes: [NaN, Infinity, -Infinity, 2 ** 31, 3e9, -(2 ** 31) - 1, 2],
    args: (g, v) => [g.floats([3]), g.ints([3]), v],
  },
  'variance and std with more correction than elements': {
    world: pure((x: k.Tensor) => [x.var(1), x.std(1, { correction: 3 }), x.var(0, { correction: 0 })]),
    shapes: [[3, 1], [2, 2], [4, 3]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'tril and triu of non-square matrices with offsets': {
    world: pure((x: k.Tensor) => [x.tril(), x.triu(1), x.tril(-1), x.triu(-2), x.tril(5)]),
    shapes: [[3, 5], [5, 3], [1, 1], [2, 0]],
    args: (g, s) => [g.floats(s)],
  },
});

cases(SizeMath, {
  'negative modulo, true division and Math of sizes': {
    world: pure((x: k.Tensor) => {
      const n = x.shape[0]!;
      return [x.mul((n - 5) % 3), x.add(n / 2), x.sub(Math.floor((n - 5) / 2)), x.mul(Math.max(n, 3) - Math.min(n, 3)), -n, (n - 5) % 3, Math.trunc((n - 5) / 2)];
    }),
    shapes: [[3], [1], [7], [4], [0], [8]],
    args: (g, s) => [g.floats(s)],
  },
  'an int32 tensor scaled and divided by sizes': {
    world: pure((a: k.Tensor) => [a.mul(a.shape[0]!), a.div(a.shape[1]!), a.add(a.shape[0]! - a.shape[1]!), a.remainder(a.shape[1]!), k.arange(a.shape[0]! * a.shape[1]!).remainder(a.shape[1]!)]),
    shapes: [[3, 4], [1, 2], [5, 3], [2, 2]],
    args: (g, s) => [g.ints(s)],
  },
  'a float item() subtracted, and a bool item() branched on': {
    world: pure((x: k.Tensor) => {
      const centered = x.sub(x.mean().item() as number);
      const anyBig = x.abs().gt(1.5).any().item();
      return { centered, anyBig, scaled: anyBig ? centered.div(2) : centered };
    }),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
});

cases(Aliasing, {
  'contiguous(), to() its own dtype, reshape, expand, squeeze and view of an argument': {
    world: pure((x: k.Tensor) => [x.contiguous(), x.to('float32'), x.reshape(x.shape), x.expand(x.shape), x.squeeze(), x.view([-1])]),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'int and bool arguments returned as views and as themselves': {
    world: pure((a: k.Tensor, m: k.Tensor) => [a.unsqueeze(0), m.permute([1, 0]), a.to('int32'), m.to('int32')]),
    shapes: [[3, 4], [1, 1], [0, 2]],
    args: (g, s) => [g.ints(s), g.bools(s)],
  },
  'an expanded sum, the pieces of split and chunk': {
    world: pure((x: k.Tensor) => {
      const b = x.sum(0, true);
      return [b.expand([4, x.shape[1]!]), b, x.mul(2).split(1, 1), x.chunk(2, 0)];
    }),
    shapes: [[4, 4], [1, 1], [3, 5], [2, 3]],
    args: (g, s) => [g.floats(s)],
  },
  'a view written in place after a graph break': {
    world: pure((x: k.Tensor) => {
      const h = x.mul(2);
      const t = h.transpose(0, 1);
      log(t.shape[0]);
      t.add_(1);
      return [h, t, x.narrow(0, 0, 1)];
    }),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'a view stored outside before a break and read after it': {
    world: () => {
      const o: { v?: k.Tensor; w?: k.Tensor } = {};
      return {
        fn: (x: k.Tensor) => {
          o.v = x.mul(3).narrow(0, 0, 1);
          log(1);
          o.w = o.v.mul(2);
          return o.v;
        },
        observe: () => o,
      };
    },
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'views of an argument taken before and after writing it in place': {
    world: pure((x: k.Tensor, y: k.Tensor) => {
      const before = y.transpose(0, 1);
      y.add_(1);
      x.mul_(2);
      const after = x.narrow(1, 0, 1);
      return [after, after.sum(), before.mul(1)];
    }),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s), g.floats(s)],
  },
  'an accumulator written in place in a loop': {
    world: pure((x: k.Tensor, n: number) => {
      const acc = k.zerosLike(x);
      for (let i = 0; i < n; i++) acc.add_(x.mul(i));
      return acc;
    }),
    shapes: [0, 1, 3, 2],
    args: (g, n) => [g.floats([3]), n],
  },
  'views of an argument returned': {
    world: pure((x: k.Tensor) => ({ t: x.transpose(0, 1), row: x.select(0, 0), flat: x.reshape([-1]), same: x })),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'the same result returned twice and with a view of it': {
    world: pure((x: k.Tensor) => {
      const y = x.mul(2);
      return [y, y, y.view([-1]), y.narrow(1, 0, 1)];
    }),
    shapes: [[3, 4], [1, 1], [2, 5], [0, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'a returned view written by the caller shows in the input': {
    world: () => {
      const first = (x: k.Tensor) => x.narrow(0, 0, 1);
      return { fn: first };
    },
    shapes: [[3, 2], [1, 4]],
    args: (g, s) => [g.floats(s)],
  },
  'a view of an argument stored on an outside object': {
    world: () => {
      const cache: { head?: k.Tensor; all?: k.Tensor } = {};
      return {
        fn: (x: k.Tensor) => {
          cache.head = x.narrow(1, 0, 1);
          cache.all = x;
          return x.sum(1);
        },
        observe: () => [cache.head, cache.all, cache.head?.storage === cache.all?.storage],
      };
    },
    shapes: [[3, 2], [1, 1], [4, 3]],
    args: (g, s) => [g.floats(s)],
  },
});

Numerics.run();
SizeMath.run();
Aliasing.run();
