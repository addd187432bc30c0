// compile() on the webgpu backend, through the backend contract: a compiler that loads the plugin picks it
// for `auto` (priority above the CPU), calls return webgpu tensors equal to eager, explain names the backend
// and shows each kernel's WGSL, float64 nodes run as eager steps, and data-dependent sizes run on the
// interpreter with the reason. The default compiler of the process keeps compiling for the CPU.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile, explain } from '@kiln/core';
import '@kiln/backend-cpu';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, noDevice, suiteDone, suiteStarted, uniform, withLogs } from './support.js';

const Compile = suite('backend-webgpu: compile()');
suiteStarted();
Compile.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Compile.skip(name, body) : Compile(name, body));

const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
const W = uniform([16, 8]);
function block(x: k.Tensor) {
  const h = x.matmul(W).relu();
  return { out: h.softmax(-1), total: h.sum(), rows: h.shape[0] };
}

test('auto picks webgpu where the compiler loads it; results are webgpu tensors equal to eager', async () => {
  await gpuCompiler.ready();
  const fast = compile(block, { compiler: gpuCompiler });
  for (const rows of [4, 9, 4]) {
    const x = uniform([rows, 16]);
    const got = fast(x);
    const want = block(x);
    assert.is(got.out.device, 'webgpu');
    assert.is(got.rows, rows);
    assertClose(await got.out.cpu(), want.out, 1e-5, `out, ${rows} rows`);
    assertClose(await got.total.cpu(), want.total, 1e-4, `total, ${rows} rows`);
  }
  // the process's default compiler still compiles for the CPU
  const onCpu = compile(block)(uniform([3, 16]));
  assert.is(onCpu.out.device, 'cpu');
});

test('explain names the webgpu backend and prints the WGSL of each kernel', async () => {
  await gpuCompiler.ready();
  const report = explain(block, { compiler: gpuCompiler })(uniform([5, 16]));
  assert.is(report.backends[0]!.backend, 'webgpu');
  assert.ok(report.backends[0]!.kernels >= 2, 'matmul and the softmax/sum reductions');
  assert.match(report.backends[0]!.code ?? '', /@compute @workgroup_size/);
  assert.ok(report.availableBackends.some((b) => String(b).includes('webgpu')), String(report.availableBackends));
});

test('KILN_LOGS=output_code prints the WGSL of each kernel, not the loop program', async () => {
  await gpuCompiler.ready();
  const out = await withLogs('output_code', () => compile((x: k.Tensor) => x.mul(3).exp().sum(), { compiler: gpuCompiler })(uniform([6])));
  assert.match(out, /output_code: \/\/ backend webgpu: 1 kernel\n/);
  assert.match(out, /output_code: \/\/ WGSL of \w+\n/);
  assert.match(out, /output_code: @compute @workgroup_size/);
  assert.not.match(out, /output_code: (pointwise|reduction) /, 'the generated code, not the loop program');
});

test('a float64 node runs as an eager step; the rest stays on the GPU', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor) => x.mul(2).to('float64').exp().to('float32').add(1);
  const x = uniform([7]);
  const report = explain(f, { compiler: gpuCompiler })(x);
  const steps = report.backends[0]!.eagerSteps;
  assert.ok(steps.some((s) => /float64/.test(s.reason)), JSON.stringify(steps));
  const got = compile(f, { compiler: gpuCompiler })(x);
  assertClose(await got.cpu(), f(x), 1e-5, 'float64 in the middle');
});

test('a data-dependent output size runs on the interpreter, with the reason', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor) => x.gt(0).nonzero();
  const x = uniform([12]);
  const report = explain(f, { compiler: gpuCompiler })(x);
  assert.match(report.backends[0]!.wholeGraphFallback ?? '', /depend on the data/);
  assert.equal(compile(f, { compiler: gpuCompiler })(x).toArray(), f(x).toArray());
});

Compile.run();
