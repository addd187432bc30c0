// Kiln's WebGPU backend (compile(fn, { backend: 'webgpu' }) on device tensors) against jax-js on its WebGPU
// backend, tfjs's WebGPU backend and onnxruntime-node's WebGPU execution provider, all on the adapter Dawn
// gives this process: a real GPU where there is one, Mesa's lavapipe (the CPU) otherwise. Every call is timed
// up to its result read back into a JS typed array (await data()), so every library pays for its dispatch,
// its kernels and the readback. Inputs stay on the device for Kiln, jax-js and tfjs; ONNX Runtime is given
// CPU feeds (its Node API takes no device buffers), so its figures include the upload. Each peer's result
// is compared with Kiln's before it is timed; a peer that differs is printed and left out of the row.
// Run: node scripts/bench.mjs webgpu (KILN_BENCH_ROWS=MLP,transformer runs only the rows whose names contain one
// of these, as KILN_PROFILE_ROWS does for webgpu-profile.bench.ts).
import * as k from '@kiln/tensor';
import { compile, explain, getDefaultCompiler } from '@kiln/core';
import '@kiln/backend-cpu';
import { configureWebGpu, cpuHandoffElements, initWebGpu, registerWebGpuBackend, releaseDevice, type GpuStats } from '@kiln/backend-webgpu';
import { machineLine, printRow } from './support.js';
import { interleavedMediansAsync } from './peer-timing.js';
import { OnnxGraph, ortSession, type OrtFeeds } from './onnx.js';
import { gpuPeers, type Peers } from './webgpu-peers.js';
import { blockCase, mlpCase, moveTensors, type ModelCase } from './model-peers.js';

console.log(machineLine());
const peers: Peers = await gpuPeers();
const status = await initWebGpu(); // finds navigator.gpu, which gpuPeers() set to the one Dawn instance
if (!status.ok) {
  console.log(`skipped: no WebGPU device — ${status.reason}`);
  process.exit(0);
}
const gpu = status.gpu;
console.log(`adapter: ${status.adapter}${peers.adapterNote}`);
for (const line of peers.unavailable) console.log(line);
registerWebGpuBackend();
await getDefaultCompiler().ready();
console.log('median ms per call, result read back into JS (await data()); ratio > 1: Kiln is faster');
console.log('kiln: compile(fn, { backend: \'webgpu\' }); jax: jit on init(\'webgpu\'); tfjs: setBackend(\'webgpu\'); ort: onnxruntime-node, executionProviders [\'webgpu\'], CPU feeds\n');

const { jax, tf, ort } = peers;
type J = import('@jax-js/jax').numpy.Array;
type T = import('@tensorflow/tfjs').Tensor;
type Fn = (...a: k.Tensor[]) => k.Tensor;
const f32 = (t: k.Tensor) => t.toTypedArray() as Float32Array;

/** Largest |a - b| / max(1, |b|): the check every peer must pass against Kiln (1e-4). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return Number.isNaN(worst) ? Infinity : worst;
}

interface Workload {
  name: string;
  fn: Fn;
  /** CPU tensors: Kiln's eager reference runs on these, Kiln's compiled call on their webgpu copies. */
  args: k.Tensor[];
  /** The same computation on the peers' arrays (made from `args`), or a port that holds its own inputs. */
  jax?: ((...a: J[]) => J) | { run: () => J };
  tf?: ((...a: T[]) => T) | { run: () => T };
  onnx?: (g: OnnxGraph, ...x: string[]) => string;
  /** Moves what `fn` closes over (a model's weights) to the device before Kiln's compiled calls. */
  toDevice?: () => void;
  rounds: number;
  /** Untimed calls of each library before the timed rounds (1 where absent). */
  warmUp?: number;
  /** Kiln's CPU handoff limit for this row (configureWebGpu); the default where absent. */
  handoff?: number;
}

const checks: string[] = [];
const only = process.env.KILN_BENCH_ROWS?.split(',');

async function row(w: Workload): Promise<void> {
  if (only && !only.some((s) => w.name.includes(s))) return;
  const want = f32(w.fn(...w.args)); // the CPU's eager kernels: the reference
  const handoff = cpuHandoffElements();
  if (w.handoff !== undefined) configureWebGpu({ cpuHandoffElements: w.handoff });
  try {
    await timeRow(w, want);
  } finally {
    configureWebGpu({ cpuHandoffElements: handoff });
  }
}

async function timeRow(w: Workload, want: Float32Array): Promise<void> {
  const device = w.args.map((t) => t.to('webgpu'));
  w.toDevice?.();
  const fast = compile(w.fn, { backend: 'webgpu' });
  const t0 = performance.now();
  const got = (await fast(...device).data()) as Float32Array;
  const firstMs = performance.now() - t0;
  const kilnDiff = relDiff(got, want);
  let kilnCalls = 0;
  const fns: Record<string, () => Promise<Float32Array>> = { kiln: async () => (kilnCalls++, (await fast(...device).data()) as Float32Array) };
  const diffs: string[] = [`kiln vs CPU eager ${kilnDiff.toExponential(1)}`];
  const firstCalls: string[] = [`kiln ${firstMs.toFixed(0)}`];
  if (!(kilnDiff <= 1e-4)) checks.push(`MISMATCH ${w.name}: Kiln WebGPU differs from Kiln CPU eager by ${kilnDiff}`);

  const candidates: Record<string, () => Promise<() => Promise<Float32Array>>> = {};
  if (jax && w.jax) {
    const { numpy: np, jit } = jax;
    const ja = w.args.map((t) => np.array(f32(t)).reshape([...t.shape]));
    const body = w.jax;
    const jitted = typeof body === 'function' ? (jit(body) as (...a: J[]) => J) : undefined;
    const call = jitted ? () => jitted(...ja.map((a) => a.ref)) : (body as { run: () => J }).run;
    candidates.jax = async () => async () => (await call().data()) as Float32Array;
  }
  if (tf && w.tf) {
    const ta = w.args.map((t) => tf.tensor(f32(t), [...t.shape]));
    const body = w.tf;
    const call = typeof body === 'function' ? () => tf.tidy(() => body(...ta)) : body.run;
    candidates.tfjs = async () => async () => {
      const out = call();
      const d = (await out.data()) as Float32Array;
      out.dispose();
      return d;
    };
  }
  if (ort && w.onnx) {
    const g = new OnnxGraph();
    const names = w.args.map((t, i) => g.input(`x${i}`, t.shape));
    g.output(w.onnx(g, ...names));
    const feeds: OrtFeeds = Object.fromEntries(w.args.map((t, i) => [`x${i}`, { data: f32(t), dims: t.shape }]));
    candidates.ort = () => ortSession(ort, 'webgpu', g.build(), feeds);
  }
  for (const [lib, make] of Object.entries(candidates)) {
    try {
      const start = performance.now();
      const run = await make();
      const first = await run();
      firstCalls.push(`${lib} ${(performance.now() - start).toFixed(0)}`);
      const d = relDiff(first, got);
      diffs.push(`${lib} ${d.toExponential(1)}`);
      if (d <= 1e-4) fns[lib] = run;
      else checks.push(`MISMATCH ${w.name}: ${lib} differs from Kiln by ${d} (relative); not timed`);
    } catch (err) {
      checks.push(`${w.name}: ${lib} failed — ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const [stats0, pool0] = [{ ...gpu.stats }, gpu.pool.created];
  kilnCalls = 0;
  const medians = await interleavedMediansAsync(Object.values(fns), w.rounds, 3000, w.warmUp);
  // Kiln's device work per timed call, as webgpu-profile.bench.ts counts it (the peers do not touch these).
  const per = (n: number) => (n / Math.max(kilnCalls, 1)).toFixed(1);
  const work = (['dispatches', 'submits', 'readbacks', 'pipelines', 'recomputed', 'cpuCalls'] as (keyof GpuStats)[]).map((key) => `${key} ${per(gpu.stats[key] - stats0[key])}`);
  printRow(w.name, Object.fromEntries(Object.keys(fns).map((lib, i) => [lib, medians[i]])));
  // What Kiln's program is: kernels, and any node it could not lower (an eager step, slower but correct).
  const report = explain(w.fn, { backend: 'webgpu' })(...device).backends;
  const shape = report.map((b) => `${b.backend}, ${b.kernels} kernel(s)${b.eagerSteps.length ? `, eager steps: ${b.eagerSteps.map((e) => e.op).join(' ')}` : ''}${b.wholeGraphFallback ? `, interpreted: ${b.wholeGraphFallback}` : ''}`);
  checks.push(`${w.name}: Kiln ${shape.join('; ')}`);
  checks.push(`  Kiln per timed call: ${work.join(', ')}, new buffers ${per(gpu.pool.created - pool0)}`);
  checks.push(`  first call ms (compiles, pipelines): ${firstCalls.join(', ')}; max rel |diff| vs Kiln: ${diffs.join(', ')}`);
}

const N = 1 << 20;
const [a, b] = [k.randn([N]), k.randn([N])];
await row({
  name: 'hypot 1M (4 ops)', args: [a, b], rounds: 5,
  fn: (x, y) => x.mul(x).add(y.mul(y)).sqrt(),
  jax: (x, y) => jax!.numpy.sqrt(jax!.numpy.square(x).add(jax!.numpy.square(y))),
  tf: (x, y) => tf!.sqrt(tf!.add(tf!.square(x), tf!.square(y))),
  onnx: (g, x, y) => g.op('Sqrt', [g.op('Add', [g.op('Mul', [x, x]), g.op('Mul', [y, y])])]),
});

const S = 1024;
await row({
  name: 'softmax rows 1024²', args: [k.randn([S, S])], rounds: 5,
  fn: (x) => x.softmax(-1),
  jax: (x) => jax!.nn.softmax(x, -1),
  tf: (x) => tf!.softmax(x),
  onnx: (g, x) => g.op('Softmax', [x], { axis: -1 }),
});

for (const n of [256, 1024]) {
  await row({
    name: `matmul ${n}`, args: [k.randn([n, n]), k.randn([n, n])], rounds: n > 256 ? 3 : 5,
    fn: (p, q) => p.matmul(q),
    jax: (p, q) => jax!.numpy.matmul(p, q),
    tf: (p, q) => tf!.matMul(p, q),
    onnx: (g, p, q) => g.op('MatMul', [p, q]),
  });
}

// The demo's models (examples/models.mjs) at their smaller bench/models.bench.ts sizes; the peers run the
// ports in ./model-peers.ts with the same weights. ONNX Runtime has no port of them here.
for (const c of [mlpCase([64, 256, 256, 10], 32, jax, tf), blockCase(2, 32, 64, 4, jax, tf)]) await modelRow(c);

async function modelRow(c: ModelCase): Promise<void> {
  await row({
    name: c.name, args: [c.x], rounds: 5,
    fn: (x) => c.model.forward(x),
    jax: c.jax && { run: c.jax },
    tf: c.tf && { run: c.tf },
    toDevice: () => moveTensors(c.model),
  });
}

// Dispatch overhead: 8 elements, 2 ops, cached. Every library gets its input from JS data. tfjs's WebGPU
// backend runs ops whose inputs are all still on the CPU and smaller than 1,000 elements on the CPU (its
// WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD); Kiln does the same up to cpuHandoffElements (1,024 by default: a small
// webgpu tensor made from JS data stays on the host, and the compiled call runs on the CPU's eager kernels,
// checked against eager above). The second row turns Kiln's handoff off (KILN_WEBGPU_CPU_HANDOFF=0): the
// cost of one submit and one readback, against jax-js's GPU path and tfjs's CPU one. Each library first
// makes 200 untimed calls: the figure is the steady state of a call made many times, after the JIT.
const tiny: Omit<Workload, 'name'> = {
  args: [k.randn([8])], rounds: 20, warmUp: 200,
  fn: (x) => x.mul(2).add(1),
  jax: (x) => x.mul(2).add(1),
  tf: (x) => tf!.add(tf!.mul(x, 2), 1),
  onnx: (g, x) => g.op('Add', [g.op('Mul', [x, g.const(2)]), g.const(1)]),
};
await row({ name: 'tiny cached call (8 el.)', ...tiny });
await row({ name: 'tiny call, no handoff', ...tiny, handoff: 0 });

console.log('');
for (const line of checks) console.log(line);
await releaseDevice();
peers.release();
process.exit(0);
