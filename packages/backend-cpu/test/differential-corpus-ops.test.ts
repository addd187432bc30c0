// Differential corpus, part 2: view chains, reductions, indexing, dtypes and promotion, matmul and the
// normalization ops — the numerics a compiled program must reproduce element for element.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { assertNoDifference, pure } from './differential-support.js';
import type { Program } from './differential-support.js';

const Views = suite('differential corpus: view chains and reductions');
const Indexing = suite('differential corpus: indexing, masks and dtypes');
const Linalg = suite('differential corpus: matmul and normalization');

const cases = (s: typeof Views, programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertNoDifference(program, name));
};
const SQUARE3 = [[2, 3, 4], [1, 1, 1], [3, 1, 5], [2, 0, 3], [4, 2, 2]] as const;

cases(Views, {
  'transpose and permute, then sums and maxes with keepdim': {
    world: pure((x: k.Tensor) => [
      x.transpose(0, 1).sum(0, true),
      x.permute([2, 0, 1]).sum([1, 2]),
      x.permute([1, 2, 0]).sum(-1, true),
      x.transpose(1, 2).mean(1),
    ]),
    shapes: SQUARE3,
    args: (g, s) => [g.floats(s)],
  },
  'amax/amin over dims of a permuted view': {
    world: pure((x: k.Tensor) => [x.permute([2, 0, 1]).amax([1, 2]), x.transpose(0, 2).amin(0, true), x.amax(-1)]),
    shapes: [[2, 3, 4], [1, 1, 1], [3, 1, 5], [4, 2, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'stepped slices of even and odd columns': {
    world: pure((x: k.Tensor) => {
      const even = x.slice(1, 0, null, 2);
      const odd = x.slice(1, 1, null, 2);
      const n = Math.min(even.shape[1]!, odd.shape[1]!);
      return [even.narrow(1, 0, n).sub(odd.narrow(1, 0, n)), x.slice(0, 1, null, 3).sum(1), x.slice(1, -3, -1)];
    }),
    shapes: [[3, 6], [1, 1], [4, 5], [2, 2], [7, 3]],
    args: (g, s) => [g.floats(s)],
  },
  'narrow, select, unsqueeze and expand a column': {
    world: pure((x: k.Tensor) => {
      const rows = x.narrow(0, 1, x.shape[0]! - 1);
      const first = rows.select(1, 0).unsqueeze(1).expand([rows.shape[0]!, 3]);
      return [first.add(rows.select(1, -1).unsqueeze(-1)), first.sum(0)];
    }),
    shapes: [[4, 3], [2, 1], [1, 5], [5, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'flatten and reshape of non-contiguous views': {
    world: pure((x: k.Tensor) => [
      x.transpose(0, 1).reshape([-1]),
      x.permute([1, 0, 2]).flatten(1),
      x.transpose(1, 2).flatten(),
      x.transpose(0, 2).reshape([x.shape[2]!, -1]).sum(1),
    ]),
    shapes: [[2, 3, 4], [1, 1, 1], [3, 1, 2], [2, 2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'squeeze and unsqueeze around size-1 dims': {
    world: pure((x: k.Tensor) => [x.unsqueeze(0).squeeze(0), x.squeeze(), x.squeeze(1).mul(2), x.unsqueeze(-1).sum(-1)]),
    shapes: [[3, 1, 4], [1, 1, 1], [2, 1, 1], [4, 1, 3], [1, 1, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'argmax/argmin with ties, over each dim with keepdim': {
    world: pure((x: k.Tensor) => [x.argmax(0), x.argmin(1, true), x.argmax(), x.argmin(-1), x.to('float32').argmax(1)]),
    shapes: [[3, 4], [1, 1], [5, 2], [2, 6]],
    args: (g, s) => [g.ints(s, -2, 2)],
  },
  'max and min with a dim, destructured and returned': {
    world: pure((x: k.Tensor) => {
      const { values, indices } = x.max(1);
      const [lo, where] = x.min(0, true);
      return { values, indices, lo, where, both: x.max(-1) };
    }),
    shapes: [[3, 4], [1, 1], [4, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'cumsum over every dim, floats, ints and bools': {
    world: pure((x: k.Tensor, m: k.Tensor) => {
      const outs: k.Tensor[] = [];
      for (let d = 0; d < x.ndim; d++) outs.push(x.cumsum(d), x.to('int32').cumsum(d), m.cumsum(d));
      return outs;
    }),
    shapes: [[2, 3, 4], [1, 1, 1], [3, 0, 2], [1, 5, 3]],
    args: (g, s) => [g.floats(s, 4), g.bools(s)],
  },
  'cat and stack of views along several dims': {
    world: pure((x: k.Tensor, y: k.Tensor) => [
      k.cat([x.transpose(0, 1), y.transpose(0, 1)], 1),
      k.stack([x, y.mul(2)], 1),
      k.cat([x.narrow(1, 0, 1), x, y.select(1, 0).unsqueeze(1)], 1),
      k.stack([x.sum(1), y.amax(1)], -1),
    ]),
    shapes: [[3, 2], [1, 1], [4, 3], [0, 2]],
    args: (g, s) => [g.floats(s), g.floats(s)],
  },
  'split and chunk into a gated unit': {
    world: pure((x: k.Tensor) => {
      const [a, b] = x.chunk(2, -1);
      const parts = x.split(1, 0);
      return [a!.mul(b!.sigmoid()), parts.length, parts[0]!.add(parts[parts.length - 1]!)];
    }),
    shapes: [[2, 4], [1, 2], [3, 6], [4, 2]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
});

cases(Indexing, {
  'gather along the last dim with int32 indices': {
    world: pure((x: k.Tensor, idx: k.Tensor) => [x.gather(1, idx), x.transpose(0, 1).gather(0, idx.transpose(0, 1))]),
    shapes: [[3, 5], [1, 1], [4, 2]],
    args: (g, s) => [g.floats(s), g.ints([s[0]!, 2], 0, s[1]! - 1)],
  },
  'an out-of-range gather raises as in eager': {
    world: pure((x: k.Tensor, idx: k.Tensor) => x.gather(1, idx).add(1)),
    shapes: [[3, 2], [2, 4]],
    args: (g, s) => [g.floats(s), g.ints([s[0]!, 1], s[1]!, s[1]! + 2)],
  },
  'embedding, indexSelect and oneHot of token ids': {
    world: () => {
      const table = k.arange(0, 24).reshape([6, 4]).div(7);
      return { fn: (ids: k.Tensor) => [k.embedding(ids, table), table.indexSelect(0, ids.flatten()), k.oneHot(ids, 6), k.oneHot(ids.flatten())] };
    },
    shapes: [[2, 3], [1, 1], [4, 1], [3, 5]],
    args: (g, s) => [g.ints(s, 0, 5)],
  },
  'where, maskedFill and logical ops on masks': {
    world: pure((x: k.Tensor, y: k.Tensor) => {
      const pos = x.gt(0);
      return [
        k.where(pos, x, y.mul(0.1)),
        x.maskedFill(x.lt(-1), 0),
        k.where(pos.logicalAnd(y.gt(0)), 1, -1),
        x.maskedFill(pos.logicalOr(y.lt(0)).logicalNot(), -Infinity),
      ];
    }),
    shapes: [[3, 4], [1, 1], [0, 2], [5, 1]],
    args: (g, s) => [g.floats(s), g.floats(s)],
  },
  'clamp with one bound, both bounds, and on ints': {
    world: pure((x: k.Tensor) => [x.clamp(0), x.clamp(null, 0.5), x.clamp(-1, 1), x.to('int32').clamp(-1, 2), x.to('int32').clamp(-1.5, 2.5)]),
    shapes: [[3, 4], [1], [6]],
    args: (g, s) => [g.floats(s, 4)],
  },
  'pow with integral, fractional and negative bases': {
    world: pure((x: k.Tensor, n: k.Tensor) => [x.pow(2), x.pow(3), x.abs().pow(1.5), x.pow(0.5), n.pow(2), n.abs().pow(n.abs()), x.pow(n)]),
    shapes: [[3, 4], [1], [5]],
    args: (g, s) => [g.floats(s), g.ints(s, -3, 3)],
    tol: 1e-4,
  },
  'remainder and floor division with negative operands': {
    world: pure((x: k.Tensor, a: k.Tensor, b: k.Tensor) => [
      x.remainder(3),
      x.remainder(-3),
      a.remainder(3),
      a.remainder(-3),
      a.remainder(b),
      x.div(3).floor(),
      a.sub(a.remainder(b)).div(b).floor().to('int32'),
    ]),
    shapes: [[3, 4], [1], [7]],
    args: (g, s) => [g.floats(s, 9), g.ints(s, -9, 9), g.ints(s, 1, 4).mul(g.next() < 0.5 ? -1 : 1)],
  },
  'int32 and bool through arithmetic, comparisons and promotion': {
    world: pure((a: k.Tensor, m: k.Tensor) => [
      a.add(m),
      m.add(m),
      m.mul(2),
      a.mul(0.5),
      a.div(2),
      a.lt(2.5),
      a.add(1.5).sub(a),
      m.to('float32').mul(a),
      a.neg().abs().sign(),
      a.sum(),
      m.sum(0),
      a.add(k.tensor(2.5)),
    ]),
    shapes: [[3, 4], [1, 1], [0, 3]],
    args: (g, s) => [g.ints(s), g.bools(s)],
  },
  'to(dtype) casts: truncation, bools, round trips': {
    world: pure((x: k.Tensor) => [x.mul(3).to('int32'), x.gt(0).to('float32'), x.to('int32').to('bool'), x.to('bool'), x.mul(3).to('int32').to('float32').div(3)]),
    shapes: [[3, 4], [1], [0]],
    args: (g, s) => [g.floats(s)],
  },
  'sum, prod, all and any over empty and size-1 dims': {
    world: pure((x: k.Tensor, m: k.Tensor) => [x.sum(1), x.prod(1), m.all(1), m.any(0), x.sum(), m.all(), x.mean(0)]),
    shapes: [[3, 0], [0, 3], [1, 1], [2, 4]],
    args: (g, s) => [g.floats(s), g.bools(s)],
  },
  'amax of an empty dim raises in both': {
    world: pure((x: k.Tensor) => x.amax(1).add(1)),
    shapes: [[3, 0], [2, 2]],
    args: (g, s) => [g.floats(s)],
  },
});

cases(Linalg, {
  'matmul with broadcast batch dims and 1-D operands': {
    world: pure((a: k.Tensor, b: k.Tensor, v: k.Tensor) => [a.matmul(b), v.matmul(b), a.matmul(v.unsqueeze(-1)).squeeze(-1), v.matmul(v), b.transpose(-2, -1).matmul(v)]),
    shapes: [[2, 3, 4], [1, 1, 1], [3, 2, 5], [2, 0, 3]],
    args: (g, [B, M, K]) => [g.floats([B, 1, M, K]), g.floats([3, K, 2]), g.floats([K])],
  },
  'linear with and without bias, then gelu': {
    world: () => {
      const w = k.arange(0, 12).reshape([3, 4]).div(11).sub(0.5);
      const b = k.tensor([0.1, -0.2, 0.3]);
      return { fn: (x: k.Tensor) => [k.linear(x, w, b).gelu(), k.linear(x, w), k.linear(x.transpose(0, 1).transpose(0, 1), w, b).relu()] };
    },
    shapes: [[2, 4], [1, 4], [0, 4], [5, 4]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'layerNorm with and without affine parameters': {
    world: () => {
      const weight = k.tensor([1, 2, 0.5, -1]);
      const bias = k.tensor([0, 0.1, 0.2, 0.3]);
      return { fn: (x: k.Tensor) => [k.layerNorm(x, [4], weight, bias), k.layerNorm(x, [4]), k.layerNorm(x.reshape([-1, 2, 2]), [2, 2])] };
    },
    shapes: [[3, 4], [1, 4], [2, 3, 4]],
    args: (g, s) => [g.floats(s, 3)],
    tol: 1e-4,
  },
  'softmax, logSoftmax and logsumexp over every dim': {
    world: pure((x: k.Tensor) => {
      const outs: k.Tensor[] = [];
      for (const d of [0, 1, -1]) outs.push(x.softmax(d), x.logSoftmax(d), x.logsumexp(d), x.logsumexp(d, true));
      return outs;
    }),
    shapes: [[2, 3, 4], [1, 1, 1], [3, 1, 5]],
    args: (g, s) => [g.floats(s, 5)],
    tol: 1e-4,
  },
  'var and std over dims, with correction and keepdim': {
    world: pure((x: k.Tensor) => [x.var(1), x.std(0, { keepdim: true }), x.var(null, { correction: 0 }), x.std([0, 1]), x.var(-1, { correction: 0, keepdim: true })]),
    shapes: [[3, 4], [1, 5], [4, 1], [2, 2]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'a causal attention head split from one projection': {
    world: () => {
      const D = 8;
      const wqkv = k.arange(0, 3 * D * D).reshape([3 * D, D]).remainder(7).sub(3).div(10);
      return {
        fn: (x: k.Tensor) => {
          const [B, T] = x.shape as [number, number];
          const [q, kk, v] = k.linear(x, wqkv).chunk(3, -1).map((t) => t.reshape([B, T, 2, D / 2]).transpose(1, 2));
          const mask = k.ones([T, T]).triu(1).to('bool');
          const att = q!.matmul(kk!.transpose(-2, -1)).mul(1 / Math.sqrt(D / 2)).maskedFill(mask, -Infinity).softmax(-1);
          return att.matmul(v!).transpose(1, 2).reshape([B, T, D]);
        },
      };
    },
    shapes: [[2, 3, 8], [1, 1, 8], [1, 5, 8], [3, 2, 8]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
});

Views.run();
Indexing.run();
Linalg.run();
