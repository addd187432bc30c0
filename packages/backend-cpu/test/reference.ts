// A straightforward JS interpreter of the loop IR: the oracle the wasm kernels are checked against.
// Element by element, float32 rounding after each op (Math.fround), no vectorisation, no cleverness.
import type { Access, Kernel, LoopDType, SizeExpr, ValueExpr } from '@kiln/lower';
import { evalSize } from '@kiln/lower';
import type { TypedArray } from '@kiln/backend-cpu';

type Env = { buffers: Record<string, TypedArray>; params: Record<string, number> };

const erf = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is too coarse for an oracle; use a series / continued fraction in float64.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax, term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
};

const UNARY: Record<string, (x: number) => number> = {
  neg: (x) => -x, abs: Math.abs, sqrt: Math.sqrt, rsqrt: (x) => 1 / Math.sqrt(x), reciprocal: (x) => 1 / x,
  exp: Math.exp, log: Math.log, tanh: Math.tanh, sigmoid: (x) => 1 / (1 + Math.exp(-x)), erf,
  sin: Math.sin, cos: Math.cos, floor: Math.floor, ceil: Math.ceil, trunc: Math.trunc,
  round: (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; },
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  not: (x) => (x ? 0 : 1), log1p: Math.log1p, expm1: Math.expm1,
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  floordiv: (a, b) => Math.floor(a / b), mod: (a, b) => a - Math.floor(a / b) * b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  pow: Math.pow, // as eager: ECMAScript's special cases (pow(1, NaN) = NaN, unlike C99)
  atan2: Math.atan2,
  eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b), lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b), gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b),
  and: (a, b) => a & b, or: (a, b) => a | b, xor: (a, b) => a ^ b,
};

function round(v: number, dtype: LoopDType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return v | 0;
  if (dtype === 'bool') return v ? 1 : 0;
  return v;
}

function address(a: Access, idx: readonly number[], env: Env): number {
  let o = evalSize(a.offset, env.params);
  a.strides.forEach((s: SizeExpr, i: number) => (o += idx[i]! * evalSize(s, env.params)));
  return o;
}

export function evalValue(e: ValueExpr, idx: readonly number[], env: Env, accs: readonly number[], dtypes: Record<string, LoopDType>): [number, LoopDType] {
  switch (e.kind) {
    case 'load': return [env.buffers[e.buffer]![address(e.access, idx, env)]!, dtypes[e.buffer]!];
    case 'const': return [round(e.value, e.dtype), e.dtype];
    case 'index': return [idx[e.axis]!, 'int32'];
    case 'size': return [evalSize(e.value, env.params), 'int32'];
    case 'floatParam': {
      // The parameter slot holds the float32 bit pattern (see the loop IR's floatParam).
      const bits = new DataView(new ArrayBuffer(4));
      bits.setInt32(0, env.params[e.param]!);
      return [bits.getFloat32(0), 'float32'];
    }
    case 'gather': {
      const [p] = evalValue(e.position, idx, env, accs, dtypes);
      return [env.buffers[e.buffer]![address(e.access, idx, env) + p * evalSize(e.stride, env.params)]!, dtypes[e.buffer]!];
    }
    case 'acc': return [accs[e.stage]!, 'float32'];
    case 'cast': {
      const [v] = evalValue(e.x, idx, env, accs, dtypes);
      return [e.dtype === 'int32' ? (Number.isNaN(v) ? 0 : Math.trunc(v) | 0) : round(v, e.dtype), e.dtype];
    }
    case 'unary': {
      const [v, t] = evalValue(e.x, idx, env, accs, dtypes);
      return [round(UNARY[e.op]!(v), t), t];
    }
    case 'binary': {
      const [a, t] = evalValue(e.a, idx, env, accs, dtypes);
      const [b] = evalValue(e.b, idx, env, accs, dtypes);
      const intDiv = t === 'int32' && (e.op === 'floordiv' || e.op === 'mod');
      const v = t === 'int32' && e.op === 'mul' ? Math.imul(a, b) : intDiv && b === 0 ? 0 : BINARY[e.op]!(a, b);
      const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(e.op);
      return [round(v, cmp ? 'bool' : t), cmp ? 'bool' : t];
    }
    case 'where': {
      const [c] = evalValue(e.cond, idx, env, accs, dtypes);
      return c ? evalValue(e.a, idx, env, accs, dtypes) : evalValue(e.b, idx, env, accs, dtypes);
    }
  }
}

function* points(sizes: readonly number[]): Generator<number[]> {
  if (sizes.some((s) => s === 0)) return;
  const idx = sizes.map(() => 0);
  for (;;) {
    yield idx.slice();
    let d = sizes.length - 1;
    while (d >= 0 && ++idx[d]! === sizes[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

export function runReference(k: Kernel, env: Env): void {
  const dtypes = Object.fromEntries([...k.inputs, ...k.outputs].map((b) => [b.name, b.dtype]));
  const P = (s: SizeExpr) => evalSize(s, env.params);
  if (k.kind === 'pointwise') {
    for (const idx of points(k.sizes.map(P))) {
      for (const s of k.stores) env.buffers[s.buffer]![address(s.access, idx, env)] = evalValue(s.value, idx, env, [], dtypes)[0];
    }
  } else if (k.kind === 'reduction') {
    const reduce = k.reduce.map(P);
    for (const o of points(k.outer.map(P))) {
      const accs: number[] = [];
      for (const st of k.stages) {
        let acc = { sum: 0, prod: 1, max: -Infinity, min: Infinity, argmax: -Infinity, argmin: Infinity }[st.type];
        let best = 0, flat = 0;
        for (const r of points(reduce)) {
          const v = evalValue(st.prologue, [...o, ...r], env, accs, dtypes)[0];
          if (st.type === 'sum') acc += v;
          else if (st.type === 'prod') acc *= v;
          else if (st.type === 'max') acc = Number.isNaN(acc) || Number.isNaN(v) ? NaN : Math.max(acc, v);
          else if (st.type === 'min') acc = Number.isNaN(acc) || Number.isNaN(v) ? NaN : Math.min(acc, v);
          else if (st.type === 'argmax' ? v > acc || (v !== v && acc === acc) : v < acc || (v !== v && acc === acc)) {
            acc = v;
            best = flat;
          }
          flat++;
        }
        accs.push(st.type === 'argmax' || st.type === 'argmin' ? best : Math.fround(acc));
      }
      for (const s of k.stores) {
        const spaces = s.scope === 'full' ? [...points(reduce)] : [[]];
        for (const r of spaces) {
          const idx = [...o, ...r];
          env.buffers[s.buffer]![address(s.access, idx, env)] = evalValue(s.value, idx, env, accs, dtypes)[0];
        }
      }
    }
  } else {
    const [m, n, kk] = [P(k.m), P(k.n), P(k.k)];
    const bufA = env.buffers[k.a.buffer]!, bufB = env.buffers[k.b.buffer]!, out = env.buffers[k.out]!;
    let o = 0;
    for (const b of points(k.batch.map(P))) {
      const offA = P(k.a.offset) + b.reduce((s, v, i) => s + v * P(k.a.batchStrides[i]!), 0);
      const offB = P(k.b.offset) + b.reduce((s, v, i) => s + v * P(k.b.batchStrides[i]!), 0);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < kk; p++) s += bufA[offA + i * P(k.a.rowStride) + p * P(k.a.colStride)]! * bufB[offB + p * P(k.b.rowStride) + j * P(k.b.colStride)]!;
          out[o++] = k.epilogue ? evalValue(k.epilogue, [...b, i, j], env, [Math.fround(s)], dtypes)[0] : Math.fround(s);
        }
      }
    }
  }
}
