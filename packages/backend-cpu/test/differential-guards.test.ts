// Differential corpus, guards and the cache: every program is called as a sequence whose inputs change
// between calls in ways the guards must catch (dtype, rank, views, 0/1 sizes, aliasing, reassigned and
// mutated captures, instance fields and methods, number classes, flags, key order, the recompile limit,
// reset(), markDynamic). A stale entry reused for inputs it was not traced for is a wrong result.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile, markDynamic, reset } from '@kiln/core';
import { assertNoDifference, compareTree, pure } from './differential-support.js';
import type { Gen, Program, World } from './differential-support.js';

const Tensors = suite('differential guards: tensor inputs');
const Captures = suite('differential guards: captured and outside state');
const Scalars = suite('differential guards: numbers, flags and arguments');
const Cache = suite('differential guards: cache, limit, reset, markDynamic');

const cases = (s: typeof Tensors, programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) s(name, () => assertNoDifference(program));
};
/** A sequence of calls: `steps` are the per-call parameters, `args` builds each call's arguments. */
const seq = <S,>(world: () => World, steps: readonly S[], args: (g: Gen, step: S) => unknown[]): Program<S> => ({ world, shapes: steps, args: (g, s) => args(g, s) });
const input = (g: Gen, dtype: string, shape: readonly number[]) => (dtype === 'int32' ? g.ints(shape) : dtype === 'bool' ? g.bools(shape) : g.floats(shape));

// Module-level bindings the programs capture and the sequences reassign.
let moduleWeight: k.Tensor = k.ones([4]);
let moduleScale: unknown = 2;

cases(Tensors, {
  'dtype float32 -> int32 -> bool': seq(pure((x: k.Tensor) => x.add(x).sum(0)), ['float32', 'int32', 'bool', 'int32'], (g, d) => [input(g, d, [3, 4])]),
  'dtype of one of two arguments': seq(pure((x: k.Tensor, y: k.Tensor) => x.mul(y).add(1)), ['float32', 'int32', 'bool'], (g, d) => [g.ints([2, 3]), input(g, d, [2, 3])]),
  'rank 2 -> 1 -> 3 -> 0': seq(pure((x: k.Tensor) => x.sum(-1 as never).mul(2)), [[3, 4], [4], [2, 3, 4], [5]], (g, s) => [g.floats(s)]),
  'rank 0 vs rank 1 of one element': seq(pure((x: k.Tensor) => x.add(1).mul(x)), [[], [1], [], [1, 1]], (g, s) => [g.floats(s)]),
  'contiguous <-> transposed': seq(pure((x: k.Tensor) => x.mul(2).sum(1)), ['c', 't', 'c', 't'], (g, m) => [m === 't' ? g.floats([4, 3]).transpose(0, 1) : g.floats([3, 4])]),
  'contiguous <-> offset views': seq(pure((x: k.Tensor) => x.add(1).cumsum(0)), ['c', 'select', 'narrow', 'c'], (g, m) => {
    const base = g.floats([3, 4]);
    return [m === 'select' ? base.select(0, 1) : m === 'narrow' ? base.narrow(0, 1, 1).view([4]) : g.floats([4])];
  }),
  'strided slices': seq(pure((x: k.Tensor) => x.neg().amax(0)), ['c', 'step', 'c', 'expand'], (g, m) => [
    m === 'step' ? g.floats([3, 8]).slice(1, 0, null, 2) : m === 'expand' ? g.floats([1, 4]).expand([3, 4]) : g.floats([3, 4]),
  ]),
  'size 0 / 1 <-> larger': seq(pure((x: k.Tensor) => x.sum(0).add(x.shape[0])), [[0, 3], [1, 3], [4, 3], [1, 1], [0, 0]], (g, s) => [g.floats(s)]),
  'broadcast of a size-1 dimension appears and goes': seq(pure((x: k.Tensor, y: k.Tensor) => x.add(y).mul(y)), [[3, 4], [1, 4], [3, 1], [3, 4]], (g, s) => [g.floats([3, 4]), g.floats(s)]),
  'one tensor for two parameters, read only': seq(pure((x: k.Tensor, y: k.Tensor) => x.sub(y.mul(2))), ['two', 'same', 'two'], (g, m) => {
    const x = g.floats([2, 3]);
    return [x, m === 'same' ? x : g.floats([2, 3])];
  }),
  'one tensor for two parameters, written in place': seq(pure((x: k.Tensor, y: k.Tensor) => {
    x.add_(1);
    return y.mul(2);
  }), ['same', 'two', 'same'], (g, m) => {
    const x = g.floats([2, 3]);
    return [x, m === 'same' ? x : g.floats([2, 3])];
  }),
  'a view of the written argument passed as the second': seq(pure((x: k.Tensor, y: k.Tensor) => {
    x.mul_(3);
    return y.sum();
  }), ['two', 'view', 'two'], (g, m) => {
    const x = g.floats([2, 3]);
    return [x, m === 'view' ? x.view([6]) : g.floats([6])];
  }),
  'a tensor replaced by a number and back': seq(pure((x: k.Tensor, y: unknown) => x.add(y as k.Tensor)), ['t', 'n', 'f', 't'], (g, m) => [g.floats([2, 2]), m === 't' ? g.floats([2, 2]) : m === 'n' ? 3 : 0.5]),
});

cases(Captures, {
  'a module-level let tensor reassigned': {
    ...seq(() => ({ fn: (x: k.Tensor) => x.mul(moduleWeight).sum(-1 as never), beforeCall: (i) => void (moduleWeight = [k.ones([4]), k.full([4], 3), k.ones([1]), k.arange(4).to('int32')][i % 4]!) }), [0, 1, 2, 3], (g) => [g.floats([2, 4])]),
  },
  'a module-level let number reassigned (int, float, NaN, -0, Infinity, tensor)': {
    ...seq(() => ({ fn: (x: k.Tensor) => x.div(moduleScale as number).add(moduleScale as number), beforeCall: (i) => void (moduleScale = [2, 3, 2.5, NaN, -0, 0, Infinity, k.full([1], 4)][i % 8]) }), [0, 1, 2, 3, 4, 5, 6, 7], (g) => [g.floats([3])]),
  },
  'a captured object: field changed, added, removed': {
    ...seq(() => {
      const cfg: Record<string, unknown> = { scale: 2 };
      const edits = [() => {}, () => (cfg.scale = 3), () => (cfg.bias = k.ones([3])), () => delete cfg.bias, () => (cfg.scale = 0.5), () => (cfg.bias = 1)];
      return { fn: (x: k.Tensor) => ('bias' in cfg ? x.mul(cfg.scale as number).add(cfg.bias as k.Tensor) : x.mul(cfg.scale as number)), beforeCall: (i) => void edits[i % 6]!() };
    }, [0, 1, 2, 3, 4, 5], (g) => [g.floats([2, 3])]),
  },
  'a captured object field read without in (undefined vs present)': {
    ...seq(() => {
      const cfg: { bias?: k.Tensor | number | null } = {};
      const values = [undefined, k.full([3], 2), null, 5, undefined];
      return { fn: (x: k.Tensor) => (cfg.bias === undefined ? x.neg() : cfg.bias === null ? x.abs() : x.add(cfg.bias)), beforeCall: (i) => void (cfg.bias = values[i % 5]) };
    }, [0, 1, 2, 3, 4], (g) => [g.floats([3])]),
  },
  'a captured array grown and shrunk': {
    ...seq(() => {
      const scales: number[] = [2];
      const edits = [() => {}, () => scales.push(3), () => scales.push(0.5), () => scales.pop(), () => (scales.length = 0)];
      return { fn: (x: k.Tensor) => scales.reduce((acc, s) => acc.mul(s).add(1), x), beforeCall: (i) => void edits[i % 5]!() };
    }, [0, 1, 2, 3, 4], (g) => [g.floats([3])]),
  },
  'the last element of a captured array (at(-1), length - 1)': {
    ...seq(() => {
      const ws = [k.ones([3])];
      return { fn: (x: k.Tensor) => x.mul(ws.at(-1)!).add(ws[ws.length - 1]!), beforeCall: (i) => void (i > 0 && ws.push(k.full([3], i))) };
    }, [0, 1, 2], (g) => [g.floats([3])]),
  },
  'a captured Map entry changed': {
    ...seq(() => {
      const m = new Map<string, number>([['a', 2]]);
      const edits = [() => {}, () => m.set('a', 5), () => m.set('b', 1), () => m.delete('a'), () => m.set('a', 0.25)];
      return { fn: (x: k.Tensor) => (m.has('a') ? x.mul(m.get('a')!) : x.sub(m.size)), beforeCall: (i) => void edits[i % 5]!() };
    }, [0, 1, 2, 3, 4], (g) => [g.floats([3])]),
  },
  'iterating a captured Map whose entries change': {
    ...seq(() => {
      const m = new Map<string, k.Tensor>([['a', k.ones([3])]]);
      const edits = [() => {}, () => m.set('b', k.full([3], 2)), () => m.set('a', k.full([3], -1)), () => m.delete('b')];
      return {
        fn: (x: k.Tensor) => {
          let acc = x;
          for (const [, v] of m) acc = acc.mul(v).add(1);
          return acc;
        },
        beforeCall: (i) => void edits[i % 4]!(),
      };
    }, [0, 1, 2, 3], (g) => [g.floats([3])]),
  },
  'a nested captured object replaced and mutated': {
    ...seq(() => {
      const cfg = { inner: { scale: 2, shift: 1 } };
      const edits = [() => {}, () => (cfg.inner.scale = 4), () => (cfg.inner = { scale: 0.5, shift: -1 }), () => (cfg.inner.shift = 7)];
      return { fn: (x: k.Tensor) => x.mul(cfg.inner.scale).add(cfg.inner.shift), beforeCall: (i) => void edits[i % 4]!() };
    }, [0, 1, 2, 3], (g) => [g.floats([3])]),
  },
  'objects with the same keys in another order': seq(pure((o: Record<string, k.Tensor>) => Object.values(o).reduce((a, b) => a.sub(b).mul(2))), ['ab', 'ba', 'ab'], (g, m) => {
    const [a, b] = [g.floats([3]), g.floats([3])];
    return [m === 'ab' ? { a, b } : { b, a }];
  }),
  'Object.keys / entries / spread of an argument object': seq(pure((o: Record<string, number>, x: k.Tensor) => {
    const copy = { ...o, z: 1 };
    return [Object.keys(copy).join(','), Object.entries(o).reduce((acc, [, v]) => acc.mul(v).add(1), x)];
  }), ['a', 'ab', 'ba', 'b'], (g, m) => [Object.fromEntries([...m].map((c, i) => [c, i + 2])), g.floats([3])]),
  'a helper closure over a mutated const object and a reassigned let': {
    ...seq(() => {
      const cfg = { scale: 2 };
      let shift = 1;
      const helper = (x: k.Tensor) => x.mul(cfg.scale).add(shift);
      return { fn: (x: k.Tensor) => helper(x).neg(), beforeCall: (i) => void (i % 2 ? (cfg.scale += 1) : (shift = shift * -2.5)) };
    }, [0, 1, 2, 3], (g) => [g.floats([3])]),
  },
  'a captured tensor written in place by the frame, then reassigned': {
    ...seq(() => {
      let state = k.zeros([3]);
      return {
        fn: (x: k.Tensor) => {
          state.add_(x);
          return state.mul(2);
        },
        beforeCall: (i) => void (i === 2 && (state = k.ones([3]))),
        observe: () => state,
      };
    }, [0, 1, 2, 3], (g) => [g.floats([3])]),
  },
  'a field of one argument is the other argument, written in place': seq(pure((o: { s: k.Tensor }, x: k.Tensor) => {
    o.s.mul_(2);
    return x.add(1);
  }), ['other', 'same', 'other', 'same'], (g, m) => {
    const x = g.floats([3]);
    return [{ s: m === 'same' ? x : g.floats([3]) }, x];
  }),
});

/** A model whose fields, layers and methods the sequence edits between calls. */
class Model {
  training = true;
  scale: number | k.Tensor = 2;
  act: (x: k.Tensor) => k.Tensor = (x) => x.relu();
  forward(x: k.Tensor) {
    const h = this.act(x.mul(this.scale));
    return this.training ? h.mul(0.5) : h.add(1);
  }
}
const modelCase = (edits: ((m: Model) => void)[]): Program<number> => ({
  world: () => {
    const model = new Model();
    return { fn: (x: k.Tensor) => model.forward(x), beforeCall: (i) => edits[i % edits.length]!(model) };
  },
  shapes: edits.map((_, i) => i),
  args: (g) => [g.floats([2, 3])],
});

cases(Captures, {
  'model.training flag toggled': modelCase([() => {}, (m) => (m.training = false), (m) => (m.training = true)]),
  'a layer swapped on the instance': modelCase([() => {}, (m) => (m.act = (x) => x.tanh()), (m) => (m.act = (x) => x.sigmoid())]),
  'a method replaced on the instance and restored': modelCase([() => {}, (m) => (m.forward = (x) => x.exp()), (m) => delete (m as Partial<Model>).forward]),
  'a field changes type (number, tensor, float)': modelCase([() => {}, (m) => (m.scale = k.full([3], -1)), (m) => (m.scale = 0.5), (m) => (m.scale = 3)]),
  'a field added to the instance shadows nothing': modelCase([() => {}, (m) => Object.assign(m, { extra: 1 }), (m) => (m.training = false)]),
  'the prototype of the instance swapped, a prototype method replaced': {
    world: () => {
      class B extends Model {
        override forward(x: k.Tensor) {
          return x.exp();
        }
      }
      const model = new Model();
      const edits = [() => {}, () => Object.setPrototypeOf(model, B.prototype), () => (B.prototype.forward = (x: k.Tensor) => x.abs()), () => Object.setPrototypeOf(model, Model.prototype)];
      return { fn: (x: k.Tensor) => model.forward(x), beforeCall: (i) => edits[i % 4]!() };
    },
    shapes: [0, 1, 2, 3],
    args: (g) => [g.floats([3])],
  },
  'this as the compiled receiver, fields edited': {
    world: () => {
      const model = new Model();
      return { fn: Model.prototype.forward, thisArg: model, beforeCall: (i) => [() => {}, () => (model.training = false), () => (model.act = (x) => x.abs()), () => (model.scale = 0.25)][i % 4]!() };
    },
    shapes: [0, 1, 2, 3],
    args: (g) => [g.floats([3])],
  },
});

cases(Scalars, {
  'a number argument: int, float, NaN, -0, 0, Infinity, -Infinity': seq(pure((x: k.Tensor, n: number) => x.mul(n).add(x.div(n))), [2, 3, 2.5, NaN, -0, 0, Infinity, -Infinity, 7], (g, n) => [g.floats([4]), n]),
  'a number argument with an int32 tensor': seq(pure((x: k.Tensor, n: number) => x.mul(n).add(n)), [2, 3, 4, 0.5, -0, NaN, 5], (g, n) => [g.ints([4]), n]),
  'a number returned and stored (runtime numbers)': seq(pure((x: k.Tensor, n: number) => [x.sum().mul(2), n * 2, n + 0.5, -n, n / 3]), [1, 2, 3, -0, NaN, 0.1, 4], (g, n) => [g.floats([2]), n]),
  'a size times a number that becomes -0 (returned)': seq(pure((x: k.Tensor, n: number) => [x.shape[0] * n, x.shape[0] / n, n - x.shape[0], x.sum()]), [2, 3, -0, 0, 1.5, -0], (g, n) => [g.floats([4]), n]),
  'a size of 0 negated and multiplied': seq(pure((x: k.Tensor) => [-x.shape[0], x.shape[0] * -1, x.shape[1] * -0, x.sum(1)]), [[0, 2], [3, 2], [0, 2], [5, 3]], (g, s) => [g.floats(s)]),
  'an unbacked size negated and times -1 when it is 0': seq(pure((x: k.Tensor) => {
    const n = x.nonzero().shape[0];
    return [n * -1, -n, n * 2, x.sum()];
  }), [[0, 0, 0], [1, 0, 2], [0, 0, 0]], (g, d) => [k.Tensor.fromData(Float32Array.from(d), [3], 'float32')]),
  'a number used as a size': seq(pure((x: k.Tensor, n: number) => x.reshape([n, -1]).sum(0)), [2, 3, 1, 6, 2], (g, n) => [g.floats([6]), n]),
  'a number compared in a branch': seq(pure((x: k.Tensor, n: number) => (n > 0 ? x.mul(n) : Object.is(n, -0) ? x.sub(1) : x.add(n))), [1, 2, -1, -0, 0, NaN, 3], (g, n) => [g.floats([3]), n]),
  'a boolean flag flips': seq(pure((x: k.Tensor, flag: boolean) => (flag ? x.exp() : x.neg())), [true, false, true], (g, f) => [g.floats([3]), f]),
  'a string mode flips': seq(pure((x: k.Tensor, mode: string) => (mode === 'sum' ? x.sum(0) : mode === 'mean' ? x.mean(0) : x.amax(0))), ['sum', 'mean', 'max', 'sum'], (g, m) => [g.floats([3, 2]), m]),
  'undefined / null / number / tensor / false for one argument': seq(pure((x: k.Tensor, b?: unknown) => (b == null ? x.add(b === null ? 1 : 2) : b === false ? x : x.add(b as k.Tensor))), ['u', 'n', '3', 't', 'f', 'u'], (g, m) => [
    g.floats([3]),
    { u: undefined, n: null, 3: 3, t: g.floats([3]), f: false }[m],
  ]),
  'an optional argument present and absent': seq(pure((x: k.Tensor, scale = 2, shift?: number) => x.mul(scale).add(shift ?? 0)), [[], [3], [3, 1], [], [undefined, 4]], (g, rest) => [g.floats([3]), ...rest]),
  'typeof of an argument flips': seq(pure((x: k.Tensor, v: unknown) => (typeof v === 'number' ? x.mul(v) : typeof v === 'string' ? x.add(v.length) : x.sub(1))), [1, 'ab', 1, true, 'abc'], (g, v) => [g.floats([3]), v]),
  'numbers inside an argument array change': seq(pure((x: k.Tensor, dims: number[]) => x.sum(dims).add(dims.length)), [[0], [1], [0, 1], [1]], (g, d) => [g.floats([2, 3]), d]),
  'an argument array with a hole vs an undefined element': seq(pure((xs: unknown[], x: k.Tensor) => xs.map((v) => (v === undefined ? x : x.mul(v as number))).reduce((a, b) => a.add(b))), ['hole', 'undef', 'num', 'hole'], (g, m) => {
    const a: unknown[] = [2, 3];
    if (m === 'hole') a.length = 3;
    else a.push(m === 'undef' ? undefined : 4);
    return [a, g.floats([2])];
  }),
  'a getter replaces a field, then a value again': {
    ...seq(() => {
      const cfg: { s: number } = { s: 2 };
      const edits = [() => {}, () => Object.defineProperty(cfg, 's', { get: () => 5, configurable: true }), () => Object.defineProperty(cfg, 's', { value: 7, writable: true, configurable: true })];
      return { fn: (x: k.Tensor) => x.mul(cfg.s), beforeCall: (i) => void edits[i % 3]!() };
    }, [0, 1, 2], (g) => [g.floats([3])]),
  },
  'an argument array read beyond its length': seq(pure((xs: number[], x: k.Tensor) => x.mul(xs[2] ?? 1)), [[1, 2], [1, 2, 3], [1, 2]], (g, a) => [[...a], g.floats([3])]),
  'an argument array of tensors changes length': seq(pure((xs: k.Tensor[]) => xs.reduce((a, b) => a.mul(b)).add(xs.length)), [1, 2, 3, 1], (g, n) => [Array.from({ length: n }, () => g.floats([2]))]),
});

// More distinct traces than the recompile limit (8): the frame then runs eagerly and stays correct.
const tenModes = Array.from({ length: 11 }, (_, i) => `m${i}`);
const markEvery = (m: (t: k.Tensor) => void) => (g: Gen, s: readonly number[]) => {
  const x = g.floats(s);
  m(x);
  return [x];
};

cases(Cache, {
  'the recompile limit is hit, then eager': seq(pure((x: k.Tensor, mode: string) => x.mul(mode.length + mode.charCodeAt(1))), tenModes, (g, m) => [g.floats([3]), m]),
  'the recompile limit is hit with changing shapes and dtypes': seq(pure((x: k.Tensor) => x.add(1).sum(0)), [[2], [3, 1], [2, 2, 2], [1], [4, 4, 1, 1], [5], [2, 1, 1, 1, 1], [3, 3], [1, 1, 1], [7, 1], [2]], (g, s) => [s.length % 2 ? g.ints(s) : g.floats(s)]),
  'reset() between calls': {
    ...seq(() => ({ fn: (x: k.Tensor, n: number) => x.mul(n), beforeCall: (i) => void (i % 2 && reset()) }), [2, 3, 2, 0.5], (g, n) => [g.floats([3]), n]),
  },
  'markDynamic on some calls': seq(pure((x: k.Tensor) => x.sum(1).add(x.shape[1])), [[2, 3], [2, 1], [4, 5], [0, 2]], (g, s) => markEvery((t) => markDynamic(t, [0, 1]))(g, s)),
  'markDynamic, then a size of 1 and 0': seq(pure((x: k.Tensor, y: k.Tensor) => x.add(y)), [[3], [1], [0], [3]], (g, s) => {
    const x = g.floats([3]);
    const y = g.floats(s);
    markDynamic(y, 0);
    return [x, y];
  }),
});

// Closures of the same code share one cache (told apart by identity guards on their captures).
Cache('closures of the same code: different constants and reassigned lets', () => {
  const mk = (s: number) => (x: k.Tensor) => x.mul(s);
  const mkLet = (s: number) => {
    let t = s;
    return [(x: k.Tensor) => x.mul(t), (v: number) => void (t = v)] as const;
  };
  const same = (got: unknown, want: unknown) => assert.equal(compareTree(got, want, 'result', 1e-6), []);
  for (const opts of [{ backend: 'cpu' }, { backend: 'cpu', dynamic: true }, { backend: 'eager' }] as const) {
    const x = k.Tensor.fromData(Float32Array.from([1, -2, 3]), [3], 'float32');
    const fs = [2, 3, 2.5, -0, 4].map((s) => [mk(s), compile(mk(s), opts)] as const);
    for (const [eager, compiled] of [...fs, ...fs]) same(compiled(x), eager(x));
    const [[f1, set1], [f2, set2]] = [mkLet(2), mkLet(3)];
    const [c1, c2] = [compile(f1, opts), compile(f2, opts)];
    for (const v of [5, 6, 0.5, -0]) {
      same(c1(x), f1(x));
      same(c2(x), f2(x));
      set1(v);
      set2(v + 1);
    }
  }
});

Tensors.run();
Captures.run();
Scalars.run();
Cache.run();
