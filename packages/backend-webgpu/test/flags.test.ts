// The eager-recompute flag (runtime/flag.ts): float32 sums that overflow where eager's float64 sum does not,
// and sin/cos beyond |x| = 1e5, give eager's values — in compiled calls (launch and run), split reductions,
// eager ops on device tensors, and GPU work that consumes a flagged result — while reading an output of a
// call that may flag costs no extra round trip when nothing was flagged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import '@kiln/backend-cpu';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, checkOnGpu, gpu, noDevice, suiteDone, suiteStarted, uniform } from './support.js';

const Flags = suite('backend-webgpu: eager recompute of flagged calls');
suiteStarted();
Flags.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Flags.skip(name, body) : Flags(name, body));
const gpuCompiler = new Compiler().use(webgpuBackendPlugin);

/** n floats, zero but for `at` (index → value). */
function sparse(n: number, at: Record<number, number>): k.Tensor {
  const data = new Float32Array(n);
  for (const [i, v] of Object.entries(at)) data[Number(i)] = v;
  return k.Tensor.fromData(data, [n], 'float32');
}
// One invocation adds x[0] and x[256] (3e38 + 3e38 = inf in float32) before x[512] brings the total back.
const overflowing = (n: number) => sparse(n, { 0: 3e38, 256: 3e38, 512: -3e38 });
const recomputed = () => gpu!.stats.recomputed;

test('a float32 sum that overflows gives eager float64 total (run and launch), and is counted', async () => {
  const before = recomputed();
  const want = overflowing(1000).sum();
  assert.ok(Math.abs(want.item() as number - 3e38) < 1e32, `eager's total is 3e38 (${want.item()})`);
  await checkOnGpu((x: k.Tensor) => [x.sum(), x.mean(), x.sum().mul(0)], [[overflowing(1000)], [overflowing(2000)]]);
  assert.ok(recomputed() - before >= 4, 'each call (2 sets × run and launch) was recomputed');
});

test('a split reduction (one long row) flags from its final pass', async () => {
  const before = recomputed();
  await checkOnGpu((x: k.Tensor) => x.sum(), [[overflowing(50_000)]]);
  assert.ok(recomputed() > before);
});

test('sin and cos beyond |x| = 1e5 equal eager; small arguments are not recomputed', async () => {
  const big = k.Tensor.fromData(Float32Array.from({ length: 512 }, (_, i) => 1e5 + i * 12345.678), [512], 'float32');
  const before = recomputed();
  await checkOnGpu((x: k.Tensor) => [x.sin(), x.cos().add(1)], [[big]], 1e-6);
  assert.ok(recomputed() - before >= 2);
  const mid = recomputed();
  await checkOnGpu((x: k.Tensor) => x.sin(), [[uniform([512], -1e4, 1e4)]], 1e-3);
  assert.is(recomputed(), mid, 'no flag below the limit');
});

test('GPU work that consumes a flagged result waits for the recompute; eager device ops flag too', async () => {
  await gpuCompiler.ready();
  const f = compile((x: k.Tensor) => x.sum(), { compiler: gpuCompiler });
  const x = overflowing(1000);
  const y = f(x.to('webgpu')) as k.Tensor;
  const z = y.div(2); // an eager op on the device, queued on y
  assertClose(await z.cpu(), x.sum().div(2), 1e-6, 'consumer of a flagged call');
  const eagerSum = x.to('webgpu').sum();
  assertClose(await eagerSum.cpu(), x.sum(), 1e-6, 'eager sum on a device tensor');
});

test('reading an unflagged output of a call that may flag costs one readback (the flag rides along)', async () => {
  await gpuCompiler.ready();
  const f = compile((x: k.Tensor) => x.softmax(-1).sum(-1), { compiler: gpuCompiler });
  const x = uniform([8, 64]).to('webgpu');
  await (f(x) as k.Tensor).data(); // compile and warm up
  const before = gpu!.stats.readbacks;
  const out = await (f(x) as k.Tensor).data();
  assert.is(gpu!.stats.readbacks - before, 1);
  assert.ok(Math.abs(out[0]! - 1) < 1e-5);
});

Flags.run();
