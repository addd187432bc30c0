// Language corpus, part 2: loops with trip counts known while tracing, labels, switch, nested functions,
// closures, recursion, IIFEs, `this` and `arguments`, default parameters, and code that must stay eager
// (generators, async, try/catch/finally, throw).
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { MATRICES, cases, pure } from './support/lang-corpus.js';

const Loops = suite('language corpus: loops, labels and switch');
const Functions = suite('language corpus: functions and closures');
const Exceptions = suite('language corpus: exceptions and eager-only code');

const floats = (g: { floats(s: readonly number[]): k.Tensor }, s: readonly number[]) => [g.floats(s)];

function fact(n: number): number {
  return n <= 1 ? 1 : n * fact(n - 1);
}
function* range(n: number) {
  for (let i = 0; i < n; i++) yield i;
}
class ShapeError2 extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError2';
  }
}

cases(Loops, {
  'for…in over an object of scales': {
    world: pure((x: k.Tensor, o: Record<string, number>) => {
      let y = x;
      for (const key in o) y = y.add(o[key]!);
      return [y, Object.keys(o).join()];
    }),
    shapes: [0, 1, 2],
    args: (g, s) => [g.floats([3]), s === 0 ? { a: 1 } : s === 1 ? { a: 1, b: 2 } : { b: 2, a: 1 }],
  },
  'regression: for…in over a string visits its indices': {
    // for…in over a string visited nothing: only objects were listed.
    world: pure((x: k.Tensor, s: string) => {
      let n = 0;
      for (const i in s as unknown as object) n += Number(i);
      return x.mul(n);
    }),
    shapes: ['abc', 'ab', 'abcd'],
    args: (g, s) => [g.floats([2]), s],
  },
  'for…of over a Map, a Set, entries() and a string': {
    world: pure((x: k.Tensor) => {
      const m = new Map([['a', 1], ['b', 2]]);
      let y = x;
      for (const [name, v] of m) y = y.add(v * name.length);
      for (const v of new Set([1, 1, 2])) y = y.mul(v);
      for (const [i, t] of x.split(1, 0).entries()) y = y.add(t.sum().mul(i));
      for (const ch of 'ab') y = y.add(ch === 'a' ? 1 : 2);
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'while and do…while halving a size': {
    world: pure((x: k.Tensor) => {
      let n = x.shape[0] * x.shape[1];
      let y = x;
      let steps = 0;
      do {
        y = y.mul(0.5);
        n = Math.floor(n / 2);
        steps++;
      } while (n > 1);
      while (steps < 6) steps += 2;
      return [y, steps];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'labeled break and continue over nested loops': {
    world: pure((x: k.Tensor) => {
      let y = x;
      outer: for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          if (j > i) continue outer;
          if (i * j >= x.shape[0]) break outer;
          y = y.add(i * j);
        }
      }
      block: {
        if (x.shape[1] > 4) break block;
        y = y.neg();
      }
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'switch with fallthrough and default in the middle': {
    world: pure((x: k.Tensor) => {
      let y = x;
      switch (x.shape[0]) {
        // @ts-expect-error: the fallthrough is what this program tests
        case 4:
          y = y.add(4);
        case 3:
          y = y.mul(3);
          break;
        // @ts-expect-error: the fallthrough is what this program tests
        default:
          y = y.add(100);
        case 2:
          y = y.neg();
      }
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'closures capture a fresh let per iteration': {
    world: pure((x: k.Tensor) => {
      const fns: ((t: k.Tensor) => k.Tensor)[] = [];
      for (let i = 0; i < x.shape[1]; i++) fns.push((t) => t.add(i));
      return fns.reduce((acc, f) => f(acc), x).mul(fns.length);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'a var counter read after its for loop': {
    world: pure((x: k.Tensor) => {
      for (var i = 0; i < x.shape[0]; i++) x = x.add(1);
      return x.mul(i);
    }),
    shapes: MATRICES,
    args: floats,
  },
});

cases(Functions, {
  'closure counters and a memo cache built in the frame': {
    world: pure((x: k.Tensor) => {
      const counter = () => {
        let c = 0;
        return () => ++c;
      };
      const inc = counter();
      inc();
      inc();
      const memo = new Map<number, k.Tensor>();
      const scaled = (n: number) => memo.get(n) ?? (memo.set(n, x.mul(n)), memo.get(n)!);
      return [scaled(2).add(scaled(2)), inc() * 10 + counter()(), memo.size];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'recursion whose depth comes from a size': {
    world: pure((x: k.Tensor) => {
      const go = (t: k.Tensor, d: number): k.Tensor => (d === 0 ? t : go(t.add(d), d - 1));
      return go(x, x.shape[0]).mul(fact(x.shape[1]));
    }),
    shapes: MATRICES,
    args: floats,
  },
  'IIFEs and named function expressions': {
    world: pure((x: k.Tensor) => {
      const y = ((t: k.Tensor) => t.add(1))(x);
      const three = (function three() {
        return typeof three === 'function' ? 3 : 0;
      })();
      return y.mul(three);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'arguments and default parameters that read earlier ones': {
    world: pure(function (x: k.Tensor, n: number = x.shape[0], m: number = n * 2) {
      return x.mul(m + arguments.length);
    }),
    shapes: [0, 1, 2, 0],
    args: (g, s) => [[g.floats([3])], [g.floats([3]), undefined], [g.floats([3]), 2, 1]][s]!,
  },
  'this in arrows and functions inside a method-like function': {
    world: () => {
      const model = {
        scale: 3,
        run(this: { scale: number }, x: k.Tensor) {
          const viaArrow = [1, 2].map((v) => x.mul(v * this.scale));
          const viaFunction = [1, 2].map(function (this: unknown, v) {
            return this === undefined ? v : -v;
          });
          return [viaArrow, viaFunction];
        },
      };
      return { fn: model.run, thisArg: model };
    },
    shapes: MATRICES,
    args: floats,
  },
  'regression: callbacks get the thisArg of map': {
    // Native map called the callback wrapper with `this`, but the wrapper dropped it.
    world: pure((x: k.Tensor) =>
      [1, 2]
        .map(function (this: { k: number } | undefined, v) {
          return this === undefined ? v : v * this.k;
        }, { k: 10 })
        .map((v) => x.mul(v)),
    ),
    shapes: MATRICES,
    args: floats,
  },
  'function.call and apply with an explicit this': {
    world: pure((x: k.Tensor) => {
      function scaleBy(this: { s: number }, t: k.Tensor, extra: number) {
        return t.mul(this.s + extra);
      }
      return [scaleBy.call({ s: 2 }, x, 1), scaleBy.apply({ s: 3 }, [x, 0])];
    }),
    shapes: MATRICES,
    args: floats,
  },
});

cases(Exceptions, {
  'a generator drives the loop (eager)': {
    world: pure((x: k.Tensor) => {
      let y = x;
      for (const i of range(x.shape[0])) y = y.add(i);
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'a custom Error subclass thrown for some shapes': {
    world: pure((x: k.Tensor) => {
      if (x.shape[0] === 2) throw new ShapeError2(`bad rows ${x.shape}`);
      return x.add(1);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'throwing a non-Error value': {
    world: pure((x: k.Tensor) => {
      const y = x.mul(2);
      if (x.shape[1] > 4) throw { code: 7, rows: x.shape[0] };
      return y;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'a tensor op error caught by user code': {
    world: pure((x: k.Tensor) => {
      let y: k.Tensor;
      try {
        y = x.reshape([7]);
      } catch (e) {
        y = x.mul(e instanceof Error ? 2 : 3);
      }
      return y.add(1);
    }),
    shapes: [[7], [3, 4], [1, 7]],
    args: floats,
  },
  'return in try with a finally that writes outside': {
    world: () => {
      const log: number[] = [];
      return {
        fn: (x: k.Tensor) => {
          try {
            return x.add(1);
          } finally {
            log.push(x.shape[0]);
          }
        },
        observe: () => [...log],
      };
    },
    shapes: MATRICES,
    args: floats,
  },
  'new Error() keeps an empty message (regression)': {
    // `new Error()` was built with String(undefined): its message read "undefined".
    world: pure((x: k.Tensor) => {
      const e = new Error();
      const r = new RangeError(`rows ${x.shape[0]}`);
      return [x.add(1), e.message.length, r.message];
    }),
    shapes: MATRICES,
    args: floats,
  },
});

Loops.run();
Functions.run();
Exceptions.run();
