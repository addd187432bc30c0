// The CPU handoff (runtime/handoff.ts): small webgpu tensors made from JS data stay on the host, and eager
// ops and compiled calls whose inputs are all such tensors run on the CPU's eager kernels — no dispatch, no
// submit, no readback — returning webgpu tensors equal to eager. Larger inputs, inputs already in a GPU
// buffer, and a limit of 0 take the device path. The limit is configurable and checked.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import '@kiln/backend-cpu';
import { configureWebGpu, DEFAULT_CPU_HANDOFF_ELEMENTS, webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, gpu, noDevice, suiteDone, suiteStarted, uniformSequence } from './support.js';

const Handoff = suite('backend-webgpu: the CPU handoff for small host-resident inputs');
suiteStarted();
Handoff.before(() => void configureWebGpu({ cpuHandoffElements: DEFAULT_CPU_HANDOFF_ELEMENTS }));
Handoff.after(() => {
  configureWebGpu({ cpuHandoffElements: 0 }); // as support.ts leaves it for the other suites
  suiteDone();
});
const test = (name: string, body: () => Promise<void>) => (noDevice ? Handoff.skip(name, body) : Handoff(name, body));
const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
const uniform = uniformSequence(11);

/** What the device was asked to do while `body` ran. */
async function deviceWork<T>(body: () => Promise<T>): Promise<{ result: T; dispatches: number; submits: number; readbacks: number; cpuCalls: number; cpuPrograms: number }> {
  const before = { ...gpu!.stats };
  const result = await body();
  const s = gpu!.stats;
  return { result, dispatches: s.dispatches - before.dispatches, submits: s.submits - before.submits, readbacks: s.readbacks - before.readbacks, cpuCalls: s.cpuCalls - before.cpuCalls, cpuPrograms: s.cpuPrograms - before.cpuPrograms };
}

function block(x: k.Tensor, m: k.Tensor) {
  const h = x.mul(2).add(1).relu();
  return { out: h.softmax(-1), total: h.sum(), picked: k.where(m, h, h.neg()), back: x.transpose(0, 1), argmax: h.argmax(1), rows: x.shape[0] };
}

test('a compiled call on small host-resident inputs runs on the CPU and equals eager', async () => {
  await gpuCompiler.ready();
  const fast = compile(block, { compiler: gpuCompiler });
  for (const rows of [4, 7, 4]) {
    const [x, m] = [uniform([rows, 9]), uniform([rows, 9]).gt(0)];
    const want = block(x, m);
    const [dx, dm] = [x.to('webgpu'), m.to('webgpu')];
    const { result: got, dispatches, submits, readbacks, cpuCalls, cpuPrograms } = await deviceWork(async () => {
      const r = fast(dx, dm);
      for (const t of [r.out, r.total, r.picked, r.back, r.argmax]) assert.is(t.device, 'webgpu');
      return { ...r, read: await Promise.all([r.out, r.total, r.picked, r.back, r.argmax].map((t) => t.cpu())) };
    });
    assert.is(dispatches + submits + readbacks, 0, `no device work for ${rows} rows`);
    assert.ok(cpuCalls >= 1);
    assert.is(cpuPrograms, cpuCalls, 'each handed-off call runs the CPU backend\'s compiled program, not the interpreter');
    assert.is(got.rows, rows);
    const [out, total, picked, back, argmax] = got.read;
    assertClose(out!, want.out, 1e-6, 'softmax (the graph runs it decomposed)');
    assertClose(total!, want.total, 1e-6, 'sum (the CPU program adds in its own order)');
    assertClose(picked!, want.picked, 0, 'where');
    assertClose(back!, want.back, 0, 'a view of the input');
    assertClose(argmax!, want.argmax, 0, 'argmax (int32)');
  }
});

test('inputs above the limit, inputs already in a GPU buffer, and a limit of 0 run on the device', async () => {
  await gpuCompiler.ready();
  const f = (x: k.Tensor) => x.mul(2).add(1).sum(-1);
  const fast = compile(f, { compiler: gpuCompiler });
  const small = uniform([4, 8]);
  const onDevice = small.to('webgpu').exp().log(); // computed: not handed off... unless its input was small
  const large = uniform([4, DEFAULT_CPU_HANDOFF_ELEMENTS]); // 4096 elements
  configureWebGpu({ cpuHandoffElements: 0 });
  const inBuffer = small.to('webgpu');
  const viaDevice = await deviceWork(async () => fast(inBuffer).cpu());
  configureWebGpu({ cpuHandoffElements: DEFAULT_CPU_HANDOFF_ELEMENTS });
  assert.ok(viaDevice.dispatches > 0 && viaDevice.cpuCalls === 0, 'a tensor uploaded with the handoff off lives in a buffer');
  assertClose(viaDevice.result, f(small), 1e-6, 'small input in a buffer');
  const big = await deviceWork(async () => fast(large.to('webgpu')).cpu());
  assert.ok(big.dispatches > 0 && big.cpuCalls === 0, 'large input');
  assertClose(big.result, f(large), 1e-5, 'large input');
  // eager ops on small host tensors are handed off too, so their result stays on the host
  const chained = await deviceWork(async () => fast(onDevice).cpu());
  assert.is(chained.dispatches, 0);
  assert.is(chained.cpuPrograms, 1, 'the handed-off call ran the CPU backend\'s compiled program');
  const input = small.exp().log();
  // The CPU program's fused sum adds in its own order: equal to the CPU backend's compiled call, bit for bit,
  // and to eager within float32 rounding.
  assertClose(chained.result, compile(f, { backend: 'cpu' })(input), 0, 'eager chain then compiled call, against the CPU backend');
  assertClose(chained.result, f(input), 1e-6, 'eager chain then compiled call, against eager');
});

test('eager ops on small host tensors run on the CPU; mixing them with device-resident tensors moves them to the GPU', async () => {
  const [a, b, i] = [uniform([5, 6]), uniform([6, 3]), uniform([5, 6], -4, 5).floor().to('int32')];
  const [da, db, di] = [a.to('webgpu'), b.to('webgpu'), i.to('webgpu')];
  const eager = await deviceWork(async () => {
    const r = [da.matmul(db).tanh(), da.add(di).amax(1), di.mul(3).sum(0), k.cat([da, da.neg()], 0)];
    return Promise.all(r.map((t) => t.cpu()));
  });
  assert.is(eager.dispatches, 0);
  assert.ok(eager.cpuCalls >= 4);
  assertClose(eager.result[0]!, a.matmul(b).tanh(), 0, 'matmul');
  assertClose(eager.result[1]!, a.add(i).amax(1), 0, 'mixed dtypes, a reduction');
  assertClose(eager.result[2]!, i.mul(3).sum(0), 0, 'int32');
  assertClose(eager.result[3]!, k.cat([a, a.neg()], 0), 0, 'cat');
  // a tensor in a GPU buffer (the handoff off when it was made) with a host one: the op runs on the GPU
  configureWebGpu({ cpuHandoffElements: 0 });
  const inBuffer = b.to('webgpu');
  configureWebGpu({ cpuHandoffElements: DEFAULT_CPU_HANDOFF_ELEMENTS });
  const mixed = await deviceWork(async () => da.matmul(inBuffer).cpu());
  assert.ok(mixed.dispatches > 0);
  assertClose(mixed.result, a.matmul(b), 1e-5, 'host tensor × device tensor');
  // the host tensor moved to the device for that op; it still reads the same
  assertClose(await da.cpu(), a, 0, 'a host tensor after it moved to the device');
});

test('writes into host-resident tensors are seen by later calls; copies made with to() do not follow the source', async () => {
  await gpuCompiler.ready();
  const fast = compile((x: k.Tensor) => x.mul(x), { compiler: gpuCompiler });
  const src = uniform([3, 4]);
  const d = src.to('webgpu');
  src.add_(100); // the device copy was taken before
  assertClose(await fast(d).cpu(), src.sub(100).mul(src.sub(100)), 1e-4, 'to() copies');
  d.add_(1);
  const want = src.sub(99);
  assertClose(await d.cpu(), want, 1e-5, 'add_ on a host-resident tensor');
  assertClose(await fast(d).cpu(), want.mul(want), 1e-4, 'a compiled call after the write');
  d.slice(1, 0, 2).mul_(0);
  const zeroed = want.clone();
  zeroed.slice(1, 0, 2).mul_(0);
  assertClose(await fast(d).cpu(), zeroed.mul(zeroed), 1e-4, 'a write through a view');
});

test('the limit is configurable and checked: configureWebGpu and KILN_WEBGPU_CPU_HANDOFF', async () => {
  assert.equal(configureWebGpu(), { cpuHandoffElements: DEFAULT_CPU_HANDOFF_ELEMENTS });
  for (const bad of [-1, 1.5, '12', NaN]) {
    assert.throws(() => configureWebGpu({ cpuHandoffElements: bad as number }), (e: Error) => e instanceof k.KilnError && /cpuHandoffElements/.test(e.message) && /whole number/.test(e.message));
  }
  assert.throws(() => configureWebGpu({ threshold: 4 } as never), (e: Error) => e instanceof k.KilnError && /unknown setting 'threshold'/.test(e.message));
  const probe = "import { configureWebGpu } from '@kiln/backend-webgpu'; try { console.log(JSON.stringify(configureWebGpu())); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }";
  const run = (value: string) => spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx/esm', '--input-type=module', '-e', probe], { env: { ...process.env, KILN_WEBGPU_CPU_HANDOFF: value }, encoding: 'utf8', cwd: import.meta.dirname }).stdout.trim();
  assert.is(run('64'), '{"cpuHandoffElements":64}');
  assert.match(run('lots'), /KilnError: KILN_WEBGPU_CPU_HANDOFF="lots": the CPU handoff limit must be a whole number/);
});

test('without a CPU backend in the process, a handed-off compiled call runs on the interpreter and equals eager', async () => {
  // A fresh process that never imports @kiln/backend-cpu: no CPU program can be made.
  const probe = [
    "import * as k from '@kiln/tensor'; import { Compiler, compile } from '@kiln/core'; import { registeredBackends } from '@kiln/lower';",
    "import { initWebGpu, webgpuBackendPlugin } from '@kiln/backend-webgpu';",
    "const status = await initWebGpu(); if (!status.ok) { console.log('no device'); process.exit(0); }",
    'const c = new Compiler().use(webgpuBackendPlugin); await c.ready();',
    'const f = (x) => x.mul(2).add(1).sum(-1);',
    "const x = k.Tensor.fromData(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * 3), [4, 8], 'float32');",
    'const got = await compile(f, { compiler: c })(x.to(\'webgpu\')).data();',
    'const { cpuCalls, cpuPrograms, dispatches } = status.gpu.stats;',
    'console.log(JSON.stringify({ cpu: registeredBackends().some((b) => b.name === \'cpu\'), cpuCalls, cpuPrograms, dispatches, same: Array.from(got).every((v, i) => v === f(x).toTypedArray()[i]) }));',
  ].join('\n');
  const out = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx/esm', '--input-type=module', '-e', probe], { env: { ...process.env, KILN_WEBGPU_CPU_HANDOFF: String(DEFAULT_CPU_HANDOFF_ELEMENTS) }, encoding: 'utf8', cwd: import.meta.dirname });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  if (line === 'no device') return;
  assert.equal(JSON.parse(line || '{}'), { cpu: false, cpuCalls: 1, cpuPrograms: 0, dispatches: 0, same: true }, out.stderr);
});

Handoff.run();
