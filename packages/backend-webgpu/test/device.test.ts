// Tensors on the webgpu device: transfers round-trip, eager ops on device tensors match the CPU kernels,
// synchronous reads and mixed devices raise errors that name the way out, and steady use does not grow the
// buffer pool.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForWebGpu, initWebGpu } from '@kiln/backend-webgpu';
import { assertClose, gpu, ints, noDevice, special, suiteDone, suiteStarted, uniform } from './support.js';

const Device = suite('backend-webgpu: device tensors');
suiteStarted();
Device.before(async () => void (noDevice ? undefined : await initWebGpu()));
Device.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Device.skip(name, body) : Device(name, body));

test('to(webgpu) and back round-trips every dtype, views included', async () => {
  const cases = [special(18), ints([3, 5], -9, 9), uniform([4, 6]).gt(0), uniform([5, 7]).transpose(0, 1).slice(0, 1, 6)];
  for (const t of cases) {
    const d = t.to('webgpu');
    assert.is(d.device, 'webgpu');
    assert.equal(d.shape, t.shape);
    const back = await d.cpu();
    assert.is(back.device, 'cpu');
    assertClose(back, t.contiguous(), 0, `round trip of ${t.dtype}`);
    assert.equal(await d.array(), t.toArray());
  }
  // creation and random ops take `{ device }` beside their own options (typed: no cast)
  const onDevice = k.ones([2, 3], { device: 'webgpu' });
  assert.is(onDevice.device, 'webgpu');
  assert.equal(await onDevice.array(), [[1, 1, 1], [1, 1, 1]]);
  assert.is(k.zeros([2], { device: 'cpu' }).device, 'cpu');
  const made = [k.full([2], 7, { device: 'webgpu', dtype: 'int32' }), k.arange(4, { device: 'webgpu' }), k.randn([3], { device: 'webgpu' }), k.zerosLike(k.ones([2]), { device: 'webgpu' })];
  for (const t of made) assert.is(t.device, 'webgpu');
  assert.equal(await made[0]!.array(), [7, 7]);
});

test('eager ops on device tensors match the CPU kernels, and stay on the device', async () => {
  const x = uniform([6, 33]);
  const w = uniform([33, 5]);
  const programs: [string, (a: k.Tensor, b: k.Tensor) => k.Tensor][] = [
    ['a chain', (a) => a.mul(2).add(1).relu().exp().log1p()],
    ['softmax', (a) => a.softmax(-1)],
    ['a reduction with keepdim', (a) => a.sum(1, { keepdim: true }).sub(a.amax(0))],
    ['matmul', (a, b) => a.matmul(b).tanh()],
    ['views', (a) => a.transpose(0, 1).narrow(0, 3, 10).mul(a.slice(1, 0, 10).transpose(0, 1))],
    ['comparisons and where', (a) => k.where(a.gt(0.5), a, a.neg()).argmax(1).to('float32')],
  ];
  const [dx, dw] = [x.to('webgpu'), w.to('webgpu')];
  for (const [what, f] of programs) {
    const got = f(dx, dw);
    assert.is(got.device, 'webgpu', what);
    assertClose(await got.cpu(), f(x, w), 1e-5, what);
  }
  // a second size reuses the cached programs (their guards admit it) and is still right
  const y = uniform([3, 40]);
  assertClose(await y.to('webgpu').softmax(-1).cpu(), y.softmax(-1), 1e-5, 'softmax at another size');
});

test('synchronous reads, mixed devices, data-dependent sizes and float64 raise errors that name the way out', async () => {
  const d = uniform([2, 3]).to('webgpu');
  assert.throws(() => d.toArray(), (e: Error) => e instanceof k.KilnError && /await t\.data\(\)/.test(e.message));
  assert.throws(() => d.item(), (e: Error) => /webgpu/.test(e.message));
  assert.throws(() => d.to('cpu'), (e: Error) => /await t\.cpu\(\)/.test(e.message));
  assert.throws(() => d.add(uniform([2, 3])), (e: Error) => /webgpu and cpu/.test(e.message));
  assert.throws(() => d.gt(0).nonzero(), (e: Error) => /depends on the data/.test(e.message));
  assert.throws(() => k.zeros([2], { dtype: 'float64' }).to('webgpu'), (e: Error) => /float64/.test(e.message));
  assert.match(String(d), /webgpu/);
});

test('steady use does not grow the buffer pool (10,000 cached calls)', async () => {
  const { coreGraph } = traceOps((a: k.Tensor, b: k.Tensor) => a.mul(b).add(1).sum(1), [uniform([4, 8]), uniform([4, 8])], { dynamic: true });
  const compiled = compileGraphForWebGpu(coreGraph, gpu!);
  const [a, b] = [uniform([4, 8]), uniform([4, 8])];
  const want = a.mul(b).add(1).sum(1);
  for (let i = 0; i < 50; i++) await compiled.program.run([a, b]);
  const created = gpu!.pool.created;
  for (let i = 0; i < 10_000; i++) {
    const [got] = (await compiled.program.run([a, b])) as k.Tensor[];
    if (i % 2500 === 0) assertClose(got!, want, 1e-5, `call ${i}`);
  }
  assert.is(gpu!.pool.created, created, 'buffers created after warm-up');
});

Device.run();
