// What a compiled webgpu call hands back besides fresh tensors: views of its outputs (core builds them over
// the output's buffer; they are webgpu tensors, strided or offset, and read back and feed later ops like
// any device tensor), arguments written in place, and device results read with `.item()` after a break.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, noDevice, suiteDone, suiteStarted, uniform } from './support.js';

const Aliasing = suite('backend-webgpu: views, in-place writes and item() around compiled calls');
suiteStarted();
Aliasing.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Aliasing.skip(name, body) : Aliasing(name, body));
const gpuCompiler = new Compiler().use(webgpuBackendPlugin);

test('views of a result are webgpu tensors over its buffer: they read back and feed eager and compiled ops', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor) => {
    const y = x.mul(2);
    const [a, b] = y.split([1, 2], 1);
    return { y, t: y.transpose(0, 1), a, b, row: y.select(0, 1) };
  };
  const x = uniform([4, 3]);
  const got = compile(f, { compiler: gpuCompiler })(x);
  const want = f(x);
  for (const key of ['y', 't', 'a', 'b', 'row'] as const) {
    assert.is(got[key].device, 'webgpu', key);
    assertClose(await got[key].cpu(), want[key], 0, key);
  }
  // aliasing as in eager: the pieces share the result's storage
  assert.ok(got.t.storage === got.y.storage && got.b.storage === got.y.storage);
  assert.ok(!got.t.isContiguous() && got.b.offset === 1);
  // a strided view as the input of an eager op and of another compiled call (copied densely on the GPU)
  assertClose(await got.t.exp().cpu(), want.t.exp(), 1e-6, 'eager op on a transposed view');
  assertClose(await got.b.sum(0).cpu(), want.b.sum(0), 1e-6, 'eager reduction on an offset view');
  const g = compile((a: k.Tensor, b: k.Tensor) => a.matmul(b), { compiler: gpuCompiler });
  assertClose(await g(got.t, got.y).cpu(), want.t.matmul(want.y), 1e-5, 'compiled call on views');
});

test('in-place ops on webgpu tensors write through views, as eager does; clones keep their values', async () => {
  const x = uniform([4, 5]);
  const d = x.to('webgpu');
  const kept = d.clone();
  const t = d.transpose(0, 1); // a view made on the CPU side of core's templates is the same thing
  const version = d.storage.version;
  d.add_(1).mul_(2);
  d.narrow(1, 1, 2).fill_(-3);
  d.select(0, 2).copy_(k.arange(5).to('float32')); // a CPU src is uploaded, as PyTorch's copy_ does
  const mask = uniform([4, 5]).gt(1.5);
  d.maskedFill_(mask.to('webgpu'), 9);
  d.clamp_(-2, 8);
  const want = x.clone();
  want.add_(1).mul_(2);
  want.narrow(1, 1, 2).fill_(-3);
  want.select(0, 2).copy_(k.arange(5).to('float32'));
  want.maskedFill_(mask, 9);
  want.clamp_(-2, 8);
  assert.is(d.device, 'webgpu');
  assert.ok(d.storage.version > version, 'the version counter moves, as for eager writes');
  assertClose(await kept.cpu(), x, 0, 'a clone taken before the writes');
  const got = await d.cpu();
  assertClose(got, want, 1e-6, 'the written tensor');
  assertClose((await t.cpu()).transpose(0, 1), got, 0, 'a view taken before the writes sees them');
  assert.throws(() => uniform([2]).copy_(d.select(0, 0).narrow(0, 0, 2)), (e: Error) => /await src\.cpu\(\)/.test(e.message));
});

test('a compiled call that writes into its arguments: webgpu ones stay there, CPU ones move to webgpu with the values', async () => {
  await gpuCompiler.ready();
  const f = (a: k.Tensor, b: k.Tensor) => {
    a.add_(b).mul_(2);
    b.mul_(0); // (zero_ has no out-of-place form: a graph break, after which the argument would stay on the CPU)
    return a.sum();
  };
  const g = compile(f, { compiler: gpuCompiler });
  for (const onGpu of [false, true]) {
    const [a, b] = [uniform([3, 4]), uniform([3, 4])];
    const [ea, eb] = [a.clone(), b.clone()];
    const want = f(ea, eb);
    const [ga, gb] = onGpu ? [a.to('webgpu'), b.to('webgpu')] : [a, b];
    const got = g(ga, gb);
    assert.is(ga.device, 'webgpu');
    assertClose(await got.cpu(), want, 1e-5, 'result');
    assertClose(await ga.cpu(), ea, 1e-6, 'a after the call');
    assertClose(await gb.cpu(), eb, 0, 'b after the call');
  }
});

test('item() in the part of a frame run eagerly at a graph break reads the graph before it, as eager does', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor) => {
    let h = x.mul(3).relu();
    while ((h.max().item() as number) > 1) h = h.mul(0.5);
    const big = (h.sum().item() as number) > 2;
    return big ? h.add(1) : h.sub(1);
  };
  const g = compile(f, { compiler: gpuCompiler });
  for (const x of [uniform([4, 3]), uniform([2, 7], -1, 0.2), uniform([4, 3])]) assertClose(await g(x).cpu(), f(x), 1e-6, `[${x.shape}]`);
});

Aliasing.run();
