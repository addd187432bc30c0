// WebGPU AOT modules in Node (Dawn from the `webgpu` package; lavapipe where there is no GPU): the demo
// MLP and a program with int32/bool outputs equal eager. Skipped, with the reason,
// where no adapter exists.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k from '@kiln/tensor';
import { Dim, exportProgram } from '@kiln/export';
// @ts-expect-error: the demo's models are plain JS
import { MLP } from '../../../examples/models.mjs';
import { aotCompile, bundleRuntime, writeAotModule } from '../src/index.js';
import { assertClose, tempDir } from './support.js';

// Dawn's GPU object must outlive its devices: held for the whole test file.
const gpu = ((await import('webgpu')) as { create(flags: string[]): GPU }).create([]);
const adapter = await gpu.requestAdapter();
const noAdapter = adapter ? undefined : 'no WebGPU adapter (no GPU and no Vulkan driver; scripts/setup-webgpu.sh installs lavapipe)';

type GpuModel = ((...args: unknown[]) => Promise<unknown>) & { device: GPUDevice };
const devices: GPUDevice[] = [];

async function loadGpuModule(fn: (...a: never[]) => unknown, example: unknown[], dims?: object[]): Promise<GpuModel> {
  const compiled = await aotCompile(exportProgram(fn as (...a: unknown[]) => unknown, example, dims ? { dims: dims as never } : { dynamic: true }), { backend: 'webgpu' });
  assert.is(compiled.plan.backend, 'webgpu');
  const [path] = await writeAotModule(compiled, join(tempDir(), 'model.mjs'));
  const model = (await (await import(pathToFileURL(path!).href)).load({ gpu })) as GpuModel;
  devices.push(model.device);
  return model;
}

const test = suite('aot webgpu modules');

test('the WebGPU runtime bundle imports nothing', async () => {
  const { code, bytes } = await bundleRuntime('webgpu');
  console.log(`  aot webgpu runtime: ${(bytes / 1024).toFixed(1)} KB minified`);
  assert.not.match(code, /\bimport\s*[\w{*(]|\bfrom\s*["']|require\(/);
});

test('in-place writes: an argument array and a running-mean buffer updated call after call, as eager', async () => {
  if (noAdapter) return void console.log(`  skipped: ${noAdapter}`);
  const model = { runningMean: k.zeros([4]) };
  const eagerModel = { runningMean: k.zeros([4]) };
  const step = (m: { runningMean: k.Tensor }) => (acc: k.Tensor, x: k.Tensor) => {
    m.runningMean.mul_(0.9).add_(x.mean(0).mul(0.1));
    acc.add_(x);
    return x.sub(m.runningMean);
  };
  const gpuModel = await loadGpuModule(step(model), [k.randn([8, 4]), k.randn([8, 4])], [{ 0: Dim('batch') }, { 0: Dim('batch') }]);
  const eager = step(eagerModel);
  for (const n of [8, 3]) {
    const [acc, x] = [k.randn([n, 4]), k.randn([n, 4])];
    const accArray = acc.toTypedArray() as Float32Array;
    const out = (await gpuModel(accArray, x.toTypedArray())) as { data: Float32Array };
    assertClose(out.data, eager(acc, x).toTypedArray(), `result at batch ${n}`);
    assertClose(accArray, acc.toTypedArray(), `written argument at batch ${n}`);
  }
});

test('the MLP equals eager at several sizes', async () => {
  if (noAdapter) return void console.log(`  skipped: ${noAdapter}`);
  const mlp = new MLP([4, 32, 4]);
  const mlpModel = await loadGpuModule((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], [{ 0: Dim('batch') }]);
  for (const batch of [2, 13]) {
    const x = k.randn([batch, 4]);
    const out = (await mlpModel(x)) as k.Tensor;
    assert.equal(out.shape, [batch, 4]);
    assertClose(out.toTypedArray(), mlp.forward(x).toTypedArray(), `MLP batch ${batch} on WebGPU`, 1e-4);
  }
  // The transformer block runs in the browser test and on the CPU; here each new WGSL kernel costs
  // lavapipe seconds of LLVM compile at its first dispatch, so one model is enough.
  const x = k.randn([7, 4]);
  const arrays = (await mlpModel({ data: x.toTypedArray(), shape: [7, 4] })) as { data: Float32Array; shape: number[] };
  assertClose(arrays.data, mlp.forward(x).toTypedArray(), 'MLP with a typed-array argument on WebGPU', 1e-4);
});

test('int32 and bool outputs come back in their CPU layout', async () => {
  if (noAdapter) return void console.log(`  skipped: ${noAdapter}`);
  const model = await loadGpuModule((a: k.Tensor) => ({ twice: a.add(a), positive: a.gt(0) }), [k.tensor([[1, -2, 3], [4, 5, -6]], { dtype: 'int32' })]);
  const a = k.tensor([[7, -1, 0], [2, -3, 9], [1, 1, -1]], { dtype: 'int32' });
  const out = (await model(a)) as { twice: k.Tensor; positive: k.Tensor };
  assert.equal(Array.from(out.twice.toTypedArray()), [14, -2, 0, 4, -6, 18, 2, 2, -2]);
  assert.is(out.positive.dtype, 'bool');
  assert.equal(Array.from(out.positive.toTypedArray()), [1, 0, 0, 1, 0, 1, 1, 1, 0]);
});

test.after(() => {
  for (const d of devices) d.destroy();
});

test.run();
