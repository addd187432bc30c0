// The persistent compile cache with the WebGPU backend, through core's cache hooks (an in-memory store stands
// in for @kiln/plugin-cache): a program's lowered form and its WGSL are kept, and a later compile of the same
// graph loads them instead of lowering and generating WGSL again, with eager's results on the GPU.
// (plugins/cache/test/coverage.test.ts does the same across fresh processes.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { fileURLToPath } from 'node:url';
import { createCompiler, explain, reset } from '@kiln/core';
import type { Compiler } from '@kiln/core';
import '@kiln/backend-cpu';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
// @ts-expect-error a plain JavaScript fixture, without types
import { makeBlock } from './fixtures/cached-block.mjs';
import { assertClose, noDevice, suiteDone, suiteStarted, uniform, withLogs } from './support.js';

const Cache = suite('backend-webgpu: the persistent compile cache');
suiteStarted();
Cache.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Cache.skip(name, body) : Cache(name, body));

const store = new Map<string, Uint8Array>();
const memoryCache = {
  name: 'memory-cache',
  apply(c: Compiler) {
    c.hooks.compileCacheLoad.tap('memory-cache', (key) => store.get(key.text));
    c.hooks.compileCacheStore.tap('memory-cache', (key, payload) => void store.set(key.text, payload));
  },
};
// The fixture lives in a Kiln package folder, which the policy skips as Kiln internals: the config marks it
// user code (a config rule is part of the cache key; a process-wide inline() call would turn the cache off).
const compiler = (await createCompiler({ policy: { inline: [`${fileURLToPath(new URL('./fixtures', import.meta.url))}/**`] } })).use(webgpuBackendPlugin).use(memoryCache);
const block = makeBlock(uniform([8, 4])) as (x: k.Tensor) => k.Tensor;

test('a WebGPU program is kept and loaded: no lowering or WGSL generation, the same WGSL, results equal eager', async () => {
  await compiler.ready();
  const log = await withLogs('cache', async () => {
    const x = uniform([5, 8]);
    const first = explain(block, { compiler })(x);
    assert.is(first.backends[0]!.backend, 'webgpu');
    const firstPhases = Object.keys(first.compilePhasesMs[0] ?? {});
    assert.ok(firstPhases.includes('lower') && firstPhases.includes('wgsl'), `first compile lowers and generates WGSL: ${firstPhases.join(', ')}`);
    // Whether the frame itself is kept depends on the process (a test run sharing it with inline() calls turns
    // the frame level off); the frame level is the same code for every backend and is tested with the plugin.
    reset();
    const second = explain(block, { compiler })(x);
    const phases = Object.keys(second.compilePhasesMs[0] ?? {});
    assert.ok(phases.includes('load') && !phases.includes('lower') && !phases.includes('wgsl'), `second compile loads the program: ${phases.join(', ')}`);
    assert.is(second.backends[0]!.backend, 'webgpu');
    assert.is(second.backends[0]!.code, first.backends[0]!.code, 'the same program and WGSL');
    assertClose(await (second.result as k.Tensor).cpu(), block(x), 1e-5, 'loaded program on the GPU');
    // Other input sizes run the loaded program with its sizes as parameters (or a new compile): still eager's.
    const y = uniform([7, 8]);
    assertClose(await (explain(block, { compiler })(y).result as k.Tensor).cpu(), block(y), 1e-5, 'another batch');
  });
  assert.not.match(log, /backend webgpu: programs not kept/);
});

Cache.run();
