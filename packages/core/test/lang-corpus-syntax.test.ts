// Language corpus, part 1: destructuring, spread, operators, template literals, strings and numbers derived
// from shapes. Each program is a small piece of realistic model code; the harness runs it compiled and
// eagerly (see support/lang-corpus.ts). Regressions of bugs this corpus found are named `regression:`.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { MATRICES, cases, pure } from './support/lang-corpus.js';

const Destructuring = suite('language corpus: destructuring and spread');
const Operators = suite('language corpus: operators');
const Strings = suite('language corpus: strings and numbers from sizes');

const floats = (g: { floats(s: readonly number[]): k.Tensor }, s: readonly number[]) => [g.floats(s)];
const CUBES = [[2, 3, 4], [1, 3, 4], [2, 5, 4], [3, 2, 2]] as const;

cases(Destructuring, {
  'shape destructuring with defaults and rest': {
    world: pure((x: k.Tensor) => {
      const [b, t = 1, d = 7, ...rest] = x.shape;
      return x.reshape([b * t, -1]).mul(d + rest.length);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'nested destructuring of an options object with defaults': {
    world: pure((x: k.Tensor, { scale = 2, shift: { by = 1, dims: [d0] = [0] } = {} }: any = {}) => x.mul(scale).add(by).sum(d0)),
    shapes: [0, 1, 2, 0],
    args: (g, s) => [g.floats([3, 2]), [undefined, { scale: 3 }, { shift: { by: -1, dims: [1] } }][s]],
  },
  'object rest collects the remaining fields': {
    world: pure((x: k.Tensor, cfg: Record<string, number>) => {
      const { bias, ...scales } = cfg;
      let y = x.add(bias ?? 0);
      for (const v of Object.values(scales)) y = y.mul(v);
      return [y, Object.keys(scales)];
    }),
    shapes: [0, 1, 0],
    args: (g, s) => [g.floats([4]), s === 0 ? { bias: 1, a: 2, b: 3 } : { a: 0.5 }],
  },
  'destructuring in parameters of an inner arrow': {
    world: pure((xs: k.Tensor[]) => xs.map((t, i) => [t, i] as const).map(([t, i]) => t.mul(i + 1)).reduce((a, b) => a.add(b))),
    shapes: [[3], [1], [5]],
    args: (g, s) => [[g.floats(s), g.floats(s), g.floats(s)]],
  },
  'swap with array destructuring': {
    world: pure((a: k.Tensor, b: k.Tensor) => {
      let [p, q] = [a, b];
      for (let i = 0; i < 3; i++) [p, q] = [q, p.add(q)];
      return [p, q];
    }),
    shapes: MATRICES,
    args: (g, s) => [g.floats(s), g.floats(s)],
  },
  'spread of sizes into calls, arrays and objects': {
    world: pure((x: k.Tensor) => {
      const dims = [...x.shape, 1];
      const meta = { ...{ rows: x.shape[0] }, cols: x.shape[1], ...{ rows: -1 } };
      return [x.reshape(dims).squeeze(-1).add(Math.max(...x.shape)), meta];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'regression: a string spread into an object literal gives one key per character': {
    // (cast: TypeScript only lets objects be spread; JavaScript spreads a string's characters)
    world: pure((x: k.Tensor) => ({ ...('ab' as unknown as object), ...((x.shape[0] > 2 ? 'xyz' : '') as unknown as object), n: x.shape[0] })),
    shapes: MATRICES,
    args: floats,
  },
  'computed keys and shorthand properties': {
    world: pure((x: k.Tensor) => {
      const rows = x.shape[0];
      const key = rows > 2 ? 'tall' : 'short';
      const out = { [key]: x.sum(0), rows, [`n${x.ndim}`]: x.ndim };
      return out;
    }),
    shapes: MATRICES,
    args: floats,
  },
  'regression: assignment target evaluated once (a[i++] += v)': {
    // The tracer evaluated the target's object and key twice for compound assignments, so `i++` ran twice.
    world: pure((x: k.Tensor) => {
      const counts = [0, 0, 0];
      let i = 0;
      counts[i++] += 1;
      counts[i++] += 2;
      counts[i] = i++;
      return [x.mul(i), counts];
    }),
    shapes: MATRICES,
    args: floats,
  },
});

cases(Operators, {
  'optional chaining and nullish coalescing on options': {
    world: pure((x: k.Tensor, o: any) => [o.f?.(x) ?? x.neg(), o?.g?.h ?? -1, o.m?.x ?? null, o.list?.[1] ?? 0]),
    shapes: [0, 1, 0],
    args: (g, s) => [g.floats([3]), s === 0 ? { g: { h: 1 }, list: [4, 5] } : { f: null, m: { x: 2 } }],
  },
  'logical assignment on locals': {
    world: pure((x: k.Tensor, n: number) => {
      let a: number | undefined;
      let b = 0;
      let c = n;
      a ??= x.shape[0];
      b ||= 3;
      c &&= c + 1;
      return x.mul(a + b + c);
    }),
    shapes: [0, 2, 0],
    args: (g, s) => [g.floats([2, 2]), s],
  },
  'comma, void and typeof': {
    world: pure((x: k.Tensor, maybe?: number) => {
      let steps = 0;
      const y = (steps++, steps++, x.add(steps));
      void steps;
      const kind = typeof maybe === 'number' ? maybe : typeof x;
      // @ts-expect-error: a name declared nowhere (typeof does not throw)
      return [y, kind, typeof undeclaredAnywhere];
    }),
    shapes: [0, 1],
    args: (g, s) => (s === 0 ? [g.floats([2])] : [g.floats([2]), 4]),
  },
  'in and instanceof on options and tensors': {
    world: pure((x: k.Tensor, o: object) => [('scale' in o ? x.mul(2) : x), x instanceof k.Tensor, o instanceof Array, 1 in [5, 6]]),
    shapes: [0, 1, 0],
    args: (g, s) => [g.floats([3]), s === 0 ? { scale: 2 } : []],
  },
  'regression: in tells a key holding undefined from a missing key': {
    // `'bias' in o` was answered from a value read (undefined either way) and cached without its own guard.
    world: pure((x: k.Tensor, o: Record<string, unknown>) => ('bias' in o ? x.add(1) : x.mul(2))),
    shapes: [0, 1, 0, 1],
    args: (g, s) => [g.floats([3]), s === 0 ? { bias: undefined } : {}],
  },
  'delete on a local object, then in and keys': {
    world: pure((x: k.Tensor) => {
      const o: Record<string, number> = { a: 1, b: 2, c: 3 };
      delete o.a;
      delete o['c'];
      return [x.mul('a' in o ? 1 : 2), Object.keys(o), o];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'bitwise and exponent operators on sizes': {
    world: pure((x: k.Tensor) => {
      const n = x.shape[1];
      const half = n >> 1;
      const pow = 2 ** half;
      return x.mul((n & 1) === 0 ? pow : -pow).add(n | 8).sub(~n ^ 3);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'loose equality between sizes and strings': {
    world: pure((x: k.Tensor, want: string) => (x.shape[0] == (want as unknown as number) ? x.add(1) : x.sub(1))),
    shapes: [[3, '3'], [2, '3'], [4, '4']],
    args: (g, s) => [g.floats([s[0] as number, 2]), s[1]],
  },
});

cases(Strings, {
  'regression: array join and toString of a shape': {
    // A symbolic size reached native join/toString as its symbol name (`s0xs1`).
    world: pure((x: k.Tensor) => [x.shape.join('x'), x.shape.toString(), `${x.shape}`, String(x.shape[0])]),
    shapes: MATRICES,
    args: floats,
  },
  'template literals with shapes as keys of a cache': {
    world: () => {
      const seen: string[] = [];
      return {
        fn: (x: k.Tensor) => {
          const key = `${x.shape[0]}:${x.shape[1]}/${x.dtype}`;
          seen.push(key);
          return x.mul(key.length);
        },
        observe: () => [...seen],
      };
    },
    shapes: MATRICES,
    args: floats,
  },
  'string methods on a shape string': {
    world: pure((x: k.Tensor) => {
      const s = `${x.shape[0]}x${x.shape[1]}`;
      const [a, b] = s.split('x').map(Number);
      return x.reshape([b!, a!]).mul(s.length + s.indexOf('x') + (s.startsWith('4') ? 1 : 0)).add(s.padStart(6, '0').length);
    }),
    shapes: MATRICES,
    args: floats,
  },
  'Number, parseInt and toFixed on sizes': {
    world: pure((x: k.Tensor) => [x.mean().mul(1), (x.shape[0] / 3).toFixed(2), x.shape[1].toString(2), parseInt(`${x.shape[0]}px`), Number('0x' + x.shape[1]), Number.isInteger(x.shape[0] / 2)]),
    shapes: CUBES,
    args: floats,
  },
  'Math over spread shapes': {
    world: pure((x: k.Tensor) => x.mul(Math.max(...x.shape) - Math.min(...x.shape)).add(Math.hypot(...x.shape)).div(Math.log2(x.shape.length + 1))),
    shapes: CUBES,
    args: floats,
  },
  'regression: symbols in a template literal raise as in eager': {
    // A Symbol was converted with String() (`Symbol(a)`), where a template literal throws TypeError.
    world: pure((x: k.Tensor) => {
      const tag = Symbol('a');
      return [x.add(1), `${tag as unknown as string}`];
    }),
    shapes: MATRICES,
    args: floats,
  },
  'tagged template over sizes': {
    world: pure((x: k.Tensor) => {
      const tag = (parts: TemplateStringsArray, ...v: unknown[]) => parts.join('|') + v.join(',');
      return [x.add(1), tag`a${x.shape[0]}b${x.shape[1]}`];
    }),
    shapes: MATRICES,
    args: floats,
  },
});

Destructuring.run();
Operators.run();
Strings.run();
