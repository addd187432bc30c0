// Language corpus, part 3: classes (fields, statics, private fields, accessors, inheritance, chaining,
// iterators), arrays, Maps and Sets built in the frame, and the Object / Array helpers over them.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { MATRICES, cases, pure } from './support/lang-corpus.js';

const Classes = suite('language corpus: classes');
const Collections = suite('language corpus: arrays, Maps and Sets');
const Helpers = suite('language corpus: Object and Array helpers');

const floats = (g: { floats(s: readonly number[]): k.Tensor }, s: readonly number[]) => [g.floats(s)];

class Affine {
  static created = 0;
  weight: number;
  bias = 1;
  constructor(weight = 2) {
    this.weight = weight;
  }
  forward(x: k.Tensor) {
    return x.mul(this.weight).add(this.bias);
  }
  toString() {
    return `Affine(${this.weight})`;
  }
}
class Residual extends Affine {
  constructor() {
    super(3);
    this.bias = -1;
  }
  override forward(x: k.Tensor) {
    return x.add(super.forward(x));
  }
}
class Secret {
  #w = 3;
  get w() {
    return this.#w;
  }
  run(x: k.Tensor) {
    return x.mul(this.#w);
  }
}
class Pipeline {
  private steps: ((t: k.Tensor) => k.Tensor)[] = [];
  scale(s: number) {
    this.steps.push((t) => t.mul(s));
    return this;
  }
  shift(s: number) {
    this.steps.push((t) => t.add(s));
    return this;
  }
  apply(x: k.Tensor) {
    return this.steps.reduce((t, f) => f(t), x);
  }
}
class Windows {
  constructor(readonly n: number) {}
  *[Symbol.iterator]() {
    for (let i = 0; i < this.n; i++) yield i;
  }
}
class Scaler {
  scale = 2;
  act = (x: k.Tensor) => x.mul(this.scale);
}

cases(Classes, {
  'a class built in the frame with fields and a default constructor parameter': {
    world: pure((x: k.Tensor) => [new Affine().forward(x), new Affine(0.5).forward(x)]),
    shapes: MATRICES,
    args: floats,
  },
  'inheritance with super() and super.method()': {
    world: () => {
      const m = new Residual();
      return { fn: (x: k.Tensor) => m.forward(x) };
    },
    shapes: MATRICES,
    args: floats,
  },
  'private #fields and a getter on an outside instance': {
    world: () => {
      const m = new Secret();
      return { fn: (x: k.Tensor) => m.run(x).add(m.w) };
    },
    shapes: MATRICES,
    args: floats,
  },
  'methods returning this for chaining': {
    world: pure((x: k.Tensor) => new Pipeline().scale(2).shift(x.shape[0]).scale(0.5).apply(x)),
    shapes: MATRICES,
    args: floats,
  },
  'a Symbol.iterator generator method drives a loop': {
    world: pure((x: k.Tensor) => {
      let y = x;
      for (const i of new Windows(x.shape[0])) y = y.add(i);
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'toString of an instance in a template': {
    world: pure((x: k.Tensor) => [x.mul(2), `${new Affine(4)}`, String(new Affine(1))]),
    shapes: MATRICES,
    args: floats,
  },
  'regression: a setter on an instance built in the frame': {
    // The write ran the setter natively while tracing (its outside write too, once, with traced values);
    // it now runs eagerly.
    world: () => {
      const writes: number[] = [];
      class Box {
        private v = 0;
        get value() {
          return this.v;
        }
        set value(n: number) {
          writes.push(n);
          this.v = n * 2;
        }
      }
      return {
        fn: (x: k.Tensor) => {
          const b = new Box();
          b.value = x.shape[0];
          return x.mul(b.value);
        },
        observe: () => [...writes],
      };
    },
    shapes: MATRICES,
    args: floats,
  },
  'regression: an outside arrow field called through another object': {
    // An arrow's lexical `this` was taken to be the receiver of the call (cfg), not the instance.
    world: () => {
      const s = new Scaler();
      const cfg = { scale: 10, fn: s.act };
      return { fn: (x: k.Tensor) => [cfg.fn(x), s.act(x)] };
    },
    shapes: MATRICES,
    args: floats,
  },
  'regression: a compiled arrow that uses the this of its creator': {
    world: () => {
      class Model {
        w = 3;
        forward = (x: k.Tensor) => x.mul(this.w);
      }
      const m = new Model();
      const other = { w: 100, forward: m.forward };
      return { fn: other.forward, thisArg: other };
    },
    shapes: MATRICES,
    args: floats,
  },
});

cases(Collections, {
  'regression: includes and indexOf on a symbolic shape': {
    // SymInts reached native includes/indexOf as objects: never equal to a number.
    world: pure((x: k.Tensor) => [x.shape.includes(4) ? x.add(1) : x.sub(1), x.shape.indexOf(4), x.shape.lastIndexOf(x.shape[0])]),
    shapes: MATRICES,
    args: floats,
  },
  'regression: sorting a copy of the shape': {
    // The default sort compared the symbol names (`s0` < `s1`), not the sizes as strings.
    world: pure((x: k.Tensor) => [[...x.shape].sort(), [...x.shape].sort((a, b) => b - a)]),
    shapes: [[9, 10], [10, 9], [3, 12]],
    args: floats,
  },
  'regression: a Map keyed by a size': {
    // A SymInt key is an object: `get(4)` missed it.
    world: pure((x: k.Tensor) => {
      const m = new Map<number, string>();
      m.set(x.shape[0], 'rows');
      return [x.add(1), m.get(4) ?? 'none', m.has(3)];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'a Set of sizes': {
    world: pure((x: k.Tensor) => {
      const s = new Set(x.shape);
      s.add(x.shape[1]);
      return [x.add(s.size), s.has(4)];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'regression: indexOf over inputs that may be one tensor': {
    // Two inputs are two fake tensors while tracing, but the caller may pass one tensor twice.
    world: pure((a: k.Tensor, b: k.Tensor) => [[a, b].indexOf(b), a.add(b)]),
    shapes: [0, 1, 0],
    args: (g, s) => {
      const a = g.floats([3]);
      return s === 0 ? [a, a] : [a, g.floats([3])];
    },
  },
  'a Set over inputs that may be one tensor': {
    world: pure((a: k.Tensor, b: k.Tensor) => [new Set([a, b]).size, a.add(b)]),
    shapes: [0, 1, 0],
    args: (g, s) => {
      const a = g.floats([3]);
      return s === 0 ? [a, a] : [a, g.floats([3])];
    },
  },
  'array helpers over tensors with arrows and named callbacks': {
    world: pure((x: k.Tensor) => {
      const parts = x.split(1, 0);
      function isEven(_: k.Tensor, i: number) {
        return i % 2 === 0;
      }
      const even = parts.filter(isEven);
      return [
        even.length ? k.stack(even) : x,
        parts.findIndex((p) => p.shape[0] > 4),
        parts.some((p) => p.ndim === 1),
        parts.every((p) => p.shape[0] === x.shape[1]),
        [...parts.keys()],
        parts.find((_, i) => i === 1) ?? null,
      ];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'forEach accumulating into an outer local': {
    world: pure((xs: k.Tensor[]) => {
      let acc = xs[0]!.mul(0);
      xs.forEach((t, i) => {
        acc = acc.add(t.mul(i + 1));
      });
      return acc;
    }),
    shapes: [2, 3, 1],
    args: (g, s) => [Array.from({ length: s }, () => g.floats([3]))],
  },
  'flat, flatMap, at and slice': {
    world: pure((x: k.Tensor) => {
      const nested = [[1, 2], [3, [4]]].flat(2) as number[];
      const pairs = x.shape.flatMap((d) => [d, d * 2]);
      return [x.mul(nested.at(-1)!), pairs, pairs.slice(1, 3), nested.includes(4)];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'Array.from with a length and a mapping function': {
    world: pure((x: k.Tensor) => {
      const idx = Array.from({ length: x.shape[0] }, (_, i) => i * 2);
      const fresh = Array.from({ length: 2 });
      return [x.add(idx.reduce((a, b) => a + b, 0)), idx, fresh.length, new Array(3).fill(x.shape[1])];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'an array whose length changes between calls': {
    world: pure((xs: k.Tensor[]) => xs.reduce((a, b) => a.add(b))),
    shapes: [2, 3, 1],
    args: (g, s) => [Array.from({ length: s }, () => g.floats([3]))],
  },
});

cases(Helpers, {
  'Object.keys, values, entries, assign and fromEntries': {
    world: pure((x: k.Tensor) => {
      const o = Object.fromEntries([['a', x.add(1)], ['b', x.mul(2)]]);
      const m = Object.assign({}, o, { c: x.neg() });
      return Object.entries(m).map(([key, v]) => v.sum().add(key.length));
    }),
    shapes: MATRICES,
    args: floats,
  },
  'regression: writing into a frozen object raises as in eager': {
    // Object.freeze returned the object unfrozen, so the write succeeded.
    world: pure((x: k.Tensor) => {
      const c = Object.freeze({ a: 1 });
      (c as { a: number }).a = 2;
      return x.mul(c.a);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'regression: a frozen object returned stays frozen': {
    world: pure((x: k.Tensor) => {
      const out = Object.freeze({ y: x.add(1), rows: x.shape[0] });
      return [out, Object.isFrozen(out)];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'an outside config object whose keys change between calls': {
    world: pure((x: k.Tensor, o: Record<string, number>) => {
      let y = x;
      for (const [key, v] of Object.entries(o)) y = key.startsWith('m') ? y.mul(v) : y.add(v);
      return [y, Object.keys(o).length];
    }),
    shapes: [0, 1, 2, 0],
    args: (g, s) => [g.floats([3]), [{ mul: 2 }, { mul: 2, add: 1 }, { add: 1, mul: 2 }][s]],
  },
});

Classes.run();
Collections.run();
Helpers.run();
