// loadProgram on the WebGPU backend (Mesa's lavapipe here; skipped, with the reason, where no adapter
// exists): the saved demo MLP compiled through the backend contract for WebGPU, run at batch sizes the export
// never saw, read back and compared with eager. The device comes from the WebGPU tests' shared support.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import { Compiler } from '@kiln/core';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import type { Tensor } from '@kiln/tensor';
import { Dim, exportProgram, loadProgram, saveProgram } from '@kiln/export';
// @ts-expect-error: plain JavaScript demo models
import { MLP, input } from '../../../examples/models.mjs';
import { noDevice, suiteDone, suiteStarted } from '../../backend-webgpu/test/support.js';

const Gpu = suite('export: a loaded program on the WebGPU backend');
suiteStarted();
Gpu.after(suiteDone);

// Without an adapter the support module prints why, and the test is reported as skipped.
const test = noDevice ? Gpu.skip : Gpu;

test('the saved MLP runs on webgpu at new batch sizes and equals eager', async () => {
  const gpu = new Compiler().use(webgpuBackendPlugin);
  await gpu.ready();
  const model = new MLP([4, 16, 3]);
  const bytes = saveProgram(exportProgram((x: Tensor) => model.forward(x), [input([4, 4])], { dims: [{ 0: Dim('batch', { min: 1, max: 64 }) }] }));
  const run = loadProgram(bytes, { compiler: gpu, backend: 'webgpu' });
  assert.is(run.backend, 'webgpu');
  for (const n of [1, 9]) {
    const x = input([n, 4]);
    const out = run(x) as Tensor;
    assert.is(out.device, 'webgpu');
    const host = await out.cpu();
    assert.ok((host.sub(model.forward(x)).abs().max().item() as number) < 1e-5, `batch ${n}`);
  }
});

Gpu.run();
