import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { ONE_GRAPH, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(7);
const y = k.ones([3, 4]).mul(0.5);
const v = k.arange(0, 4).add(1);

const Basics = suite('tracer: expressions and bindings');

Basics('straight-line tensor code', () => {
  check((a: Tensor) => a.add(1).mul(2).relu(), [[x]], ONE_GRAPH);
});

Basics('function form of the tensor API', () => {
  check((a: Tensor, b: Tensor) => k.add(k.mul(a, b), k.exp(a)), [[x, y], [x, y], [y, x]], ONE_GRAPH);
});

Basics('const / let / var and reassignment', () => {
  check((a: Tensor) => {
    const s = 3;
    let h = a.mul(s);
    var t = h.add(1);
    h = t.sub(a);
    return h;
  }, [[x]], ONE_GRAPH);
});

Basics('number arithmetic is folded at trace time', () => {
  check((a: Tensor) => {
    const c = (2 + 3) * 4 - 1;
    return a.mul(c / 2).add(c % 3).pow(2 ** 1);
  }, [[x]], ONE_GRAPH);
});

Basics('array destructuring with defaults and rest', () => {
  check((pair: Tensor[]) => {
    const [p, q = p, ...rest] = pair;
    return p.add(q!).mul(rest.length + 1);
  }, [[[x, y, x]]], ONE_GRAPH);
});

Basics('object destructuring with defaults, renames and rest', () => {
  check((o: { a: Tensor; b: Tensor; scale?: number }) => {
    const { a, b: other, scale = 3, ...more } = o;
    return a.mul(scale).add(other).mul(Object.keys(more).length + 1);
  }, [[{ a: x, b: y }]], ONE_GRAPH);
});

Basics('default parameters', () => {
  function f(a: Tensor, scale = 2, shift = scale + 1) {
    return a.mul(scale).add(shift);
  }
  check(f, [[x], [x, 5]], { graphs: 2, fallbacks: 0, recompiles: 1 });
});

Basics('rest parameters', () => {
  check((...ts: Tensor[]) => ts.reduce((acc, t) => acc.add(t)), [[x, y, x]], ONE_GRAPH);
});

Basics('spread in arrays, objects and calls', () => {
  check((a: Tensor, b: Tensor) => {
    const list = [a, ...[b, a]];
    const base = { p: a };
    const obj = { ...base, q: b };
    return k.stack([...list, obj.p, obj.q]);
  }, [[x, y]], ONE_GRAPH);
});

Basics('template literals build constants', () => {
  check((a: Tensor) => {
    const name = `dim${a.ndim}`;
    return name === 'dim2' ? a.mul(2) : a;
  }, [[x]], ONE_GRAPH);
});

Basics('ternaries on trace-time values', () => {
  check((a: Tensor, flag: boolean) => (flag ? a.exp() : a.neg()), [[x, true], [x, false]], { graphs: 2, fallbacks: 0, recompiles: 1 });
});

Basics('&& || ?? on constants and tensors', () => {
  check((a: Tensor, opts: { bias?: Tensor | null; scale?: number }) => {
    const bias = opts.bias ?? a;
    const scale = opts.scale || 1;
    const out = (opts.bias && a.add(opts.bias)) || a;
    return out.mul(scale).add(bias);
  }, [[x, { bias: null }], [x, { bias: y, scale: 3 }]], { graphs: 2, fallbacks: 0 });
});

Basics('optional chaining', () => {
  check((a: Tensor, cfg: { inner?: { scale: number } }) => a.mul(cfg.inner?.scale ?? 1).add(cfg?.inner ? 1 : 0), [[x, {}], [x, { inner: { scale: 4 } }]], { graphs: 2, fallbacks: 0 });
});

Basics('typeof and instanceof', () => {
  check((a: Tensor, n: number | string) => {
    const t = typeof n === 'number' ? a.mul(n) : a;
    return t instanceof Tensor ? t.add(typeof t === 'object' ? 1 : 0) : t;
  }, [[x, 3], [x, 'no']], { graphs: 2, fallbacks: 0 });
});

Basics('compound assignment and update operators', () => {
  check((a: Tensor) => {
    let n = 1;
    n += 2;
    n *= 3;
    n++;
    --n;
    let h = a;
    h = h.add(n);
    return h;
  }, [[x]], ONE_GRAPH);
});

Basics('shape reads and tensor metadata', () => {
  check((a: Tensor) => {
    const [rows, cols] = a.shape;
    return a.reshape([cols!, rows!]).mul(a.ndim).add(a.dtype === 'float32' ? 1 : 0);
  }, [[x]], ONE_GRAPH);
});

Basics('returning a pytree of tensors and plain values', () => {
  check((a: Tensor) => ({ out: [a.exp(), { sum: a.sum() }], rows: a.shape[0], name: 'r', nothing: null }), [[x]], ONE_GRAPH);
});

Basics('returning an input unchanged', () => {
  check((a: Tensor, b: Tensor) => [a, b.add(1)], [[x, y]], ONE_GRAPH);
});

Basics('returning only constants compiles nothing: no tensor ops, the frame runs eagerly (no-ops.ts)', () => {
  const r = check((a: Tensor) => a.shape[1]! * 2, [[x]], { graphs: 0, fallbacks: 0, recompiles: 0 });
  assert.ok(r.entries.length === 1 && r.entries[0]!.entry.kind === 'eager' && r.entries[0]!.entry.noOps);
});

Basics('reductions, matmul and softmax', () => {
  check((a: Tensor, w: Tensor) => a.matmul(w).softmax(-1).sum(-1), [[x, k.ones([4, 5]).div(3)]], ONE_GRAPH);
});

Basics('sequence expressions and comma operator', () => {
  check((a: Tensor) => {
    let i = 0;
    const h = (i++, i++, a.mul(i));
    return h;
  }, [[x]], ONE_GRAPH);
});

Basics('Math and Number builtins', () => {
  check((a: Tensor) => {
    const s = Math.sqrt(a.shape[1]!);
    const n = Number.isInteger(s) ? Math.max(1, Math.floor(s)) : 0;
    return a.div(s).add(n).mul(Math.PI);
  }, [[x]], ONE_GRAPH);
});

Basics('Array.isArray, Object.keys, Object.entries', () => {
  check((inputs: Record<string, Tensor> | Tensor[]) => {
    if (Array.isArray(inputs)) return inputs[0]!;
    let acc: Tensor | undefined;
    for (const [key, t] of Object.entries(inputs)) acc = acc ? acc.add(t.mul(key.length)) : t;
    return acc!.add(Object.keys(inputs).length);
  }, [[{ a: x, bb: y }], [[x]]], { graphs: 1, fallbacks: 0, recompiles: 1 }); // [x] returns x: no op, no graph
});

Basics('string methods on constants', () => {
  check((a: Tensor, mode: string) => (mode.toUpperCase().startsWith('EXP') ? a.exp() : a.relu()), [[x, 'exp'], [x, 'relu']], { graphs: 2, fallbacks: 0 });
});

Basics('optional calls and logical assignment', () => {
  check((a: Tensor, hooks: { pre?: (t: Tensor) => Tensor; scale?: number }) => {
    const opts: { scale?: number } = {};
    opts.scale ??= hooks.scale ?? 2;
    opts.scale ||= 1;
    const h = hooks.pre?.(a) ?? a;
    return h.mul(opts.scale);
  }, [[x, {}], [x, { pre: (t: Tensor) => t.exp(), scale: 3 }]], { graphs: 2, fallbacks: 0 });
});

Basics("the 'in' operator on inputs and frame objects", () => {
  check((a: Tensor, cfg: Record<string, number>) => {
    const local = { bias: 1 };
    return a.mul('scale' in cfg ? cfg.scale! : 1).add('bias' in local ? local.bias : 0);
  }, [[x, { scale: 4 }], [x, {}]], { graphs: 2, fallbacks: 0 });
});

Basics('an unresolvable global falls back', () => {
  check((a: Tensor) => a.mul((globalThis as unknown as { missingGlobal?: number }).missingGlobal ?? 1), [[x]], { graphs: 0, fallbacks: 1 });
});

Basics('a getter on an input object falls back (never run at trace time)', () => {
  let reads = 0;
  const obj = {
    get scale() {
      reads++;
      return 2;
    },
  };
  check((a: Tensor, o: { scale: number }) => a.mul(o.scale), [[x, obj]], { graphs: 0, fallbacks: 1 });
  assert.is(reads, 4, 'read only by the 4 eager runs (2 reference calls, 2 fallbacks), never by the tracer');
});

Basics.run();

const Values = suite('tracer: trackers for containers');

Values('arrays built in the frame: push, map, filter, reduce', () => {
  check((a: Tensor) => {
    const parts: Tensor[] = [];
    for (let i = 0; i < 3; i++) parts.push(a.mul(i));
    const kept = parts.filter((_, i) => i !== 1).map((t) => t.add(1));
    return kept.reduce((s, t) => s.add(t), a);
  }, [[x]], ONE_GRAPH);
});

Values('plain objects built in the frame', () => {
  check((a: Tensor) => {
    const state: Record<string, Tensor> = { h: a };
    state.h = state.h.relu();
    state['g'] = state.h.exp();
    return state;
  }, [[x]], ONE_GRAPH);
});

Values('Maps built in the frame', () => {
  check((a: Tensor) => {
    const m = new Map<string, Tensor>();
    m.set('a', a.add(1));
    m.set('b', a.mul(2));
    let out = m.get('a')!;
    for (const [, t] of m) out = out.add(t);
    return out.mul(m.size).mul(m.has('b') ? 1 : 0);
  }, [[x]], ONE_GRAPH);
});

Values('nested input pytrees become graph inputs', () => {
  check((inp: { layers: { w: Tensor }[]; x: Tensor }) => {
    let h = inp.x;
    for (const layer of inp.layers) h = h.add(layer.w);
    return h;
  }, [[{ layers: [{ w: y }, { w: x }], x }]], ONE_GRAPH);
});

Values('Array.from with a map function', () => {
  check((a: Tensor) => k.stack(Array.from({ length: 3 }, (_, i) => a.mul(i + 1))), [[x]], ONE_GRAPH);
});

Values('array methods on input arrays', () => {
  check((ts: Tensor[]) => k.cat(ts.slice(1).map((t) => t.neg()), 0).add(ts.length), [[[x, y, x]]], ONE_GRAPH);
});

Values('in-frame array mutation (splice, reverse, sort)', () => {
  check((a: Tensor) => {
    const ks = [3, 1, 2];
    ks.sort((p, q) => p - q);
    ks.reverse();
    ks.splice(1, 1);
    return a.mul(ks[0]!).add(ks[1]!);
  }, [[x]], ONE_GRAPH);
});

Values.run();
