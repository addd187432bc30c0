// Differential corpus, part 3: in-place writes, side effects on outside objects, models written as classes,
// closures and language features. The harness compares the arguments and the outside state after every
// call, so a write applied twice, too early, or after a throw shows up.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { skip } from '@kiln/core';
import { assertNoDifference, pure } from './differential-support.js';
import type { Program } from './differential-support.js';

const InPlace = suite('differential corpus: in-place writes');
const Effects = suite('differential corpus: side effects and exceptions');
const Language = suite('differential corpus: classes, closures and language features');

const cases = (s: typeof InPlace, programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertNoDifference(program, name));
};
const MATRICES = [[3, 4], [1, 1], [2, 5], [0, 3]] as const;

/** A logger the policy skips, as console.log is: a graph break in the middle of a frame. */
const logged: unknown[] = [];
const log = (...xs: unknown[]): void => void logged.push(xs.length);
skip(log);

cases(InPlace, {
  'add_ and mul_ on an argument, then reading it': {
    world: pure((x: k.Tensor) => {
      x.add_(1).mul_(2);
      return x.sum(0);
    }),
    shapes: MATRICES,
    args: (g, s) => [g.floats(s)],
  },
  'copy_, zero_ and maskedFill_ on arguments': {
    world: pure((x: k.Tensor, y: k.Tensor, m: k.Tensor) => {
      const before = x.mul(1);
      x.copy_(y.mul(3));
      y.zero_();
      x.maskedFill_(m, -1);
      return [before, x.add(y)];
    }),
    shapes: MATRICES,
    args: (g, s) => [g.floats(s), g.floats(s), g.bools(s)],
  },
  'a running average kept in a model field': {
    world: () => {
      class RunningStats {
        mean = k.zeros([4]);
        count = k.zeros([1]);
        momentum = 0.9;
        update(x: k.Tensor) {
          this.mean.mul_(this.momentum).add_(x.mean(0).mul(1 - this.momentum));
          this.count.add_(1);
          return x.sub(this.mean);
        }
      }
      const stats = new RunningStats();
      return { fn: RunningStats.prototype.update, thisArg: stats, observe: () => [stats.mean, stats.count] };
    },
    shapes: [[3, 4], [1, 4], [5, 4], [2, 4]],
    args: (g, s) => [g.floats(s)],
  },
  'in-place writes through views of an argument': {
    world: pure((x: k.Tensor) => {
      x.narrow(0, 0, 1).mul_(0);
      x.select(1, 0).add_(5);
      x.transpose(0, 1).narrow(0, 0, 1).fill_(2);
      return x.sum();
    }),
    shapes: [[3, 4], [1, 1], [2, 5]],
    args: (g, s) => [g.floats(s)],
  },
  'the same tensor passed twice and written through one name': {
    world: pure((a: k.Tensor, b: k.Tensor) => {
      a.add_(b);
      return [a.mul(2), b.sum()];
    }),
    shapes: [[3], [1], [4]],
    args: (g, s) => {
      const x = g.floats(s);
      return [x, x];
    },
  },
  'an argument and its transpose passed together': {
    world: pure((a: k.Tensor, at: k.Tensor) => {
      const s = a.add(at);
      a.mul_(2);
      return [s, at.sum(0)];
    }),
    shapes: [[3, 3], [1, 1], [2, 2]],
    args: (g, s) => {
      const x = g.floats(s);
      return [x, x.transpose(0, 1)];
    },
  },
  'clamp_ on an int argument and a write to a fresh clone': {
    world: pure((a: k.Tensor) => {
      const c = a.clone();
      c.mul_(3);
      a.clamp_(-2, 2);
      return [c, a.to('float32').div(2)];
    }),
    shapes: [[5], [1], [2, 3]],
    args: (g, s) => [g.ints(s)],
  },
});

cases(Effects, {
  'push and pop on an outside array': {
    world: () => {
      const history: k.Tensor[] = [];
      const stack = [k.ones([2]), k.full([2], 3)];
      return {
        fn: (x: k.Tensor) => {
          history.push(x.sum());
          const top = stack.length > 0 ? stack.pop()! : k.zeros([2]);
          return x.mul(history.length).add(top.sum());
        },
        observe: () => [history, stack],
      };
    },
    shapes: [[2], [2], [3], [2]],
    args: (g, s) => [g.floats(s)],
  },
  'a counter, a cache field and a Map of results': {
    world: () => {
      const state = { calls: 0, last: undefined as k.Tensor | undefined };
      const byShape = new Map<string, k.Tensor>();
      return {
        fn: (x: k.Tensor) => {
          state.calls += 1;
          const y = x.relu();
          state.last = y;
          byShape.set(`${x.shape[0]}x${x.shape[1]}`, y.sum());
          if (state.calls > 2) byShape.delete('1x1');
          return y.add(state.calls);
        },
        observe: () => [state, byShape],
      };
    },
    shapes: [[3, 4], [1, 1], [2, 5], [3, 4]],
    args: (g, s) => [g.floats(s)],
  },
  'a skipped logger in the middle of the frame': {
    world: pure((x: k.Tensor, w: k.Tensor) => {
      const h = x.matmul(w).relu();
      log('hidden', h.shape[0]);
      const out = h.softmax(-1);
      log(out.sum(-1));
      return { out, rows: h.shape[0] };
    }),
    shapes: [[2, 3], [1, 3], [0, 3], [4, 3]],
    args: (g, s) => [g.floats(s), g.floats([3, 5])],
    tol: 1e-4,
  },
  'try/catch around a matmul whose shapes may not match': {
    world: pure((x: k.Tensor, w: k.Tensor) => {
      let y: k.Tensor;
      try {
        y = x.matmul(w);
      } catch (e) {
        y = x.sum(-1, true).add(e instanceof k.ShapeError ? 1 : 2);
      }
      return y.mul(2);
    }),
    shapes: [[3, 4, 2], [2, 3, 3], [1, 1, 1], [2, 2, 5]],
    args: (g, [n, m, p]) => [g.floats([n, m]), g.floats([p, 2])],
  },
  'an exception thrown after an outside write': {
    world: () => {
      const state = { calls: 0, seen: [] as number[] };
      return {
        fn: (x: k.Tensor) => {
          state.calls += 1;
          if (x.shape[0] === 0) throw new RangeError(`empty batch at call ${state.calls}`);
          state.seen.push(x.shape[0]);
          return x.exp();
        },
        observe: () => state,
      };
    },
    shapes: [[2], [0], [3], [0]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'a tensor op that throws mid-frame after a write': {
    world: () => {
      const state = { calls: 0, last: 0 };
      return {
        fn: (x: k.Tensor, w: k.Tensor) => {
          state.calls += 1;
          const y = x.matmul(w);
          state.last = y.shape[1]!;
          return y;
        },
        observe: () => state,
      };
    },
    shapes: [[2, 3, 3], [2, 3, 4], [1, 2, 2], [2, 3, 4]],
    args: (g, [n, m, p]) => [g.floats([n, m]), g.floats([p, 2])],
  },
});

cases(Language, {
  'an MLP class with helper methods and a config': {
    world: () => {
      class MLP {
        readonly layers: { w: k.Tensor; b: k.Tensor }[];
        constructor(readonly cfg: { act: 'gelu' | 'relu'; residual: boolean }) {
          this.layers = [4, 4].map((n, i) => ({ w: k.arange(0, n * 4).reshape([n, 4]).div(10 + i).sub(0.7), b: k.full([n], 0.1 * i) }));
        }
        act(h: k.Tensor) {
          return this.cfg.act === 'gelu' ? h.gelu() : h.relu();
        }
        forward(x: k.Tensor) {
          let h = x;
          for (const { w, b } of this.layers) {
            const next = this.act(k.linear(h, w, b));
            h = this.cfg.residual ? h.add(next) : next;
          }
          return k.layerNorm(h, [4]);
        }
      }
      const model = new MLP({ act: 'gelu', residual: true });
      return { fn: MLP.prototype.forward, thisArg: model };
    },
    shapes: [[2, 4], [1, 4], [0, 4], [5, 4]],
    args: (g, s) => [g.floats(s)],
    tol: 1e-4,
  },
  'closures capturing a tensor and a number': {
    world: () => {
      const makeScaler = (w: k.Tensor, factor: number) => (x: k.Tensor) => x.mul(w).mul(factor);
      const scale = makeScaler(k.tensor([1, -2, 0.5]), 3);
      return { fn: (x: k.Tensor) => scale(x).add(scale(x.neg())).add(scale(x).sum(-1, true)) };
    },
    shapes: [[2, 3], [1, 3], [4, 3]],
    args: (g, s) => [g.floats(s)],
  },
  'destructuring, defaults, spread and optional chaining of options': {
    world: pure((x: k.Tensor, opts?: { scale?: number; bias?: k.Tensor; dims?: number[] }) => {
      const { scale = 1, ...rest } = opts ?? {};
      const dims = [...(rest.dims ?? [0]), -1];
      const biased = rest.bias?.add(x) ?? x;
      return biased.mul(scale).sum(dims.slice(0, 1)).add(dims.length);
    }),
    shapes: [0, 1, 2, 3],
    args: (g, variant) => {
      const x = g.floats([2, 3]);
      const opts = [undefined, { scale: 2 }, { bias: g.floats([3]), dims: [1] }, { scale: 0.5, bias: g.floats([2, 3]) }][variant];
      return [x, opts];
    },
  },
  'template strings with shapes as keys of the result': {
    world: pure((x: k.Tensor) => {
      const key = `${x.shape[0]}x${x.shape[1]}`;
      return { [key]: x.abs(), label: `rows=${x.shape[0]}`, total: x.shape[0]! * x.shape[1]! };
    }),
    shapes: [[2, 3], [1, 1], [4, 2]],
    args: (g, s) => [g.floats(s)],
  },
  'a recursive helper and a while loop with a known trip count': {
    world: () => {
      const power = (t: k.Tensor, n: number): k.Tensor => (n === 0 ? k.onesLike(t) : t.mul(power(t, n - 1)));
      return {
        fn: (x: k.Tensor, n: number) => {
          let acc = power(x, n);
          let i = 0;
          while (i < n) acc = acc.add(i++);
          return acc;
        },
      };
    },
    shapes: [0, 1, 3, 2],
    args: (g, n) => [g.floats([3], 1.2), n],
  },
});

InPlace.run();
Effects.run();
Language.run();
