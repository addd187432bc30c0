// The whole user path — compile(fn) on Kiln tensors, guards, fused kernels, the result handed back as a
// tensor — side by side with jax-js (wasm jit) and tfjs (wasm/XNNPACK) in one process, and with Kiln's own
// eager kernels. Inputs are made by Kiln's eager ops (JS memory); the first compiled call copies them into
// wasm memory, where they stay as the tensors' storage (backend-cpu README, "Resident tensors"), so later
// calls read them in place as the peers read theirs. ONNX Runtime (ort-web: wasm, ort-node: native; 1
// thread each) runs graphs built by ./onnx.ts on feeds that stay in JS memory, so ort-web copies inputs
// into its heap on each run.
// Run: node scripts/bench.mjs compiled
import * as k from '@kiln/tensor';
import { compile, explain } from '@kiln/core';
import { ResidentBlock, cpuArena } from '@kiln/backend-cpu';
import { initPeers, machineLine, phasesText, printSpreadRow, spreadMsAsync } from './support.js';
import { interleavedStats, interleavedStatsWithTurns } from './peer-timing.js';
import { blockingLine, rooflineLine, simd128RooflineGflops } from './machine.js';
import { OnnxGraph, maxAbsDiff, ortRunner } from './onnx.js';
import { readAnatomy } from './read-anatomy.js';

const { jax, tf } = await initPeers();
const { numpy: np, nn, jit } = jax;
console.log(machineLine());
console.log('median ms per call (interquartile range); Kiln and the wasm peers timed in interleaved rounds');
console.log('kiln: the result as a tensor (kept in wasm memory when large); kiln+read: also copied into a JS array, as the peers\' dataSync() does');
console.log('ratios are peer time / kiln+read time: > 1 means Kiln, result read back, is faster');
console.log('ort-web / ort-node: ONNX Runtime session.run, awaited per call — figures include the promise round-trip\n');

const readTf = (f: () => any) => {
  const t = tf.tidy(f);
  t.dataSync();
  t.dispose();
};
const data = (t: k.Tensor) => t.toTypedArray() as Float32Array;

type Fn = (...a: k.Tensor[]) => k.Tensor;
/** Kiln eager is 10–50× slower than the rest: a few runs, timed alone. */
const eagerSpread = (fn: () => unknown) => interleavedStats([fn], 3, 800)[0]!;
function kiln(fn: Fn, args: k.Tensor[]) {
  const fast = compile(fn);
  const got = fast(...args);
  const want = fn(...args);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) {
    if (Math.abs(a[i]! - b[i]!) > 1e-3 * Math.max(1, Math.abs(b[i]!))) throw new Error(`compiled result differs from eager at ${i}`);
  }
  // explain() compiles through a private cache: a cold compile (trace, passes, lowering, wasm) every time.
  const report = explain(fn)(...args);
  const readDispose = () => fast(...args).toTypedArray({ dispose: true });
  return { run: () => fast(...args), read: () => fast(...args).toTypedArray(), readDispose, eager: () => fn(...args), compileMs: report.compileTimesMs[0] ?? NaN, phases: phasesText(report.compilePhasesMs[0]), kernels: report.backends[0]?.kernels ?? 0 };
}

/** The same computation as an ONNX graph on both runtimes, checked against Kiln eager on the same inputs. */
async function onnx(kr: ReturnType<typeof kiln>, args: k.Tensor[], build: (g: OnnxGraph, ...x: string[]) => string) {
  const g = new OnnxGraph();
  const names = args.map((t, i) => g.input(`x${i}`, t.shape));
  g.output(build(g, ...names));
  const feeds = Object.fromEntries(args.map((t, i) => [`x${i}`, { data: data(t), dims: t.shape }]));
  const ort = await ortRunner(g.build(), feeds);
  const want = data(kr.eager());
  const diff = async (run: () => Promise<Float32Array>) => maxAbsDiff(await run(), want).toExponential(1);
  return { ...ort, check: `ort max |diff| vs eager: web ${await diff(ort.web)}, node ${await diff(ort.node)}` };
}
type Onnx = Awaited<ReturnType<typeof onnx>>;

const N = 1 << 20;
const a = k.randn([N]);
const b = k.randn([N]);
const ja = np.array(data(a));
const jb = np.array(data(b));
const ta = tf.tensor1d(data(a));
const tb = tf.tensor1d(data(b));

/** Multiply-adds × 2 of the matmul rows, for GFLOP/s. */
const flopsOf = new Map<string, number>();
const rows: [string, ReturnType<typeof kiln>, (() => unknown) | undefined, (() => unknown) | undefined, Onnx?][] = [];
// Adds a row; `ort` builds the ONNX graph of the same computation on input names x0, x1, ….
async function row(name: string, kr: ReturnType<typeof kiln>, args: k.Tensor[], jaxFn?: () => unknown, tfFn?: () => unknown, ort?: (g: OnnxGraph, ...x: string[]) => string) {
  rows.push([name, kr, jaxFn, tfFn, ort && (await onnx(kr, args, ort))]);
}

const hypot = (x: k.Tensor, y: k.Tensor) => x.mul(x).add(y.mul(y)).sqrt();
const jHypot = jit((x: any, y: any) => np.sqrt(np.square(x).add(np.square(y))));
await row('hypot 1M (4 ops)', kiln(hypot, [a, b]), [a, b], () => jHypot(ja.ref, jb.ref).dataSync(), () => readTf(() => tf.sqrt(tf.add(tf.square(ta), tf.square(tb)))), (g, x, y) =>
  g.op('Sqrt', [g.op('Add', [g.op('Mul', [x, x]), g.op('Mul', [y, y])])]));

const chain = (x: k.Tensor, y: k.Tensor) => {
  let t = x.mul(1.5).add(y);
  t = t.mul(t);
  t = t.sub(x).mul(0.5).add(1);
  return t.abs().sqrt().maximum(y).mul(x);
};
const jChain = jit((x: any, y: any) => {
  let t = x.ref.mul(1.5).add(y.ref);
  t = np.square(t);
  t = t.sub(x.ref).mul(0.5).add(1);
  return np.maximum(np.sqrt(np.abs(t)), y).mul(x);
});
const tChain = () => {
  let t = tf.add(tf.mul(ta, 1.5), tb);
  t = tf.square(t);
  t = tf.add(tf.mul(tf.sub(t, ta), 0.5), 1);
  return tf.mul(tf.maximum(tf.sqrt(tf.abs(t)), tb), ta);
};
const oChain = (g: OnnxGraph, x: string, y: string) => {
  let t = g.op('Add', [g.op('Mul', [x, g.const(1.5)]), y]);
  t = g.op('Mul', [t, t]);
  t = g.op('Add', [g.op('Mul', [g.op('Sub', [t, x]), g.const(0.5)]), g.const(1)]);
  return g.op('Mul', [g.op('Max', [g.op('Sqrt', [g.op('Abs', [t])]), y]), x]);
};
await row('10-op chain 1M', kiln(chain, [a, b]), [a, b], () => jChain(ja.ref, jb.ref).dataSync(), () => readTf(tChain), oChain);

const gelu = (x: k.Tensor) => x.gelu({ approximate: 'tanh' });
// Opset 17 has no Gelu: the tanh approximation spelled out, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
const oGelu = (g: OnnxGraph, x: string) => {
  const inner = g.op('Add', [x, g.op('Mul', [g.op('Mul', [g.op('Mul', [x, x]), x]), g.const(0.044715)])]);
  const th = g.op('Tanh', [g.op('Mul', [inner, g.const(Math.sqrt(2 / Math.PI))])]);
  return g.op('Mul', [g.op('Mul', [x, g.const(0.5)]), g.op('Add', [th, g.const(1)])]);
};
await row('gelu (tanh) 1M', kiln(gelu, [a]), [a], () => jit((x: any) => nn.gelu(x))(ja.ref).dataSync(), undefined, oGelu);

const S = 1024;
const sq = k.randn([S, S]);
const jsq = np.array(data(sq)).reshape([S, S]);
const tsq = tf.tensor2d(data(sq), [S, S]);
const jSoftmax = jit((x: any) => nn.softmax(x, -1));
await row('softmax rows 1024²', kiln((x) => x.softmax(-1), [sq]), [sq], () => jSoftmax(jsq.ref).dataSync(), () => readTf(() => tf.softmax(tsq)), (g, x) => g.op('Softmax', [x], { axis: -1 }));

const jLayerNorm = jit((x: any) => {
  const mean = np.mean(x.ref, -1, { keepdims: true });
  const centered = x.sub(mean);
  const variance = np.mean(np.square(centered.ref), -1, { keepdims: true });
  return centered.div(np.sqrt(variance.add(1e-5)));
});
const tLayerNorm = () => {
  const { mean, variance } = tf.moments(tsq, -1, true);
  return tf.div(tf.sub(tsq, mean), tf.sqrt(tf.add(variance, 1e-5)));
};
// ONNX's LayerNormalization requires a scale: ones, so it matches Kiln's layerNorm without weight.
const oLayerNorm = (g: OnnxGraph, x: string) => g.op('LayerNormalization', [x, g.const(new Float32Array(S).fill(1))], { axis: -1, epsilon: { float: 1e-5 } });
await row('layerNorm 1024²', kiln((x) => k.layerNorm(x, [S]), [sq]), [sq], () => jLayerNorm(jsq.ref).dataSync(), () => readTf(tLayerNorm), oLayerNorm);
await row('sum rows 1024²', kiln((x) => x.sum(-1), [sq]), [sq], () => jit((x: any) => np.sum(x, -1))(jsq.ref).dataSync(), () => readTf(() => tf.sum(tsq, -1)), (g, x) =>
  g.op('ReduceSum', [x, g.ints([-1])], { keepdims: 0 }));

for (const n of [256, 1024]) {
  const x = k.randn([n, n]);
  const w = k.randn([n, n]);
  const [jx, jw] = [np.array(data(x)).reshape([n, n]), np.array(data(w)).reshape([n, n])];
  const [tx, tw] = [tf.tensor2d(data(x), [n, n]), tf.tensor2d(data(w), [n, n])];
  const jMatmul = jit((p: any, q: any) => np.matmul(p, q));
  flopsOf.set(`matmul ${n}`, 2 * n ** 3);
  if (n === 256) flopsOf.set('relu(x@w+b) 256', 2 * n ** 3);
  await row(`matmul ${n}`, kiln((p, q) => p.matmul(q), [x, w]), [x, w], () => jMatmul(jx.ref, jw.ref).dataSync(), () => readTf(() => tf.matMul(tx, tw)), (g, p, q) => g.op('MatMul', [p, q]));
  if (n === 256) {
    const bias = k.randn([n]);
    const [jbias, tbias] = [np.array(data(bias)), tf.tensor1d(data(bias))];
    const jDense = jit((p: any, q: any, r: any) => nn.relu(np.matmul(p, q).add(r)));
    const dense = kiln((p, q, r) => p.matmul(q).add(r).relu(), [x, w, bias]);
    await row('relu(x@w+b) 256', dense, [x, w, bias], () => jDense(jx.ref, jw.ref, jbias.ref).dataSync(), () => readTf(() => tf.fused.matMul({ a: tx, b: tw, bias: tbias, activation: 'relu' })), (g, p, q, r) =>
      g.op('Relu', [g.op('Add', [g.op('MatMul', [p, q]), r])]));
  }
}

console.log('workload'.padEnd(22) + ' times and ratios');
const summary: string[] = [];
for (const [name, kr, jaxFn, tfFn, ort] of rows) {
  const peers = [jaxFn, tfFn].filter((p): p is () => unknown => p !== undefined);
  // Kiln's calls and how many of them its thread pool split (a large kernel splits where that measured faster)
  let kilnCalls = 0;
  const splitBefore = cpuArena().threads?.stats.splitCalls ?? 0;
  const counted = (fn: () => unknown) => () => (kilnCalls++, fn());
  const [kilnT, readT, ...peerT] = interleavedStats([counted(kr.run), counted(kr.read), ...peers], 15, 3000);
  const splitShare = kilnCalls ? ((cpuArena().threads?.stats.splitCalls ?? 0) - splitBefore) / kilnCalls : 0;
  const times = {
    kiln: kilnT,
    'kiln+read': readT,
    jax: jaxFn && peerT.shift(),
    tfjs: tfFn && peerT.shift(),
    'kiln-eager': eagerSpread(kr.eager),
    'ort-web': ort && (await spreadMsAsync(ort.web)),
    'ort-node': ort && (await spreadMsAsync(ort.node)),
  };
  printSpreadRow(name, times);
  const flops = flopsOf.get(name);
  if (flops) {
    const rate = (t: { median: number } | undefined) => (t ? (flops / t.median / 1e6).toFixed(1) : '–');
    const share = ((100 * flops) / readT.median / 1e6 / simd128RooflineGflops()).toFixed(0);
    console.log(`${''.padEnd(22)} GFLOP/s: kiln+read ${rate(readT)} (${share}% of the SIMD128 roofline of one core), jax ${rate(times.jax)}, tfjs ${rate(times.tfjs)}, ort-node ${rate(times['ort-node'])}`);
  }
  // split kernel calls per compiled call: a program of two large kernels could reach 200 %
  const splits = (cpuArena().threads?.stats.splitCalls ?? 0) - splitBefore;
  if (splits > 0) console.log(`${''.padEnd(22)} Kiln's large kernel calls split between threads: ${(100 * splitShare).toFixed(0)} % of ${kilnCalls} calls (the rest on one thread)`);
  summary.push(`${name}: ${kr.kernels} kernel(s), cold compile ${kr.compileMs.toFixed(1)} ms${kr.phases}${ort ? `; ${ort.check}` : ''}`);
}

// The same rows with the event loop turning before each call (outside the timing), as an app's requests
// do. Finalizers may run between calls, but an undisposed output's block comes back only after a *major*
// GC, which a read loop rarely triggers (scavenges free the arrays it drops), so most outputs are still
// copied out and a read is two allocations, as back to back (backend-cpu README, "What reading a result costs").
console.log('\nwith a macrotask between calls (not timed), result read back; median ms (interquartile range)');
for (const [name, kr, jaxFn, tfFn] of rows.filter(([name]) => name.startsWith('hypot') || name.startsWith('softmax'))) {
  const [readT, jaxT, tfT] = await interleavedStatsWithTurns([kr.read, jaxFn!, tfFn!], 15, 3000);
  printSpreadRow(name, { 'kiln+read': readT, jax: jaxT, tfjs: tfT });
}

// Back to back again, each result disposed once read (as tfjs's readTf does with dispose(), and as jax-js's
// dataSync() consumes its array): the output block goes back to the arena at once, so the next call writes
// into the same warm block and a read is one allocation (Tensor.dispose, backend-cpu README). Kiln's read
// here is the consuming read, toTypedArray({ dispose: true }): toTypedArray() then dispose(), except that an
// output copied out of wasm memory (the pool full of blocks waiting for a major GC) is handed over, not copied.
console.log('\nback to back, result read back then dispose()d; median ms (interquartile range)');
for (const [name, kr, jaxFn, tfFn] of rows.filter(([name]) => name.startsWith('hypot') || name.startsWith('softmax'))) {
  // not interleaved with kr.read: its undisposed outputs would take the burst allowance dispose gives back
  const [disposeT, jaxT, tfT] = interleavedStats([kr.readDispose, jaxFn!, tfFn!], 15, 3000);
  printSpreadRow(name, { 'kiln+read+dispose': disposeT, jax: jaxT, tfjs: tfT }, 'kiln+read+dispose');
}

// Where a read goes, counted (counts do not depend on the machine's load): per call, the fresh JS arrays
// a back-to-back loop makes, and the minor page faults it takes. The read itself is one array, as a peer's
// dataSync(); an output not kept in wasm memory (copied out, because the pool's blocks are held by outputs
// that may still be alive) is one more. Without dispose() Kiln cannot know the previous output died before a
// major GC; it evicts it when it can compute it again (recyclable outputs, backend-cpu README), and copies
// the new output out when it cannot. A fresh 4 MB array faults its 1024 pages in when the allocator gave them back
// to the OS (glibc trims its heap; Kiln's warmHeap setting raises the threshold: backend-cpu README).
console.log('\nwhere a read goes, 40 calls back to back: fresh JS arrays per call (the read + copies out of wasm memory), minor page faults per call');
const faultsPer = (calls: number, fn: () => unknown) => {
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < calls; i++) fn();
  return ((process.resourceUsage().minorPageFault - before) / calls).toFixed(0);
};
for (const [name, kr, , tfFn] of rows.filter(([name]) => name.startsWith('hypot') || name.startsWith('softmax'))) {
  const count = (dispose: boolean) => {
    let copiedOut = 0;
    const faults = faultsPer(40, () => {
      const y = kr.run();
      const copy = y.storage.external instanceof ResidentBlock ? undefined : y.storage.data;
      // the consuming read hands a copied-out output over instead of copying it again
      const read = y.toTypedArray({ dispose });
      if (copy && read !== copy) copiedOut++;
    });
    return `${(1 + copiedOut / 40).toFixed(2)} (${faults} faults)`;
  };
  console.log(`${name.padEnd(22)} kiln+read ${count(false)}, kiln+read({ dispose: true }) ${count(true)}; tfjs dataSync(): 1 (${faultsPer(40, tfFn!)} faults)`);
}
// The same contenders interleaved back to back as the rows above time them: the GCs that start inside each
// one's calls and its page faults. V8 scavenges once the fresh arrays since the last scavenge pass its
// threshold, whoever made them, so every array Kiln makes brings the peers' next scavenge closer too.
console.log('\ngarbage collections and page faults per contender, interleaved back to back (100 rounds, as the rows above)');
for (const [name, kr, jaxFn, tfFn] of rows.filter(([name]) => name.startsWith('hypot') || name.startsWith('softmax'))) {
  const lines = await readAnatomy({ kiln: kr.run, 'kiln+read': kr.read, jax: jaxFn!, tfjs: tfFn! }, 100);
  console.log(`${name}\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

// The demo's models, with jax-js and tfjs versions of them: models.bench.ts.

// Call overhead on a tiny graph: guards + copies + dispatch. V8 optimizes a new call path only after some
// thousands of calls (10–20 µs each before, on a loaded 2-core machine), so each contender first runs
// WARM_CALLS calls, then all are timed in interleaved rounds of BATCH calls each. Timed right after the
// compile with 3 warm-up calls, as this row once was, Kiln's first figure measured that warm-up: 18.7 µs
// resident against 3.9 µs for kiln+read, timed next. The first calls after the compile are printed apart.
const tiny = k.randn([8]);
const tinyFn = (x: k.Tensor) => x.mul(2).add(1);
const tinyFast = compile(tinyFn);
const jTiny = jit((x: any) => x.mul(2).add(1));
const jt = np.array(data(tiny));
const tt = tf.tensor1d(data(tiny));
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const tinyGraph = new OnnxGraph();
tinyGraph.output(tinyGraph.op('Add', [tinyGraph.op('Mul', [tinyGraph.input('x', [8]), tinyGraph.const(2)]), tinyGraph.const(1)]));
const oTiny = await ortRunner(tinyGraph.build(), { x: { data: data(tiny), dims: [8] } });
const WARM_CALLS = 20_000;
const BATCH = 200;
const tinyCalls = {
  kiln: () => tinyFast(tiny),
  'kiln+read': () => tinyFast(tiny).toTypedArray(),
  jax: () => jTiny(jt.ref).dataSync(),
  tfjs: () => readTf(() => tf.add(tf.mul(tt, 2), 1)),
  'kiln-eager': () => tinyFn(tiny),
};
/** Mean ms per call of `calls` calls after the first (the compiling one for a jit). */
const firstCalls = (fn: () => unknown, calls: number) => {
  fn();
  const t = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return (performance.now() - t) / calls;
};
const firstKiln = firstCalls(tinyCalls['kiln+read'], 2000);
const firstJax = firstCalls(tinyCalls.jax, 2000);
for (const fn of Object.values(tinyCalls)) for (let i = 0; i < WARM_CALLS; i++) fn();
const batched = Object.values(tinyCalls).map((fn) => () => {
  for (let i = 0; i < BATCH; i++) fn();
});
const tinyStats = interleavedStats(batched, 21, 3000);
const overhead: Record<string, number> = Object.fromEntries(Object.keys(tinyCalls).map((label, i) => [label, tinyStats[i]!.median / BATCH]));
overhead['ort-web'] = (await spreadMsAsync(oTiny.web, 2000, 1000)).median;
overhead['ort-node'] = (await spreadMsAsync(oTiny.node, 2000, 1000)).median;
console.log(`\ncall overhead, 8 elements, 2 ops: ${Object.entries(overhead).map(([l, ms]) => `${l} ${us(ms)}`).join(', ')}`);
console.log(`  (each after ${WARM_CALLS} warm-up calls, timed in interleaved batches of ${BATCH}; ort: awaited runs)`);
console.log(`  the first 2000 calls after the compiling one, mean per call: kiln+read ${us(firstKiln)}, jax ${us(firstJax)} (V8 still optimizing the new call path)`);

// A new input shape: the first change recompiles with that dim dynamic; later sizes reuse the entry.
const shapeFn = compile((x: k.Tensor) => x.softmax(-1).mul(2));
const sizes = [64, 96, 128, 160];
const shapeTimes = sizes.map((r) => {
  const x = k.randn([r, 256]);
  const t0 = performance.now();
  shapeFn(x);
  return performance.now() - t0;
});
console.log(`new shapes [64|96|128|160, 256], first call each: ${shapeTimes.map((t) => `${t.toFixed(2)} ms`).join(', ')} (2nd recompiles as dynamic; 3rd and 4th reuse it)`);
console.log(`\n${summary.join('\n')}`);
console.log(blockingLine());
console.log(rooflineLine());
