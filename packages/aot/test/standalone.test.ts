// The module stands alone: the runtime bundle is small and imports nothing (no node: module, no tracer,
// acorn or mathjs), and the module runs in a fresh folder with no Kiln package, in a fresh Node process,
// with its weights inlined or in a .safetensors file beside it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k from '@kiln/tensor';
// @ts-expect-error: the demo's models are plain JS
import { MLP } from '../../../examples/models.mjs';
import { bundleRuntime } from '../src/index.js';
import { EAGER_KERNELS_ENTRY, RUNTIME_ENTRY, bundleModule } from '../src/compile/bundle.js';
import { assertClose, compileAndLoad, tempDir } from './support.js';

const RUNTIME_LIMIT_BYTES = 30 * 1024;

const runtime = suite('aot runtime bundle');

runtime('is at most 30 KB minified and imports nothing', async () => {
  const { code, bytes } = await bundleRuntime();
  console.log(`  aot cpu runtime: ${(bytes / 1024).toFixed(1)} KB minified (limit ${RUNTIME_LIMIT_BYTES / 1024} KB)`);
  assert.ok(bytes <= RUNTIME_LIMIT_BYTES, `runtime is ${bytes} bytes`);
  assert.not.match(code, /\bimport\s*[\w{*(]|\bfrom\s*["']|require\(/, 'no import or require in the runtime');
  for (const word of ['acorn', 'mathjs', 'node:inspector', 'ModuleBuilder', 'emitPointwise', 'traceOps']) assert.not.ok(code.includes(word), `runtime contains ${word}`);
});

runtime('with every eager kernel a module may carry, still at most 30 KB minified', async () => {
  const [{ bytes: base }, { bytes }] = [await bundleRuntime(), await bundleModule(`export * from ${JSON.stringify(RUNTIME_ENTRY)}; export * from ${JSON.stringify(EAGER_KERNELS_ENTRY)};`)];
  console.log(`  aot cpu runtime with all eager kernels: ${(bytes / 1024).toFixed(1)} KB minified (the kernels: ${((bytes - base) / 1024).toFixed(1)} KB)`);
  assert.ok(bytes <= RUNTIME_LIMIT_BYTES, `runtime with eager kernels is ${bytes} bytes`);
});

runtime.run();

const fresh = suite('aot module in a fresh folder, fresh process, no Kiln installed');

/** Runs `script` with node in `dir` (an ES module); returns its stdout. */
const runNode = (dir: string, script: string): string => {
  writeFileSync(join(dir, 'main.mjs'), script);
  return execFileSync(process.execPath, [join(dir, 'main.mjs')], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
};

for (const weights of ['inline', 'file'] as const) {
  fresh(`weights ${weights}: outputs equal eager`, async () => {
    const mlp = new MLP([4, 16, 3]);
    const { path, compiled } = await compileAndLoad((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], { weights });
    const dir = tempDir('kiln-aot-fresh-');
    copyFileSync(path, join(dir, 'model.mjs'));
    if (compiled.weightsFile) copyFileSync(join(dirname(path), compiled.weightsFile.name), join(dir, compiled.weightsFile.name));
    // No node_modules above a temp folder: the module finds no Kiln package to lean on.
    assert.not.ok(existsSync(join(dir, 'node_modules')));
    const x = k.randn([5, 4]);
    const out = runNode(dir, `
      import { load } from './model.mjs';
      let kiln = 'absent';
      try { await import('@kiln/tensor'); kiln = 'present'; } catch {}
      const model = await load();
      const out = model({ data: new Float32Array(${JSON.stringify(Array.from(x.toTypedArray()))}), shape: [5, 4] });
      console.log(JSON.stringify({ kiln, shape: out.shape, data: Array.from(out.data) }));
    `);
    const got = JSON.parse(out) as { kiln: string; shape: number[]; data: number[] };
    assert.is(got.kiln, 'absent');
    assert.equal(got.shape, [5, 3]);
    assertClose(got.data, mlp.forward(x).toTypedArray(), `fresh process, weights ${weights}`);
  });
}

fresh('eager steps (nonzero, float64 math) run in a fresh process with no Kiln installed', async () => {
  const fn = (x: k.Tensor) => [x.gt(0).nonzero(), x.to('float64').exp().sum(1).to('float32')];
  const { path } = await compileAndLoad(fn, [k.randn([4, 3])]);
  const dir = tempDir('kiln-aot-fresh-');
  copyFileSync(path, join(dir, 'model.mjs'));
  const x = k.randn([6, 3]);
  const out = runNode(dir, `
    import { load } from './model.mjs';
    const model = await load();
    const [idx, sums] = model({ data: new Float32Array(${JSON.stringify(Array.from(x.toTypedArray()))}), shape: [6, 3] });
    console.log(JSON.stringify({ idx: { shape: idx.shape, data: Array.from(idx.data) }, sums: Array.from(sums.data) }));
  `);
  const got = JSON.parse(out) as { idx: { shape: number[]; data: number[] }; sums: number[] };
  const [idx, sums] = fn(x);
  assert.equal(got.idx.shape, idx!.shape);
  assert.equal(got.idx.data, Array.from(idx!.toTypedArray()));
  assertClose(got.sums, sums!.toTypedArray(), 'float64 sums in a fresh process', 1e-6);
});

fresh('a missing or corrupt weights file is an AotLoadError naming it', async () => {
  const mlp = new MLP([4, 8, 2]);
  const { path, compiled } = await compileAndLoad((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], { weights: 'file', weightsFile: 'w.safetensors' });
  const dir = tempDir('kiln-aot-fresh-');
  copyFileSync(path, join(dir, 'model.mjs'));
  const out = runNode(dir, `
    import { load } from './model.mjs';
    const result = [];
    try { await load(); } catch (e) { result.push(e.name + ': ' + e.message.split('\\n')[0]); }
    try { await load({ weights: Uint8Array.of(255, 1, 0, 0, 0, 0, 0, 0, 123) }); } catch (e) { result.push(e.name + ': ' + e.message.split('\\n')[0]); }
    console.log(JSON.stringify(result));
  `);
  const [missing, corrupt] = JSON.parse(out) as string[];
  assert.match(missing!, /^AotLoadError: cannot read file:.*\/w\.safetensors/);
  assert.match(corrupt!, /^AotLoadError: weights blob: its header runs past the end/);
  assert.ok(compiled.weightsFile!.bytes.length > 0);
});

fresh.run();
