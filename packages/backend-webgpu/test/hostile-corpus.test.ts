// The hostile-input corpus (packages/kiln/test/hostile: keys, names, labels, class names, check() messages
// that end up near generated JS, WGSL and wasm) compiled for the WebGPU backend, through a compiler that
// loads its plugin: the same programs as on eager and CPU, each compared with plain eager JS (results read
// back from the device), with no payload run and no prototype touched. Skipped, saying why, without an adapter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Compiler, compile, explain, reset } from '@kiln/core';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { CANARY, prototypeSnapshot } from '../../kiln/test/hostile/corpus.js';
import { GENERATORS, type HostileTarget } from '../../kiln/test/hostile/generators.js';
import { noDevice, readBack, suiteDone, suiteStarted } from './support.js';

const Hostile = suite('backend-webgpu: the hostile-input corpus against eager');
suiteStarted();
Hostile.after(suiteDone);

const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
const webgpu: HostileTarget = {
  backend: 'webgpu',
  compile: (fn, options = {}) => compile(fn, { ...options, compiler: gpuCompiler, backend: 'webgpu' }),
  explain: (fn) => explain(fn, { compiler: gpuCompiler, backend: 'webgpu' }),
  read: readBack,
};

/**
 * Generators whose webgpu result differs from eager today, with the reason: real bugs, reported to the
 * coordinator (engineer gpufix fixes WebGPU results), left out so the rest guards against regressions.
 * Remove a name when its bug is fixed.
 */
const KNOWN_DIFFERENT = new Map<string, string>([
  // A fused kernel binds one storage buffer per input: 69 (and 32) inputs summed in one expression pass the
  // adapter's maxStorageBuffersPerShaderStage (16 on lavapipe, 8 on many GPUs), and the call raises a raw
  // GPUPipelineError ("The number of storage buffers (69) in the Compute stage exceeds the maximum per-stage
  // limit (16)") where eager returns the sum. Fusion must split kernels at the binding limit (or run such a
  // node as an eager step); CPU is unaffected (wasm takes pointers).
  ['guards: hostile property names of an input object', 'a fused kernel with 69 inputs passes the 16 storage buffers per stage limit (raw GPUPipelineError)'],
  ['guards and logs: hostile class and function names', 'a fused kernel with 32 inputs passes the 16 storage buffers per stage limit (raw GPUPipelineError)'],
]);

for (const generator of GENERATORS.filter((g) => g.perBackend)) {
  const reason = noDevice ?? KNOWN_DIFFERENT.get(generator.name);
  if (reason) {
    Hostile.skip(generator.name, () => undefined);
    console.error(`[backend-webgpu hostile corpus] skipped '${generator.name}': ${reason}`);
    continue;
  }
  Hostile(`${generator.name} (backend webgpu)`, async () => {
    await gpuCompiler.ready();
    const before = prototypeSnapshot();
    await generator.run(webgpu);
    assert.is((globalThis as Record<string, unknown>)[CANARY], undefined, 'a payload ran');
    assert.is(prototypeSnapshot(), before, 'a built-in prototype gained or lost a property');
    assert.is(({} as Record<string, unknown>).polluted, undefined);
    reset();
  });
}

Hostile.run();
