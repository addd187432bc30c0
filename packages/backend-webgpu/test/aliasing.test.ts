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

Aliasing.run();
