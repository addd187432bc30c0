// Where a Kiln WebGPU call's time goes, per row of webgpu.bench.ts (Kiln only, no peers): the device work one
// cached call asks for (dispatches, workgroups, queue submits, queue writes, readbacks, pipeline cache hits
// and compiles, buffers the pool had to create, eager recomputes) and its time split into the synchronous
// launch (tracing guards, binding, recording) and the rest up to the result read back.
// Run: node scripts/bench.mjs webgpu-profile
import * as k from '@kiln/tensor';
import { compile, getDefaultCompiler } from '@kiln/core';
import '@kiln/backend-cpu';
import { initWebGpu, registerWebGpuBackend, releaseDevice, type GpuStats } from '@kiln/backend-webgpu';
import { machineLine } from './support.js';
import { blockCase, mlpCase, moveTensors } from './model-peers.js';

console.log(machineLine());
const status = await initWebGpu();
if (!status.ok) {
  console.log(`skipped: no WebGPU device — ${status.reason}`);
  process.exit(0);
}
const gpu = status.gpu;
console.log(`adapter: ${status.adapter}`);
registerWebGpuBackend();
await getDefaultCompiler().ready();
console.log('per cached call (after 3 warm-up calls), medians of 15: launch = the synchronous call, total = until data() resolves\n');

type Fn = (...a: k.Tensor[]) => k.Tensor;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** KILN_PROFILE_ROWS=matmul,MLP profiles only the rows whose names contain one of these. */
const only = process.env.KILN_PROFILE_ROWS?.split(',');

async function profile(name: string, fn: Fn, args: k.Tensor[]): Promise<void> {
  if (only && !only.some((s) => name.includes(s))) return;
  const device = args.map((t) => t.to('webgpu'));
  const fast = compile(fn, { backend: 'webgpu' });
  for (let i = 0; i < 3; i++) await fast(...device).data();
  const before: GpuStats = { ...gpu.stats };
  const pool0 = gpu.pool.created;
  const [launch, total]: number[][] = [[], []];
  const calls = 15;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const out = fast(...device);
    const t1 = performance.now();
    await out.data();
    launch.push(t1 - t0);
    total.push(performance.now() - t0);
  }
  const per = (key: keyof GpuStats) => ((gpu.stats[key] - before[key]) / calls).toFixed(key === 'workgroups' ? 0 : 1);
  console.log(
    `${name.padEnd(30)} launch ${median(launch).toFixed(3)} ms, total ${median(total).toFixed(3)} ms | dispatches ${per('dispatches')}, workgroups ${per('workgroups')}, submits ${per('submits')}, writes ${per('writes')}, readbacks ${per('readbacks')}, pipeline hits ${per('pipelineHits')}, compiles ${per('pipelines')}, recomputed ${per('recomputed')}, new buffers ${((gpu.pool.created - pool0) / calls).toFixed(1)}`,
  );
}

const N = 1 << 20;
await profile('hypot 1M (4 ops)', (x, y) => x.mul(x).add(y.mul(y)).sqrt(), [k.randn([N]), k.randn([N])]);
await profile('sum 1M (one row)', (x) => x.sum(), [k.randn([N])]);
await profile('softmax rows 1024²', (x) => x.softmax(-1), [k.randn([1024, 1024])]);
await profile('matmul 256', (p, q) => p.matmul(q), [k.randn([256, 256]), k.randn([256, 256])]);
for (const c of [mlpCase([64, 256, 256, 10], 32), blockCase(2, 32, 64, 4)]) {
  moveTensors(c.model);
  await profile(c.name, (x) => c.model.forward(x), [c.x]);
}
await profile('tiny cached call (8 el.)', (x) => x.mul(2).add(1), [k.randn([8])]);

await releaseDevice();
process.exit(0);
