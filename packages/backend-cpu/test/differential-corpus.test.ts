// Differential corpus, part 1: data-dependent sizes (item, nonzero), symbolic sizes used as numbers, and
// numbers from outside the frame that change between calls. Every program runs compiled and eagerly on
// both backends, automatic and full dynamic shapes, several shapes (size 0 and 1 where they make sense).
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { check, checkIsSize } from '@kiln/core';
import { assertNoDifference, pure } from './differential-support.js';
import type { Program } from './differential-support.js';

const DataDependent = suite('differential corpus: item() and nonzero()');
const Sizes = suite('differential corpus: symbolic sizes as numbers');
const Numbers = suite('differential corpus: numbers from outside the frame');
const ROWS = [[4], [1], [0], [7]] as const;

const cases = (s: typeof DataDependent, programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertNoDifference(program, name));
};

cases(DataDependent, {
  'item() count used as a shape': {
    world: pure((x: k.Tensor) => {
      const n = x.gt(0).sum().item() as number;
      return k.zeros([n]).add(1);
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s)],
  },
  'nonzero rows returned with their count and the count plus one': {
    world: pure((x: k.Tensor) => {
      const idx = x.gt(0).nonzero();
      return { idx, count: idx.shape[0], plus: idx.shape[0]! + 1 };
    }),
    shapes: [[3, 4], [1, 1], [0, 3], [5, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'nonzero count as a scalar operand': {
    world: pure((x: k.Tensor, mask: k.Tensor) => {
      const n = mask.nonzero().shape[0]!;
      return x.mul(n).add(n * 2).sub(x.shape[0]!);
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s), g.bools(s)],
  },
  'a branch on a float item()': {
    world: pure((x: k.Tensor) => {
      const h = x.mul(2);
      if ((h.sum().item() as number) > 0) return h.relu();
      return h.neg().exp();
    }),
    shapes: [[4, 3], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'a loop whose trip count is an item()': {
    world: pure((x: k.Tensor) => {
      const n = x.gt(0).sum().item() as number;
      let h = x;
      for (let i = 0; i < n; i++) h = h.add(i);
      return [h, n];
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s)],
  },
  'check and checkIsSize on a nonzero count': {
    world: pure((x: k.Tensor) => {
      const n = x.gt(0).nonzero().shape[0]!;
      checkIsSize(n);
      check(n <= x.shape[0]!, 'more positives than rows');
      return k.ones([n, 2]).mul(x.sum());
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s)],
  },
  'a check on input sizes that fails for small inputs': {
    world: pure((x: k.Tensor) => {
      check(x.shape[0]! > 2, 'need more than two rows');
      return x.softmax(0);
    }),
    shapes: [[4, 3], [2, 3], [5, 1], [1, 3]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'max and argmax item() returned as numbers': {
    world: pure((x: k.Tensor) => [x.max().item(), x.argmax().item(), x.amin().item()]),
    shapes: [[4, 3], [1, 1], [6, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'arange over an int item()': {
    world: pure((lengths: k.Tensor) => {
      const n = lengths.amax().item() as number;
      return k.arange(n).mul(2);
    }),
    shapes: [[3], [1], [5]],
    args: (g, s) => [g.ints(s, 0, 6)],
  },
  'rows picked by nonzero through indexSelect': {
    world: pure((x: k.Tensor, keep: k.Tensor) => {
      const idx = keep.nonzero().select(1, 0);
      return x.indexSelect(0, idx).sum(1);
    }),
    shapes: [[5, 3], [1, 2], [0, 4], [6, 1]],
    args: (g, s) => [g.floats(s), g.bools([s[0]!])],
  },
  'padding rows sized by an item() and concatenated': {
    world: pure((x: k.Tensor, pad: k.Tensor) => {
      const n = pad.item() as number;
      return k.cat([x, k.zeros([n, x.shape[1]!])], 0);
    }),
    shapes: [[2, 3], [1, 1], [0, 2], [3, 4]],
    args: (g, s) => [g.floats(s), k.tensor(g.int(0, 3))],
  },
  'an int item() returned and used in JS arithmetic and arange': {
    world: pure((x: k.Tensor) => {
      const n = x.gt(0).sum().item() as number;
      return { n, twice: n * 2, neg: -n, odd: n % 2, half: n / 2, ramp: k.arange(n).mul(x.sum()) };
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s)],
  },
  'an int item() as a narrow length and as a reduction dim': {
    world: pure((x: k.Tensor, d: k.Tensor) => {
      const n = x.gt(0).sum().item() as number;
      const head = n === 0 ? k.zeros([1]) : x.narrow(0, 0, n);
      return [head, x.unsqueeze(1).sum(d.item() as number)];
    }),
    shapes: ROWS,
    args: (g, s, call) => [g.floats(s), k.tensor(call % 2)],
  },
  'a loop over nonzero rows and nonzero as gather positions': {
    world: pure((x: k.Tensor) => {
      const idx = x.gt(0).nonzero();
      const rows: number[] = [];
      for (let i = 0; i < idx.shape[0]!; i++) rows.push(i);
      return [rows, x.gather(0, idx.select(1, 0))];
    }),
    shapes: ROWS,
    args: (g, s) => [g.floats(s)],
  },
  'a negative item() used as a size throws in both': {
    world: pure((x: k.Tensor) => k.zeros([x.sum().item() as number]).add(1)),
    shapes: [[3], [1]],
    args: (g, s) => [g.ints(s, -4, -1)],
    errorsDiffer: "core README: compiled code raises CheckFailedError from the implicit 'u0 >= 0' assert, eager ShapeError",
  },
});

cases(Sizes, {
  'dividing by a size and a hand-written mean': {
    world: pure((x: k.Tensor) => [x.div(x.shape[1]!), x.sum(0).div(x.shape[0]!), x.mul(x.shape[0]! * x.shape[1]! - 1)]),
    shapes: [[3, 4], [1, 5], [4, 1], [0, 3], [6, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'a causal mask over a symbolic length': {
    world: pure((scores: k.Tensor) => {
      const T = scores.shape[scores.ndim - 1]!;
      const future = k.ones([T, T]).tril().eq(0);
      return scores.maskedFill(future, -Infinity).softmax(-1);
    }),
    shapes: [[2, 4, 4], [1, 1, 1], [3, 5, 5], [2, 2, 2]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'positions from arange broadcast over the batch': {
    world: pure((x: k.Tensor) => {
      const [B, T] = x.shape as [number, number];
      const pos = k.arange(T).unsqueeze(0).expand([B, T]);
      return x.add(pos).mul(k.arange(B).to('float32').unsqueeze(1));
    }),
    shapes: [[2, 3], [1, 1], [4, 6], [3, 0]],
    args: (g, s) => [g.floats(s)],
  },
  'full and zeros sized by input sizes, filled with a size': {
    world: pure((x: k.Tensor) => {
      const [n, m] = x.shape as [number, number];
      return [k.full([n, 2], m).add(x.narrow(1, 0, 2)), k.zeros([m]).add(n), k.ones([n, m]).cumsum(1)];
    }),
    shapes: [[3, 4], [1, 2], [5, 3], [0, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'arange with a negative start and a step over sizes': {
    world: pure((x: k.Tensor) => k.arange(-x.shape[0]!, x.shape[0]!, 2).to('float32').mul(x.shape[1]!)),
    shapes: [[3, 2], [1, 1], [6, 3], [0, 1]],
    args: (g, s) => [g.floats(s)],
  },
  'position embeddings read with arange over the length': {
    world: () => {
      const table = k.arange(0, 40).reshape([10, 4]).div(10);
      return { fn: (x: k.Tensor) => x.add(table.indexSelect(0, k.arange(x.shape[0]!))) };
    },
    shapes: [[3, 4], [1, 4], [10, 4], [0, 4]],
    args: (g, s) => [g.floats(s)],
  },
  'attention scaled by the square root of a size': {
    world: pure((q: k.Tensor, kk: k.Tensor) => q.matmul(kk.transpose(-2, -1)).div(Math.sqrt(q.shape[q.ndim - 1]!)).softmax(-1)),
    shapes: [[2, 3, 4], [1, 1, 1], [2, 5, 8], [1, 4, 2]],
    args: (g, s) => [g.floats(s), g.floats(s)],
    tol: 1e-4,
  },
  'slice and narrow at positions computed from sizes, negative ones too': {
    world: pure((x: k.Tensor) => [x.slice(1, x.shape[1]! - 5), x.slice(1, 0, x.shape[1]! - 4), x.narrow(1, Math.max(0, x.shape[1]! - 3), 1)]),
    shapes: [[3, 6], [2, 2], [4, 1], [5, 7], [1, 3]],
    args: (g, s) => [g.floats(s)],
  },
  'half of the rows via Math.floor of a size': {
    world: pure((x: k.Tensor) => {
      const half = Math.floor(x.shape[0]! / 2);
      return [x.narrow(0, 0, half).sum(0), x.narrow(0, half, x.shape[0]! - half).amax(0), half];
    }),
    shapes: [[4, 3], [1, 2], [5, 3], [3, 1]],
    args: (g, s) => [g.floats(s)],
  },
  'reshape to rows × cols and back with -1': {
    world: pure((x: k.Tensor) => {
      const flat = x.reshape([x.shape[0]! * x.shape[1]!]);
      return flat.view([-1, x.shape[1]!]).transpose(0, 1).reshape([x.shape[1]!, -1]).mul(flat.shape[0]!);
    }),
    shapes: [[3, 4], [1, 1], [2, 5], [0, 3]],
    args: (g, s) => [g.floats(s)],
  },
});

cases(Numbers, {
  'a step counter incremented in an outside object': {
    world: () => {
      const state = { step: 0 };
      return { fn: (x: k.Tensor) => ((state.step += 1), x.mul(state.step).add(state.step / 4)), observe: () => ({ ...state }) };
    },
    shapes: [[3], [3], [3], [2]],
    args: (g, s) => [g.floats(s)],
  },
  'a scheduler class whose step decays a learning rate': {
    world: () => {
      class Scheduler {
        step = 0;
        base = 0.1;
        apply(grad: k.Tensor) {
          this.step++;
          return grad.mul(this.base * Math.pow(0.9, this.step)).add(this.step);
        }
      }
      const sched = new Scheduler();
      return { fn: Scheduler.prototype.apply, thisArg: sched, observe: () => sched.step };
    },
    shapes: [[4], [4], [2, 2], [4]],
    args: (g, s) => [g.floats(s)],
  },
  'a config object edited between calls': {
    world: () => {
      const cfg = { scale: 1, shift: 0, clampAt: 2 };
      const values = [1, 2, 0.5, -3, 7, 1.5];
      return {
        fn: (x: k.Tensor) => x.mul(cfg.scale).add(cfg.shift).clamp(-cfg.clampAt, cfg.clampAt),
        beforeCall: (i: number) => Object.assign(cfg, { scale: values[i % values.length], shift: i, clampAt: 1 + (i % 3) }),
      };
    },
    shapes: [[3, 2], [3, 2], [1, 4], [3, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'a number argument that changes from int to float': {
    world: pure((x: k.Tensor, alpha: number) => [x.mul(alpha), x.to('int32').mul(alpha), x.add(alpha, { alpha })]),
    shapes: [1, 2, 2.5, -3, 0, 4],
    args: (g, alpha) => [g.floats([2, 3], 4), alpha],
  },
  'a number argument used as a reduction dim': {
    world: pure((x: k.Tensor, dim: number) => [x.sum(dim), x.amax(dim, true), x.cumsum(dim)]),
    shapes: [0, 1, -1, 2],
    args: (g, dim) => [g.floats([2, 3, 4]), dim],
  },
  'boolean and string flags': {
    world: pure((x: k.Tensor, training: boolean, act: string) => {
      const h = act === 'gelu' ? x.gelu() : act === 'silu' ? x.silu() : x.relu();
      return training ? h.mul(0.5) : h;
    }),
    shapes: [[true, 'gelu'], [false, 'silu'], [true, 'relu'], [false, 'gelu']],
    args: (g, [training, act]) => [g.floats([3, 3]), training, act],
    tol: 1e-4,
  },
});

DataDependent.run();
Sizes.run();
Numbers.run();
