// Device memory over many calls without a garbage collection: an output read back whole keeps its values on
// the host and gives its buffer back to the pool at once, and dispose() gives it back unread once its call is
// queued, so 10,000
// cached calls do not grow the pool. A read output used again on the GPU is uploaded again, and work queued
// on an output before it was read still sees its values.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import '@kiln/backend-cpu';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, gpu, noDevice, suiteDone, suiteStarted, uniformSequence } from './support.js';

const Memory = suite('backend-webgpu: device memory across calls');
suiteStarted();
Memory.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Memory.skip(name, body) : Memory(name, body));
const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
const uniform = uniformSequence(13);

test('10,000 cached compiled calls whose outputs are read, never disposed, keep the pool flat', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor, y: k.Tensor) => [x.mul(y).add(1), x.sub(y).abs().sum(1)];
  const fast = compile(f, { compiler: gpuCompiler });
  const [a, b] = [uniform([4, 16]), uniform([4, 16])];
  const want = f(a, b);
  const [da, db] = [a.to('webgpu'), b.to('webgpu')];
  for (let i = 0; i < 20; i++) await Promise.all(fast(da, db).map((t) => t.data()));
  const created = gpu!.pool.created;
  for (let i = 0; i < 10_000; i++) {
    const outs = fast(da, db);
    const read = await Promise.all(outs.map((t) => t.cpu()));
    if (i % 2500 === 0) read.forEach((t, j) => assertClose(t, want[j]!, 1e-5, `call ${i}, output ${j}`));
  }
  assert.is(gpu!.pool.created - created, 0, 'buffers created after warm-up');
});

test('dispose() gives an unread output buffer back once its call is queued', async () => {
  await gpuCompiler.ready();
  const fast = compile((x: k.Tensor) => x.exp(), { compiler: gpuCompiler });
  const host = uniform([64]);
  const x = host.to('webgpu');
  for (let i = 0; i < 5; i++) fast(x).dispose();
  await fast(x).data();
  const created = gpu!.pool.created;
  // The calls are queued from microtasks: a synchronous run of 8 holds 8 buffers until they are.
  for (let i = 0; i < 2000; i++) {
    fast(x).dispose();
    if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(gpu!.pool.created - created <= 8, `buffers created by 2,000 disposed calls: ${gpu!.pool.created - created}`);
  assertClose(await fast(x).cpu(), host.exp(), 1e-6, 'a call after them');
  const y = fast(x);
  y.dispose();
  let error: unknown;
  await y.data().catch((e: unknown) => (error = e));
  assert.ok(error instanceof k.DisposedTensorError, 'reading a disposed output');
});

test('disposing a tensor whose bytes another tensor reads leaves that one intact', async () => {
  await gpuCompiler.ready();
  const fast = compile((t: k.Tensor) => t.mul(3).add(t.sum()), { compiler: gpuCompiler });
  const host = uniform([40]);
  const x = host.to('webgpu');
  const y = fast(x);
  x.dispose(); // the queued call still reads x's bytes
  assertClose(await y.cpu(), host.mul(3).add(host.sum()), 1e-5, 'a call queued before the dispose');
  const d = k.zeros([40], { device: 'webgpu' });
  const v = host.to('webgpu').add(1);
  d.copy_(v); // d takes v's bytes
  v.dispose();
  assertClose(await d.cpu(), host.add(1), 1e-6, 'written with a tensor disposed after');
});

test('a read output used again on the GPU, and work queued on it before the read, see its values', async () => {
  await gpuCompiler.ready();
  const x = uniform([8, 32]);
  const fast = compile((t: k.Tensor) => t.softmax(-1), { compiler: gpuCompiler });
  const y = fast(x.to('webgpu'));
  const queued = [y.mul(2), y.sum(-1), fast(y)]; // recorded before y is read
  const first = await y.cpu();
  const later = [y.add(1), fast(y), y.transpose(0, 1).contiguous()]; // after: y's values are back on the host
  const want = x.softmax(-1);
  assertClose(first, want, 1e-6, 'y');
  assertClose(await queued[0]!.cpu(), want.mul(2), 1e-6, 'queued mul');
  assertClose(await queued[1]!.cpu(), want.sum(-1), 1e-5, 'queued sum');
  assertClose(await queued[2]!.cpu(), want.softmax(-1), 1e-6, 'queued compiled call');
  assertClose(await later[0]!.cpu(), want.add(1), 1e-6, 'add after the read');
  assertClose(await later[1]!.cpu(), want.softmax(-1), 1e-6, 'compiled call after the read');
  assertClose(await later[2]!.cpu(), want.transpose(0, 1).contiguous(), 1e-6, 'a view after the read');
  assertClose(await y.cpu(), want, 1e-6, 'y read twice');
});

Memory.run();
