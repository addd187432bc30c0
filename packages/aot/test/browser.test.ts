// The AOT modules of the demo MLP and transformer block, and @kiln/tensor's eager ops, in headless
// Chromium (and the WebGPU MLP module where Chromium has an adapter: Chromium's own SwiftShader Vulkan gives
// one headless): the page runs them on inputs made in Node and posts the outputs back; they must equal what
// eager Kiln computes in Node. Skipped, with the reason, where no Chromium is installed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import * as k from '@kiln/tensor';
import { Dim, exportProgram } from '@kiln/export';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { aotCompile, writeAotModule } from '../src/index.js';
import { assertClose, tempDir } from './support.js';
import { PAGE, noChromium, pageResult, serveFolder } from './browser-support.js';

const test = suite('aot modules and eager tensors in headless Chromium');

const list = (t: k.Tensor) => Array.from(t.toTypedArray() as Float32Array);

test('MLP (weights inlined) and transformer block (weights fetched) equal eager in Node; eager tensors run in the page', async () => {
  if (noChromium) {
    console.log(`  skipped: ${noChromium}`);
    return;
  }
  const dir = tempDir('kiln-aot-browser-');
  const mlp = new MLP([4, 32, 4]);
  const block = new TransformerBlock(32, 4);
  const mlpProgram = exportProgram((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], { dims: [{ 0: Dim('batch') }] });
  const blockProgram = exportProgram((x: k.Tensor) => block.forward(x), [k.randn([1, 16, 32])], { dims: [{ 1: Dim('seq', { max: 128 }) }] });
  await writeAotModule(await aotCompile(mlpProgram), join(dir, 'mlp.mjs'));
  await writeAotModule(await aotCompile(blockProgram, { weights: 'file', weightsFile: 'block.safetensors' }), join(dir, 'block.mjs'));
  await writeAotModule(await aotCompile(mlpProgram, { backend: 'webgpu' }), join(dir, 'mlp-webgpu.mjs'));
  // @kiln/tensor bundled for the browser, as a user's bundler would (tests run from source).
  await build({ stdin: { contents: "export * from '@kiln/tensor';", resolveDir: import.meta.dirname, loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', conditions: ['kiln-source'], outfile: join(dir, 'tensor.mjs'), logLevel: 'silent' });

  const x = k.randn([5, 4]);
  const seq = k.randn([1, 9, 32]);
  const a = k.randn([3, 6]), w = k.randn([6, 2]);
  writeFileSync(join(dir, 'index.html'), PAGE(`
    const x = ${JSON.stringify(list(x))}, seq = ${JSON.stringify(list(seq))};
    const mlp = await (await import('./mlp.mjs')).load();
    const block = await (await import('./block.mjs')).load();
    const k = await import('./tensor.mjs');
    const eager = k.tensor(${JSON.stringify(list(a))}).reshape([3, 6]).matmul(k.tensor(${JSON.stringify(list(w))}).reshape([6, 2])).softmax(-1);
    return {
      mlp: Array.from(mlp({ data: Float32Array.from(x), shape: [5, 4] }).data),
      block: Array.from(block({ data: Float32Array.from(seq), shape: [1, 9, 32] }).data),
      eager: Array.from(eager.toTypedArray()),
      webgpu: await (async () => {
        if (!navigator.gpu) return { skipped: 'this Chromium exposes no navigator.gpu' };
        // requestAdapter() can stay pending in a headless browser: give up after 60 s of real time (SwiftShader
        // compiles the pipelines on the CPU, slowly on a loaded machine).
        const late = new Promise((_, reject) => setTimeout(() => reject(new Error('no WebGPU adapter within 60 s')), 60000));
        let gpuMlp;
        try { gpuMlp = await Promise.race([(await import('./mlp-webgpu.mjs')).load(), late]); }
        catch (e) { if (/no WebGPU adapter/.test(e.message)) return { skipped: 'Chromium exposes navigator.gpu, but gives no adapter (' + e.message + ')' }; throw e; }
        const info = (await navigator.gpu.requestAdapter())?.info;
        return { adapter: info ? info.vendor + ' ' + info.architecture : 'unknown', data: Array.from((await gpuMlp({ data: Float32Array.from(x), shape: [5, 4] })).data) };
      })(),
    };
  `));
  const server = await serveFolder(dir);
  try {
    const result = JSON.parse(await pageResult(server, 'index.html', ['--enable-unsafe-webgpu'])) as { mlp: number[]; block: number[]; eager: number[]; webgpu: { skipped?: string; adapter?: string; data?: number[] }; error?: string };
    if (result.error) assert.unreachable(`the page failed: ${result.error}`);
    assertClose(result.mlp, list(mlp.forward(x)), 'MLP in Chromium');
    assertClose(result.block, list(block.forward(seq)), 'transformer block in Chromium', 1e-4);
    assertClose(result.eager, list(a.matmul(w).softmax(-1)), '@kiln/tensor eager in Chromium');
    if (result.webgpu.skipped) console.log(`  WebGPU AOT module in Chromium skipped: ${result.webgpu.skipped}`);
    else {
      assertClose(result.webgpu.data!, list(mlp.forward(x)), 'WebGPU MLP in Chromium', 1e-4);
      console.log(`  WebGPU AOT module in Chromium ran on adapter: ${result.webgpu.adapter}`);
    }
  } finally {
    await server.close();
  }
});

test.run();
