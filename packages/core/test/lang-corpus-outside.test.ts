// Language corpus, part 4: the world outside the frame — Proxies, getters, globals, module bindings that
// change between calls, nondeterministic builtins, edge numbers as arguments and guards (NaN, -0, Infinity,
// BigInt, int/float flips), strings, booleans, missing arguments, functions as arguments, and compiled
// functions calling each other.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { MATRICES, cases, pure } from './support/lang-corpus.js';

const State = suite('language corpus: outside state');
const Numbers = suite('language corpus: edge values as arguments');
const Compiled = suite('language corpus: compiled functions together');

const floats = (g: { floats(s: readonly number[]): k.Tensor }, s: readonly number[]) => [g.floats(s)];

let moduleScale = 1;
const relu = (t: k.Tensor) => t.relu();
const negate = (t: k.Tensor) => t.neg();
const SYM = Symbol('meta');

cases(State, {
  'regression: a Proxy argument whose get trap counts reads': {
    // The trap ran while tracing and in every guard: the read count drifted from eager's.
    world: () => {
      let reads = 0;
      const p = new Proxy({ s: 2 }, { get: (t, key) => (reads++, (t as Record<string | symbol, unknown>)[key]) });
      return { fn: (x: k.Tensor) => x.mul(p.s), observe: () => reads };
    },
    shapes: MATRICES,
    args: floats,
  },
  'a getter with a side effect on an outside object': {
    world: () => {
      const stats = { hits: 0 };
      const cfg = {
        get scale() {
          stats.hits++;
          return 3;
        },
      };
      return { fn: (x: k.Tensor) => x.mul(cfg.scale).add(cfg.scale), observe: () => stats.hits };
    },
    shapes: MATRICES,
    args: floats,
  },
  'globalThis read and write': {
    // Both worlds share globalThis: the program reads what beforeCall set and writes an idempotent value.
    world: () => ({
      fn: (x: k.Tensor) => {
        const g = globalThis as unknown as { __kilnLangScale?: number; __kilnLangRows?: number };
        g.__kilnLangRows = x.shape[0];
        return x.mul(g.__kilnLangScale ?? -1);
      },
      beforeCall: (i) => void ((globalThis as Record<string, unknown>).__kilnLangScale = i % 2 ? i : undefined),
      observe: () => (globalThis as Record<string, unknown>).__kilnLangRows,
    }),
    shapes: MATRICES,
    args: floats,
  },
  'a module-level let reassigned between calls': {
    world: () => ({ fn: (x: k.Tensor) => x.mul(moduleScale), beforeCall: (i) => void (moduleScale = (i % 3) + 1) }),
    shapes: MATRICES,
    args: floats,
  },
  'Math.random and Date.now are read on every call': {
    world: () => {
      const seen = new Set<number>();
      return {
        fn: (x: k.Tensor) => {
          const r = Math.random();
          seen.add(r);
          return x.mul(r >= 0 && Date.now() > 0 ? 1 : 0);
        },
        observe: () => seen.size,
      };
    },
    shapes: MATRICES,
    args: floats,
  },
  'JSON.stringify of an outside config edited between calls': {
    world: () => {
      const cfg = { a: 1, b: [2, 3] };
      return { fn: (x: k.Tensor) => [x.add(cfg.a), JSON.stringify(cfg)], beforeCall: (i) => void (cfg.a = i % 2) };
    },
    shapes: MATRICES,
    args: floats,
  },
  'a call counter on an outside object': {
    world: () => {
      const state = { calls: 0, last: '' };
      return {
        fn: (x: k.Tensor) => {
          state.calls += 1;
          state.last = `call ${state.calls}`;
          return x.mul(2);
        },
        observe: () => ({ ...state }),
      };
    },
    shapes: MATRICES,
    args: floats,
  },
  'a Symbol-keyed property and a frozen config': {
    world: () => {
      const cfg = Object.freeze({ scale: 2, [SYM]: 'tag' });
      return { fn: (x: k.Tensor) => [x.mul(cfg.scale), cfg[SYM]] };
    },
    shapes: MATRICES,
    args: floats,
  },
  'adding a key to a sealed outside object raises as in eager': {
    world: () => {
      const sealed = Object.seal({ a: 1 } as Record<string, number>);
      return { fn: (x: k.Tensor) => ((sealed.b = 2), x.add(sealed.a)), observe: () => ({ ...sealed }) };
    },
    shapes: MATRICES,
    args: floats,
  },
});

cases(Numbers, {
  'NaN as an argument and a self-inequality guard': {
    world: pure((x: k.Tensor, v: number) => (v !== v ? x.add(1) : x.mul(v))),
    shapes: [NaN, 2, NaN, 3],
    args: (g, s) => [g.floats([3]), s],
  },
  '-0 and 0 told apart': {
    world: pure((x: k.Tensor, z: number) => [Object.is(z, -0) ? x.neg() : x, 1 / z, x.mul(z)]),
    shapes: [0, -0, 0, -0],
    args: (g, s) => [g.floats([3]), s],
  },
  'Infinity bounds of clamp': {
    world: pure((x: k.Tensor, lo: number, hi: number) => x.clamp(lo, hi)),
    shapes: [[-Infinity, 0.5], [-0.5, Infinity], [-Infinity, Infinity]],
    args: (g, s) => [g.floats([5]), s[0], s[1]],
  },
  'a number that flips between int and float on an int tensor': {
    world: pure((x: k.Tensor, s: number) => x.mul(s).add(s)),
    shapes: [1, 1.5, 2, 2.5, 3],
    args: (g, s) => [g.ints([4]), s],
  },
  'integers beyond int32 and BigInt arguments': {
    world: pure((x: k.Tensor, big: number, n: bigint) => x.add(big / 2 ** 32).mul(Number(n * 2n))),
    shapes: [0, 1, 0],
    args: (g, s) => [g.floats([3]), 2 ** 33 + s, BigInt(s + 1)],
  },
  'strings and booleans pick the reduction': {
    world: pure((x: k.Tensor, mode: string, flag: boolean) => (mode === 'sum' ? x.sum() : flag ? x.mean() : x.amax())),
    shapes: [['sum', true], ['mean', true], ['max', false], ['sum', false]],
    args: (g, s) => [g.floats([3, 2]), s[0], s[1]],
  },
  'undefined passed and an argument left out': {
    world: pure(function (x: k.Tensor, y?: number) {
      return [x.mul(y ?? 5), arguments.length, y === undefined];
    }),
    shapes: [0, 1, 2, 0],
    args: (g, s) => [[g.floats([3])], [g.floats([3]), undefined], [g.floats([3]), 2]][s]!,
  },
  'a function passed as an argument (strategy)': {
    world: pure((x: k.Tensor, f: (t: k.Tensor) => k.Tensor) => f(x).add(1)),
    shapes: [0, 1, 0],
    args: (g, s) => [g.floats([3]), s === 0 ? relu : negate],
  },
});

cases(Compiled, {
  'a compiled function calls another compiled function': {
    world: () => {
      const inner = compile((t: k.Tensor) => t.mul(2));
      return { fn: (x: k.Tensor) => inner(x).add(inner(x.neg())) };
    },
    shapes: MATRICES,
    args: floats,
  },
  'a compiled function calls itself recursively': {
    world: () => {
      const f: (t: k.Tensor, n: number) => k.Tensor = compile((t: k.Tensor, n: number): k.Tensor => (n === 0 ? t : f(t.add(1), n - 1)), { recompileLimit: 64 });
      return { fn: (x: k.Tensor) => f(x, x.shape[0] > 2 ? 2 : 1) };
    },
    shapes: MATRICES,
    args: floats,
  },
  'the same function compiled twice with different options': {
    world: () => {
      const body = (t: k.Tensor) => t.mul(t.shape[0]).softmax(-1);
      const a = compile(body, { backend: 'eager' });
      const b = compile(body, { dynamic: true });
      return { fn: (x: k.Tensor) => [a(x), b(x), body(x)] };
    },
    shapes: MATRICES,
    tol: 1e-4,
    args: floats,
  },
});

State.run();
Numbers.run();
Compiled.run();
