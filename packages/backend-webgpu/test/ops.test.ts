// The WebGPU backend against the eager kernels: pointwise ops over special values, integer division and
// casts, views and broadcasting, reductions (NaN, ties, keepdim, several axes), fused softmax/layerNorm,
// matmul at sizes that are not multiples of the tile, gather, and one program reused across sizes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { checkOnGpu, gpu, ints, noDevice, special, suiteDone, suiteStarted, uniform } from './support.js';

const Ops = suite('backend-webgpu: ops against eager');
suiteStarted();
Ops.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Ops.skip(name, body) : Ops(name, body));

test('pointwise float ops over NaN, infinities, zeros and ties', async () => {
  await checkOnGpu(
    (x) => [x.neg(), x.abs(), x.round(), x.floor(), x.ceil(), x.sign(), x.relu(), x.sqrt(), x.reciprocal(), x.exp(), x.log()],
    [[special(18)], [special(7, 3)]],
  );
});

test('transcendental ops within 1e-5 over a range', async () => {
  const xs = uniform([4096], -8, 8);
  await checkOnGpu((x) => [x.tanh(), x.sigmoid(), x.erf(), x.gelu(), x.sin(), x.cos(), x.abs().log1p(), x.silu()], [[xs], [uniform([33], -1e-3, 1e-3)]], 2e-5);
});

test('binary ops with broadcasting, maximum/minimum with NaN, pow and atan2', async () => {
  await checkOnGpu(
    (a, b) => [a.add(b), a.sub(b), a.mul(b), a.div(b), k.maximum(a, b), k.minimum(a, b), k.atan2(a, b), a.gt(b), a.eq(b), a.ne(b), k.where(a.lt(b), a, b)],
    [[special(18).reshape([3, 6]), special(6, 4)], [uniform([5, 6]), uniform([6])]],
  );
  await checkOnGpu((a, b) => [a.pow(b), a.abs().pow(0.5), a.pow(3), a.pow(-2)], [[uniform([64], -4, 4), ints([64], -3, 3).to('float32')]], 2e-5);
});

test('int32 floor division, remainder, casts and bool logic follow eager', async () => {
  const a = ints([40], -50, 50);
  const b = ints([40], 1, 9).mul(ints([40], 0, 1).mul(2).sub(1));
  await checkOnGpu((x, y) => [x.div(y), x.remainder(y), x.mul(y).add(3), x.neg().abs(), x.gt(0).logicalAnd(y.lt(0)), x.to('float32').div(7)], [[a, b]]);
  await checkOnGpu((x) => [x.to('int32'), x.to('bool'), x.mul(1e10).to('int32')], [[special(18)]]);
});

test('division by zero, and mean/var/std over empty dims or too few elements, give NaN and infinities', async () => {
  const zeros = k.Tensor.fromData(Float32Array.from([0, -0, 0, 0, 1, -1, NaN, Infinity]), [8], 'float32');
  await checkOnGpu((a, b) => [a.div(b), a.div(0), a.remainder(b), a.div(b).floor()], [[special(8), zeros]]);
  const stats = (x: k.Tensor) => [x.mean(0), x.var(0), x.std(0), x.mean([0, 1]), x.var(1, { correction: 5 }), x.std(0, { correction: 4 })];
  // One trace each: a size-0 dim is specialized, so the empty input's program is not the 3×2 one.
  await checkOnGpu(stats, [[uniform([0, 3])]]);
  await checkOnGpu(stats, [[uniform([3, 2])]]);
});

test('a fused kernel that would bind more buffers than the device allows still matches eager', async () => {
  const n = gpu!.limits.maxStorageBuffersPerShaderStage + 4;
  const inputs = Array.from({ length: n }, (_, i) => uniform([5, 3], -i, i + 1));
  await checkOnGpu((...xs) => xs.reduce((acc, x) => acc.add(x.mul(2))), [inputs], 1e-5);
});

test('cumsum runs on the GPU as a scan (each invocation walks the scan axis in order) and matches eager', async () => {
  // float32 running sums (as on the CPU backend) against eager's float64 ones: 900 terms drift ~1e-5
  const compiled = await checkOnGpu((x) => [x.cumsum(0), x.cumsum(1), x.cumsum(-1).mul(2), x.gt(0).cumsum(0), x.flatten().cumsum(0)], [[uniform([37, 5])], [uniform([3, 300])]], 1e-4);
  assert.ok(compiled.program.program.steps.every((s) => s.kind !== 'fallback'), 'no eager step');
  await checkOnGpu((x) => [x.cumsum(1), x.cumsum(0)], [[ints([6, 9], -1000, 1000)]]);
});

test('views: transpose, slices, expand and unsqueeze read in place', async () => {
  await checkOnGpu(
    (a, b) => [a.transpose(0, 1).add(b.unsqueeze(1)), a.slice(1, 1, 5).mul(2), a.narrow(0, 2, 3).expand([2, 3, 9]).sum(0)],
    [[uniform([7, 9]), uniform([9])]],
  );
});

test('reductions: sum, prod, amax, amin, argmax, argmin, mean with keepdim and several axes', async () => {
  await checkOnGpu(
    (x) => [x.sum(1), x.sum([0, 2], { keepdim: true }), x.prod(2), x.amax(0), x.amin(-1), x.argmax(1), x.argmin(2), x.mean(), x.max()],
    [[uniform([3, 17, 300])], [uniform([1, 1, 1])], [uniform([5, 700, 2])]],
    1e-4,
  );
});

test('reductions over rows holding NaN and infinities; argmax keeps the first of ties', async () => {
  const row = (values: number[]) => k.Tensor.fromData(Float32Array.from(values), [2, values.length / 2], 'float32');
  await checkOnGpu((x) => [x.amax(1), x.amin(1), x.argmax(1), x.argmin(1)], [
    [row([1, NaN, 3, NaN, -Infinity, -Infinity, -Infinity, -Infinity])],
    [row([2, 5, 5, 1, 7, 7, -1, 7])],
    [k.zeros([3, 600])],
  ]);
});

test('fused softmax, logSoftmax and layerNorm, short and long rows', async () => {
  await checkOnGpu((x) => [x.softmax(-1), x.logSoftmax(-1), k.layerNorm(x, [x.shape[1]!])], [[uniform([8, 33], -10, 10)], [uniform([2, 3000])]], 1e-4);
});

test('matmul: edges that are not multiples of the tile, batches, a transposed operand, bias and relu', async () => {
  await checkOnGpu((a, b, c) => a.matmul(b).add(c).relu(), [[uniform([70, 50]), uniform([50, 90]), uniform([90])], [uniform([1, 3]), uniform([3, 1]), uniform([1])]], 1e-4);
  await checkOnGpu((a, b) => a.matmul(b.transpose(-2, -1)), [[uniform([3, 65, 17]), uniform([3, 129, 17])]], 1e-4);
  await checkOnGpu((a, b) => a.matmul(b), [[ints([9, 13], -5, 5), ints([13, 4], -5, 5)]]);
});

test('gather, indexSelect and embedding; an index out of range raises IndexError as in eager', async () => {
  const table = uniform([10, 4]);
  const idx = ints([6], 0, 9);
  await checkOnGpu((t, i) => [t.indexSelect(0, i), k.embedding(i, t), t.gather(1, i.remainder(4).reshape([6, 1]).expand([6, 3]).narrow(0, 0, 6))], [[table, idx]]);
  const compiled = await checkOnGpu((t, i) => t.indexSelect(0, i), [[table, idx]]);
  let raised: unknown;
  await compiled.program.run([table, k.tensor([0, 12], { dtype: 'int32' })]).catch((e: unknown) => (raised = e));
  assert.instance(raised, k.IndexError);
});

test('one program serves every size its symbols admit', async () => {
  const compiled = await checkOnGpu((x, y) => x.matmul(y).softmax(-1), [
    [uniform([4, 8]), uniform([8, 5])],
    [uniform([130, 20]), uniform([20, 70])],
    [uniform([1, 1]), uniform([1, 1])],
  ], 1e-4);
  assert.is(compiled.shaders.length, 2, 'matmul and the softmax reduction, compiled once');
});

test('a data-dependent size (nonzero) runs as an eager step between GPU kernels', async () => {
  const compiled = await checkOnGpu((x) => x.gt(0).nonzero().to('float32').sum(0).add(x.sum()), [[uniform([12])], [uniform([40])]], 1e-4);
  assert.match(compiled.report.code ?? '', /eager buf\d+ = nonzero/);
  assert.not.ok(compiled.program.launchable, 'a data-dependent size cannot be launched without waiting');
});

test('the device description is known', () => {
  assert.type(gpu!.description, 'string');
  return Promise.resolve();
});

Ops.run();
