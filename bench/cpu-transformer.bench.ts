// A pre-norm transformer block (T=128 tokens, D=256, 4 heads, MLP 1024, causal mask) as hand-built loop-IR
// kernels run back to back on the arena, against jax-js (one jit) and tfjs (wasm) in the same process.
// Run: node scripts/bench.mjs cpu-transformer   (KILN_BENCH_CLOCK=cpu on a loaded machine)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Kernel, type MatmulKernel, type MatrixOperand, type ReductionKernel, type SizeExpr, type ValueExpr, loop } from '@kiln/lower';
import { Arena, compileKernels } from '@kiln/backend-cpu';
import { init, jit, nn, numpy as np } from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { machineLine } from './machine.js';
import { CPU_CLOCK, interleavedMedians } from './peer-timing.js';

const { acc, add, constant, contiguous, div, load, mul, sub, unary } = loop;

const [T, D, H, F] = [128, 256, 4, 1024];
const DH = D / H;
const SCALE = 1 / Math.sqrt(DH);
const f32 = 'float32' as const;
const decl = (...names: string[]) => names.map((name) => ({ name, dtype: f32 }));
const row = (name: string, rank: number) => load(name, { offset: 0, strides: [...new Array(rank - 1).fill(0), 1] });

function layerNorm(name: string, x: string, g: string, b: string, out: string): ReductionKernel {
  const v = load(x, contiguous([T, D]));
  const n = constant(D);
  const centered = sub(v, div(acc(0), n));
  const rstd = unary('rsqrt', add(div(acc(1), n), constant(1e-5)));
  return {
    kind: 'reduction', name, params: [], inputs: decl(x, g, b), outputs: decl(out), outer: [T], reduce: [D],
    stages: [{ type: 'sum', prologue: v }, { type: 'sum', prologue: mul(centered, centered) }],
    stores: [{ buffer: out, scope: 'full', access: contiguous([T, D]), value: add(mul(mul(centered, rstd), row(g, 2)), row(b, 2)) }],
  };
}

const dense = (buffer: string, cols: SizeExpr): MatrixOperand => ({ buffer, offset: 0, batchStrides: [], rowStride: cols, colStride: 1 });

function matmul(name: string, a: MatrixOperand, b: MatrixOperand, out: string, m: number, n: number, k: number,
  opts: { batch?: number[]; extra?: string[]; epilogue?: ValueExpr } = {}): MatmulKernel {
  return {
    kind: 'extern', op: 'matmul', name, params: [], inputs: decl(a.buffer, b.buffer, ...(opts.extra ?? [])), outputs: decl(out),
    batch: opts.batch ?? [], m, n, k, a, b, out, ...(opts.epilogue ? { epilogue: opts.epilogue } : {}),
  };
}

function geluTanh(x: ValueExpr): ValueExpr {
  const inner = mul(constant(Math.sqrt(2 / Math.PI)), add(x, mul(constant(0.044715), mul(x, mul(x, x)))));
  return mul(mul(constant(0.5), x), add(constant(1), unary('tanh', inner)));
}

function blockKernels(): Kernel[] {
  const softmax: ReductionKernel = (() => {
    const s = load('s', contiguous([H * T, T]));
    const e = unary('exp', sub(s, acc(0)));
    return {
      kind: 'reduction', name: 'softmax', params: [], inputs: decl('s'), outputs: decl('p'), outer: [H * T], reduce: [T],
      stages: [{ type: 'max', prologue: s }, { type: 'sum', prologue: e }],
      stores: [{ buffer: 'p', scope: 'full', access: contiguous([H * T, T]), value: div(e, acc(1)) }],
    };
  })();
  return [
    layerNorm('ln1', 'x', 'g1', 'b1', 'h1'),
    matmul('q_proj', dense('h1', D), dense('wq', D), 'q', T, D, D),
    matmul('k_proj', dense('h1', D), dense('wk', D), 'k', T, D, D),
    matmul('v_proj', dense('h1', D), dense('wv', D), 'v', T, D, D),
    // scores[h, t, s] = q[t, h*dh + d] · k[s, h*dh + d] * scale + mask[t, s]: heads are strided views
    matmul('scores', { buffer: 'q', offset: 0, batchStrides: [DH], rowStride: D, colStride: 1 },
      { buffer: 'k', offset: 0, batchStrides: [DH], rowStride: 1, colStride: D }, 's', T, T, DH,
      { batch: [H], extra: ['mask'], epilogue: add(mul(acc(0), constant(SCALE)), load('mask', { offset: 0, strides: [0, T, 1] })) }),
    softmax,
    matmul('attend', { buffer: 'p', offset: 0, batchStrides: [T * T], rowStride: T, colStride: 1 },
      { buffer: 'v', offset: 0, batchStrides: [DH], rowStride: D, colStride: 1 }, 'o', T, DH, T, { batch: [H] }),
    { // [H, T, dh] → [T, H*dh]
      kind: 'pointwise', name: 'merge_heads', params: [], inputs: decl('o'), outputs: decl('ocat'), sizes: [T, H, DH],
      stores: [{ buffer: 'ocat', access: contiguous([T, H, DH]), value: load('o', { offset: 0, strides: [DH, T * DH, 1] }) }],
    },
    matmul('out_proj', dense('ocat', D), dense('wo', D), 'x1', T, D, D,
      { extra: ['bo', 'x'], epilogue: add(add(acc(0), row('bo', 2)), load('x', contiguous([T, D]))) }),
    layerNorm('ln2', 'x1', 'g2', 'b2', 'h2'),
    matmul('ff1', dense('h2', D), dense('w1', F), 'f', T, F, D, { extra: ['bf1'], epilogue: geluTanh(add(acc(0), row('bf1', 2))) }),
    matmul('ff2', dense('f', F), dense('w2', D), 'y', T, D, F,
      { extra: ['bf2', 'x1'], epilogue: add(add(acc(0), row('bf2', 2)), load('x1', contiguous([T, D]))) }),
  ];
}

const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * scale);
async function main() {
  await init('wasm');
  setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();

  const w = D ** -0.5;
  const params: Record<string, [Float32Array, number[]]> = {
    x: [rand(T * D), [T, D]], g1: [rand(D), [D]], b1: [rand(D, 0.1), [D]], g2: [rand(D), [D]], b2: [rand(D, 0.1), [D]],
    wq: [rand(D * D, w), [D, D]], wk: [rand(D * D, w), [D, D]], wv: [rand(D * D, w), [D, D]], wo: [rand(D * D, w), [D, D]],
    bo: [rand(D, 0.1), [D]], w1: [rand(D * F, w), [D, F]], bf1: [rand(F, 0.1), [F]], w2: [rand(F * D, F ** -0.5), [F, D]],
    bf2: [rand(D, 0.1), [D]],
    mask: [Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]],
  };

  // Kiln: one module, buffers resident in the arena, kernels called in order, the result read back.
  const arena = new Arena();
  const kernels = blockKernels();
  const t0 = performance.now();
  const mod = compileKernels(kernels, arena);
  const compileMs = performance.now() - t0;
  const ptr: Record<string, number> = {};
  const sizes: Record<string, number> = { h1: T * D, q: T * D, k: T * D, v: T * D, s: H * T * T, p: H * T * T, o: T * D, ocat: T * D, x1: T * D, h2: T * D, f: T * F, y: T * D };
  for (const [name, [data]] of Object.entries(params)) {
    ptr[name] = arena.alloc(data.byteLength);
    (arena.view(f32, ptr[name]!, data.length) as Float32Array).set(data);
  }
  for (const [name, n] of Object.entries(sizes)) ptr[name] = arena.alloc(n * 4);
  const compiled = kernels.map((k) => mod.kernels.get(k.name)!);
  const result = new Float32Array(T * D);
  const kiln = () => {
    for (const k of compiled) k.call(ptr);
    result.set(arena.view(f32, ptr.y!, T * D) as Float32Array);
  };

  // jax-js: the same block under one jit
  const j = Object.fromEntries(Object.entries(params).map(([k, [d, s]]) => [k, np.array(d).reshape(s)]));
  const jLn = (v: np.Array, g: np.Array, b: np.Array) => {
    const c = v.ref.sub(np.mean(v, -1, { keepdims: true }));
    const variance = np.mean(np.square(c.ref), -1, { keepdims: true });
    return c.div(np.sqrt(variance.add(1e-5))).mul(g).add(b);
  };
  const heads = (m: np.Array) => m.reshape([T, H, DH]).transpose([1, 0, 2]);
  const jBlock = jit((x: np.Array, g1: np.Array, b1: np.Array, wq: np.Array, wk: np.Array, wv: np.Array, wo: np.Array, bo: np.Array,
    g2: np.Array, b2: np.Array, w1: np.Array, bf1: np.Array, w2: np.Array, bf2: np.Array, mask: np.Array) => {
    const h = jLn(x.ref, g1, b1);
    const [q, k, v] = [heads(np.matmul(h.ref, wq)), heads(np.matmul(h.ref, wk)), heads(np.matmul(h, wv))];
    const p = nn.softmax(np.matmul(q, k.transpose([0, 2, 1])).mul(SCALE).add(mask), -1);
    const o = np.matmul(p, v).transpose([1, 0, 2]).reshape([T, D]);
    const x1 = np.matmul(o, wo).add(bo).add(x);
    const f = nn.gelu(np.matmul(jLn(x1.ref, g2, b2), w1).add(bf1), { approximate: true });
    return np.matmul(f, w2).add(bf2).add(x1);
  });
  const order = ['x', 'g1', 'b1', 'wq', 'wk', 'wv', 'wo', 'bo', 'g2', 'b2', 'w1', 'bf1', 'w2', 'bf2', 'mask'];
  const jax = () => (jBlock as (...a: np.Array[]) => np.Array)(...order.map((k) => j[k]!.ref)).dataSync() as Float32Array;

  // tfjs: eager ops (its fused matMul for bias + activation where it has one)
  const t = Object.fromEntries(Object.entries(params).map(([k, [d, s]]) => [k, tf.tensor(d, s)]));
  const tLn = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(v, -1, true);
    return v.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
  };
  const tHeads = (m: tf.Tensor) => m.reshape([T, H, DH]).transpose([1, 0, 2]);
  const tGelu = (u: tf.Tensor) => u.mul(0.5).mul(u.add(u.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1));
  const tfBlock = () => {
    const out = tf.tidy(() => {
      const h = tLn(t.x!, t.g1!, t.b1!);
      const [q, k, v] = [tHeads(tf.matMul(h, t.wq!)), tHeads(tf.matMul(h, t.wk!)), tHeads(tf.matMul(h, t.wv!))];
      const p = tf.softmax(tf.matMul(q, k, false, true).mul(SCALE).add(t.mask!));
      const o = tf.matMul(p, v).transpose([1, 0, 2]).reshape([T, D]);
      const x1 = tf.fused.matMul({ a: o, b: t.wo!, bias: t.bo! }).add(t.x!);
      const f = tGelu(tf.fused.matMul({ a: tLn(x1, t.g2!, t.b2!), b: t.w1!, bias: t.bf1! }));
      return tf.fused.matMul({ a: f, b: t.w2!, bias: t.bf2! }).add(x1);
    });
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  };

  kiln();
  const ref = jax(), other = tfBlock();
  let dJax = 0, dTf = 0;
  for (let i = 0; i < ref.length; i++) {
    dJax = Math.max(dJax, Math.abs(ref[i]! - result[i]!));
    dTf = Math.max(dTf, Math.abs(other[i]! - result[i]!));
  }
  const [mk, mj, mt] = interleavedMedians([kiln, jax, tfBlock], 40, 0) as [number, number, number];
  console.log(`${machineLine()}, clock: ${CPU_CLOCK ? 'process CPU time' : 'wall'}`);
  console.log(`transformer block T=${T} D=${D} H=${H} FF=${F}: ${kernels.length} Kiln kernels, compiled in ${compileMs.toFixed(1)} ms`);
  console.log(`| kiln | jax-js jit | tfjs wasm | vs jax-js | vs tfjs | max |Δ| vs jax, tfjs |`);
  console.log(`| ${mk.toFixed(3)} | ${mj.toFixed(3)} | ${mt.toFixed(3)} | ${(mj / mk).toFixed(2)}× | ${(mt / mk).toFixed(2)}× | ${dJax.toExponential(1)}, ${dTf.toExponential(1)} |`);
}

await main();
