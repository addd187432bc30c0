import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { ONE_GRAPH, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5);
const sq = k.arange(0, 16).reshape([4, 4]).div(9);

const Control = suite('tracer: control flow');

Control('if / else on shapes is traced one way and guarded', () => {
  check((a: Tensor) => {
    if (a.shape[0] > 3) return a.exp();
    else if (a.shape[0] === 3) return a.mul(3);
    return a.neg();
  }, [[x], [x], [sq]], { graphs: 2, fallbacks: 0, recompiles: 1 });
});

Control('if without else and nested blocks', () => {
  check((a: Tensor, n: number) => {
    let h = a;
    if (n > 1) {
      h = h.add(1);
      if (n > 2) {
        const t = h.mul(2);
        h = t;
      }
    }
    return h;
  }, [[x, 3]], ONE_GRAPH);
});

Control('for loop with a constant trip count is unrolled', () => {
  check((a: Tensor) => {
    let h = a;
    for (let i = 0; i < 4; i++) h = h.mul(0.5).add(i);
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('for loop bounded by a shape', () => {
  check((a: Tensor) => {
    let h = a.sum(0);
    for (let i = 1; i < a.shape[0]!; i += 1) h = h.add(a.select(0, i));
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('for…of over a constant array', () => {
  check((a: Tensor) => {
    let h = a;
    for (const b of [1, 2, 3]) h = h.add(b);
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('for…of over an input array of tensors', () => {
  check((ts: Tensor[]) => {
    let acc = ts[0]!;
    for (const t of ts.slice(1)) acc = acc.maximum(t);
    return acc;
  }, [[[x, x.neg(), x.mul(2)]]], ONE_GRAPH);
});

Control('for…in over an object', () => {
  check((params: Record<string, Tensor>) => {
    const out: Record<string, Tensor> = {};
    for (const name in params) out[name] = params[name]!.mul(2);
    return out;
  }, [[{ a: x, b: x.exp() }]], ONE_GRAPH);
});

Control('while loop with a trace-time counter', () => {
  check((a: Tensor) => {
    let h = a;
    let n = 0;
    while (n < 3) {
      h = h.add(n);
      n++;
    }
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('do…while', () => {
  check((a: Tensor) => {
    let h = a;
    let n = 5;
    do {
      h = h.mul(0.9);
      n -= 2;
    } while (n > 0);
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('break and continue', () => {
  check((a: Tensor) => {
    let h = a;
    for (let i = 0; i < 10; i++) {
      if (i % 2 === 0) continue;
      if (i > 6) break;
      h = h.add(i);
    }
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('labeled break and continue across nested loops', () => {
  check((a: Tensor) => {
    let h = a;
    outer: for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        if (j > i) continue outer;
        if (i === 3) break outer;
        h = h.add(i * 10 + j);
      }
    }
    return h;
  }, [[x]], ONE_GRAPH);
});

Control('return from inside a loop', () => {
  check((a: Tensor) => {
    for (const s of [1, 2, 3]) {
      if (s === 2) return a.mul(s);
    }
    return a;
  }, [[x]], ONE_GRAPH);
});

Control('early return from nested ifs', () => {
  function f(a: Tensor, mode: string) {
    if (mode === 'a') {
      if (a.ndim === 2) return a.transpose(0, 1);
    }
    return a.flatten();
  }
  check(f, [[x, 'a'], [x, 'b']], { graphs: 2, fallbacks: 0, recompiles: 1 });
});

Control('switch with fallthrough and default', () => {
  check((a: Tensor, act: string) => {
    let h = a;
    switch (act) {
      case 'relu':
        h = h.relu();
        break;
      case 'both':
      case 'tanh':
        h = act === 'both' ? h.exp().tanh() : h.tanh();
        break;
      default:
        h = h.neg();
    }
    return h;
  }, [[x, 'relu'], [x, 'both'], [x, 'tanh'], [x, 'other']], { graphs: 4, fallbacks: 0, recompiles: 3 });
});

Control('closures in loops capture per-iteration let bindings', () => {
  check((a: Tensor) => {
    const fns: ((t: Tensor) => Tensor)[] = [];
    for (let i = 0; i < 3; i++) fns.push((t) => t.add(i));
    return fns.map((f) => f(a));
  }, [[x]], ONE_GRAPH);
});

Control('ternary chains on the rank', () => {
  // Rank 1 returns the input: no op, so that entry compiles nothing (it runs eagerly under its rank guard).
  check((a: Tensor) => (a.ndim === 1 ? a : a.ndim === 2 ? a.sum(-1) : a.sum([-1, -2])), [[x], [x.sum(0)], [x.sum(0).reshape([1, 1, 4])]], { graphs: 2, fallbacks: 0, recompiles: 2 });
});

Control.run();
