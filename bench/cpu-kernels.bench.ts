// Kiln's wasm kernels (hand-built loop IR, since lowering is not wired yet) side by side with jax-js (wasm
// jit) and tfjs (wasm backend, XNNPACK) in one process. Every library starts from inputs already resident
// in its own memory and ends with the result read back into a JS typed array. Medians; ratios > 1 mean
// Kiln is faster. Run: node scripts/bench.mjs cpu-kernels
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Kernel, type MatmulKernel, type ReductionKernel, type PointwiseKernel, type ValueExpr, loop } from '@kiln/lower';
import { Arena, compileKernels, runOnArrays, type RunStats } from '@kiln/backend-cpu';
import { init, jit, nn, numpy as np } from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { blockingLine, machineLine, rooflineLine } from './machine.js';
import { CPU_CLOCK, interleavedMedians } from './peer-timing.js';

const { acc, add, binary, constant, contiguous, div, load, mul, sub, unary } = loop;

const f32 = 'float32' as const;
const defaultArena = new Arena();
/** Opt-in threads: Kiln on 2 threads against single-threaded peers, shown as its own row. */
const threadedArena = new Arena(1 << 20, { threads: 2 });

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** A Kiln kernel with its inputs resident in the arena; `run` calls it and reads the output back. */
function kilnRunner(kernel: Kernel, inputs: Record<string, Float32Array>, outNumel: number, arena = defaultArena) {
  const mod = compileKernels([kernel], arena);
  const compiled = mod.kernels.get(kernel.name)!;
  const ptrs: Record<string, number> = {};
  for (const [name, arr] of Object.entries(inputs)) {
    ptrs[name] = arena.alloc(arr.byteLength);
    (arena.view(f32, ptrs[name]!, arr.length) as Float32Array).set(arr);
  }
  const outName = kernel.outputs[0]!.name;
  ptrs[outName] = arena.alloc(outNumel * 4);
  const result = new Float32Array(outNumel);
  let latest: Float32Array = result;
  return {
    /** The last result read back. */
    get result() {
      return latest;
    },
    compile: `${(mod.timings.codegenMs + mod.timings.wasmCompileMs).toFixed(1)} (${mod.timings.codegenMs.toFixed(1)}+${mod.timings.wasmCompileMs.toFixed(1)})`,
    run: () => {
      compiled.call(ptrs);
      // a fresh array per call, as the peers' dataSync() and Kiln's toTypedArray() return
      latest = arena.view(f32, ptrs[outName]!, outNumel).slice() as Float32Array;
    },
    /** Inputs copied in from JS as well (the output into one reused array): the cost when tensors live in JS memory. */
    runWithCopies: (stats?: RunStats) => runOnArrays(compiled, arena, { inputs, outputs: { [outName]: result } }, stats),
  };
}

const vec = (n: number, name: string) => load(name, contiguous([n]));

function pointwise(name: string, n: number, inputs: string[], value: ValueExpr): PointwiseKernel {
  return {
    kind: 'pointwise', name, params: [], inputs: inputs.map((i) => ({ name: i, dtype: f32 })),
    outputs: [{ name: 'out', dtype: f32 }], sizes: [n], stores: [{ buffer: 'out', access: contiguous([n]), value }],
  };
}

function chain10(x: ValueExpr, y: ValueExpr): ValueExpr {
  // mul, add, mul, sub, mul, add, abs, sqrt, max, mul
  let t = add(mul(x, constant(1.5)), y);
  t = mul(t, t);
  t = add(mul(sub(t, x), constant(0.5)), constant(1));
  t = unary('sqrt', unary('abs', t));
  return mul(binary('max', t, y), x);
}

function softmaxRows(rows: number, cols: number): ReductionKernel {
  const x = load('x', contiguous([rows, cols]));
  const e = unary('exp', sub(x, acc(0)));
  return {
    kind: 'reduction', name: 'softmax', params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'y', dtype: f32 }],
    outer: [rows], reduce: [cols], stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }],
    stores: [{ buffer: 'y', scope: 'full', access: contiguous([rows, cols]), value: div(e, acc(1)) }],
  };
}

/** layerNorm over rows: mean and variance stages, then (x - mean) * rsqrt(var + eps) * g + b. */
function layerNormRows(rows: number, cols: number): ReductionKernel {
  const x = load('x', contiguous([rows, cols]));
  const n = constant(cols);
  const centered = sub(x, div(acc(0), n));
  const rstd = unary('rsqrt', add(div(acc(1), n), constant(1e-5)));
  const row = (name: string) => load(name, { offset: 0, strides: [0, 1] });
  return {
    kind: 'reduction', name: 'layernorm', params: [], inputs: [{ name: 'x', dtype: f32 }, { name: 'g', dtype: f32 }, { name: 'b', dtype: f32 }],
    outputs: [{ name: 'y', dtype: f32 }], outer: [rows], reduce: [cols],
    stages: [{ type: 'sum', prologue: x }, { type: 'sum', prologue: mul(centered, centered) }],
    stores: [{ buffer: 'y', scope: 'full', access: contiguous([rows, cols]), value: add(mul(mul(centered, rstd), row('g')), row('b')) }],
  };
}

function matmul(n: number, epilogue?: ValueExpr, m = n): MatmulKernel {
  return {
    kind: 'extern', op: 'matmul', name: 'mm', params: [],
    inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }, ...(epilogue ? [{ name: 'bias', dtype: f32 } as const] : [])],
    outputs: [{ name: 'c', dtype: f32 }], batch: [], m, n, k: n,
    a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: n, colStride: 1 },
    b: { buffer: 'b', offset: 0, batchStrides: [], rowStride: n, colStride: 1 },
    out: 'c', ...(epilogue ? { epilogue } : {}),
  };
}

interface Workload {
  name: string;
  flops?: number;
  kiln: ReturnType<typeof kilnRunner>;
  jax: () => unknown;
  tf: () => unknown;
}

async function main() {
  await init('wasm');
  const req = createRequire(import.meta.url);
  setWasmPaths(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();

  const M = 1 << 20;
  const a = rand(M), b = rand(M);
  const jA = np.array(a), jB = np.array(b);
  const tA = tf.tensor1d(a), tB = tf.tensor1d(b);
  const S = 1024;
  const sx = rand(S * S);
  const jS = np.array(sx).reshape([S, S]), tS = tf.tensor2d(sx, [S, S]);
  const lnG = rand(S), lnB = rand(S);
  const [jG, jLB, tG, tLB] = [np.array(lnG), np.array(lnB), tf.tensor1d(lnG), tf.tensor1d(lnB)];

  const jHypot = jit((x: np.Array, y: np.Array) => np.sqrt(np.square(x).add(np.square(y))));
  const jChain = jit((x: np.Array, y: np.Array) => {
    let t = x.ref.mul(1.5).add(y.ref);
    t = np.square(t);
    t = t.sub(x.ref).mul(0.5).add(1);
    t = np.sqrt(np.abs(t));
    return np.maximum(t, y).mul(x);
  });
  const jSoftmax = jit((x: np.Array) => nn.softmax(x, -1));
  const jLayerNorm = jit((x: np.Array, g: np.Array, bias: np.Array) => {
    const mean = np.mean(x.ref, -1, { keepdims: true });
    const centered = x.sub(mean);
    const variance = np.mean(np.square(centered.ref), -1, { keepdims: true });
    return centered.div(np.sqrt(variance.add(1e-5))).mul(g).add(bias);
  });
  const jMatmul = jit((x: np.Array, y: np.Array) => np.matmul(x, y));
  const jDense = jit((x: np.Array, w: np.Array, bias: np.Array) => nn.relu(np.matmul(x, w).add(bias)));
  const tfChain = (x: tf.Tensor, y: tf.Tensor) => {
    let t = x.mul(1.5).add(y);
    t = t.square().sub(x).mul(0.5).add(1);
    return t.abs().sqrt().maximum(y).mul(x);
  };
  const readTf = (f: () => tf.Tensor) => {
    const t = tf.tidy(f);
    t.dataSync();
    t.dispose();
  };

  const workloads: Workload[] = [
    {
      name: 'hypot 1M',
      kiln: kilnRunner(pointwise('hypot', M, ['a', 'b'], unary('sqrt', add(mul(vec(M, 'a'), vec(M, 'a')), mul(vec(M, 'b'), vec(M, 'b'))))), { a, b }, M),
      jax: () => jHypot(jA.ref, jB.ref).dataSync(),
      tf: () => readTf(() => tf.sqrt(tf.add(tf.square(tA), tf.square(tB)))),
    },
    {
      name: '10-op chain 1M',
      kiln: kilnRunner(pointwise('chain', M, ['a', 'b'], chain10(vec(M, 'a'), vec(M, 'b'))), { a, b }, M),
      jax: () => jChain(jA.ref, jB.ref).dataSync(),
      tf: () => readTf(() => tfChain(tA, tB)),
    },
    {
      name: 'softmax rows 1024x1024',
      kiln: kilnRunner(softmaxRows(S, S), { x: sx }, S * S),
      jax: () => jSoftmax(jS.ref).dataSync(),
      tf: () => readTf(() => tf.softmax(tS)),
    },
    {
      name: 'layerNorm rows 1024x1024',
      kiln: kilnRunner(layerNormRows(S, S), { x: sx, g: lnG, b: lnB }, S * S),
      jax: () => jLayerNorm(jS.ref, jG.ref, jLB.ref).dataSync(),
      tf: () => readTf(() => {
        const { mean, variance } = tf.moments(tS, -1, true);
        return tS.sub(mean).div(variance.add(1e-5).sqrt()).mul(tG).add(tLB);
      }),
    },
  ];
  for (const n of [256, 1024]) {
    const ma = rand(n * n), mb = rand(n * n);
    const [jx, jw] = [np.array(ma).reshape([n, n]), np.array(mb).reshape([n, n])];
    const [tx, tw] = [tf.tensor2d(ma, [n, n]), tf.tensor2d(mb, [n, n])];
    workloads.push({
      name: `matmul ${n}`, flops: 2 * n ** 3,
      kiln: kilnRunner(matmul(n), { a: ma, b: mb }, n * n),
      jax: () => jMatmul(jx.ref, jw.ref).dataSync(),
      tf: () => readTf(() => tf.matMul(tx, tw)),
    });
    if (n === 1024) {
      workloads.push({
        name: 'matmul 1024, Kiln on 2 threads', flops: 2 * n ** 3,
        kiln: kilnRunner(matmul(n), { a: ma, b: mb }, n * n, threadedArena),
        jax: () => jMatmul(jx.ref, jw.ref).dataSync(),
        tf: () => readTf(() => tf.matMul(tx, tw)),
      });
      const v = rand(n);
      const [jv, tv] = [np.array(v).reshape([1, n]), tf.tensor2d(v, [1, n])];
      workloads.push({
        name: 'matvec 1x1024 @ 1024x1024', flops: 2 * n * n,
        kiln: kilnRunner(matmul(n, undefined, 1), { a: v, b: mb }, n),
        jax: () => jMatmul(jv.ref, jw.ref).dataSync(),
        tf: () => readTf(() => tf.matMul(tv, tw)),
      });
    }
    if (n === 256) {
      const bias = rand(n);
      const [jb, tb] = [np.array(bias), tf.tensor1d(bias)];
      const epi = unary('relu', add(acc(0), load('bias', { offset: 0, strides: [0, 1] })));
      workloads.push({
        name: 'relu(x@w+b) 256', flops: 2 * n ** 3,
        kiln: kilnRunner(matmul(n, epi), { a: ma, b: mb, bias }, n * n),
        jax: () => jDense(jx.ref, jw.ref, jb.ref).dataSync(),
        tf: () => readTf(() => tf.fused.matMul({ a: tx, b: tw, bias: tb, activation: 'relu' })),
      });
    }
  }

  // a worker boots in the background and needs event-loop turns; give it time before timing starts
  for (let i = 0; i < 200 && threadedArena.threads!.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
  console.log(`${machineLine()}; one thread per library, clock: ${CPU_CLOCK ? 'process CPU time' : 'wall'}`);
  console.log(rooflineLine());
  console.log('median ms (GFLOP/s), libraries timed in interleaved rounds; ratio = peer time / Kiln time, > 1 means Kiln is faster\n');
  const fmt = (ms: number, flops?: number) => `${ms.toFixed(3)}${flops ? ` (${(flops / ms / 1e6).toFixed(1)})` : ''}`;
  const rows: string[][] = [['workload', 'kiln (read back)', 'jax-js jit', 'tfjs wasm', 'vs jax-js', 'vs tfjs', 'kiln w/ copies', 'copy share', 'kiln compile ms (codegen+wasm)', 'max |Δ| vs jax']];
  for (const w of workloads) {
    const runs = w.flops && w.flops > 1e9 ? 5 : 15;
    const stats: RunStats = { copyInMs: 0, kernelMs: 0, copyOutMs: 0 };
    const [kiln, jax, tfm, withCopies] = interleavedMedians([w.kiln.run, w.jax, w.tf, () => w.kiln.runWithCopies(stats)], runs) as [number, number, number, number];
    const copyShare = (stats.copyInMs + stats.copyOutMs) / (stats.copyInMs + stats.copyOutMs + stats.kernelMs);
    w.kiln.run();
    const reference = w.jax() as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(reference[i]! - w.kiln.result[i]!));
    rows.push([
      w.name, fmt(kiln, w.flops), fmt(jax, w.flops), fmt(tfm, w.flops), (jax / kiln).toFixed(2) + '×', (tfm / kiln).toFixed(2) + '×',
      fmt(withCopies), `${(copyShare * 100).toFixed(0)}%`, w.kiln.compile, maxDiff.toExponential(1),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log('| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |');
  console.log(blockingLine());
}

await main();
