// Reductions over few long rows run split (G workgroups per row, then a pass folding the partials): results
// against eager at row lengths around the rule's thresholds, for every reduction that shares the path
// (sum, mean, var, max, min, argmax/argmin with ties across chunks, softmax's three stages), one symbolic
// program serving split and whole calls, and more than 65,535 workgroups in the split passes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import '@kiln/backend-cpu';
import { reductionSplit, webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, gpu, noDevice, suiteDone, suiteStarted, uniform } from './support.js';

const Reductions = suite('backend-webgpu: split reductions against eager');
suiteStarted();
Reductions.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Reductions.skip(name, body) : Reductions(name, body));

const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
type Fn = (...xs: k.Tensor[]) => k.Tensor | k.Tensor[];

/** Runs `fn` compiled for webgpu on each input set; checks against eager; returns the dispatches per set. */
async function agree(fn: Fn, sets: k.Tensor[][], tol = 1e-5): Promise<{ dispatches: number; workgroups: number }[]> {
  await gpuCompiler.ready();
  const fast = compile(fn, { compiler: gpuCompiler, dynamic: true });
  const counts = [];
  for (const args of sets) {
    const want = [fn(...args)].flat();
    const before = { ...gpu!.stats };
    const got = [fast(...args)].flat();
    for (const [i, w] of want.entries()) assertClose(await got[i]!.cpu(), w, tol, `[${args.map((a) => a.shape.join('×'))}] output ${i}`);
    counts.push({ dispatches: gpu!.stats.dispatches - before.dispatches, workgroups: gpu!.stats.workgroups - before.workgroups });
  }
  return counts;
}

test('a full sum splits at the threshold length, not below; results equal eager on both sides', async () => {
  const t = reductionSplit.minRowLength;
  const lengths = [t - 1, t, t + 1, 1 << 20];
  const counts = await agree((x) => x.sum(), lengths.map((n) => [uniform([n], 0, 1)]));
  assert.equal(counts[0], { dispatches: 1, workgroups: 1 }, 'below the threshold: one workgroup');
  for (const [i, c] of counts.slice(1).entries()) {
    assert.is(c.dispatches, 2, `length ${lengths[i + 1]}: a partial pass and a final pass`);
    assert.ok(c.workgroups > 2, `length ${lengths[i + 1]}: several workgroups per row (${c.workgroups})`);
  }
});

test('row count at the threshold: below it rows split, at it each row keeps one workgroup', async () => {
  const rows = reductionSplit.maxRows;
  const n = reductionSplit.minRowLength * 2;
  const counts = await agree((x) => x.sum(-1), [[uniform([rows - 1, n])], [uniform([rows, n])]]);
  assert.is(counts[0]!.dispatches, 2);
  assert.equal(counts[1], { dispatches: 1, workgroups: rows });
});

test('float sums stay accurate over 4M elements (blocked accumulation)', async () => {
  // 4M values in [0, 1): a serial float32 sum drifts by ~1e-4 relative here; eager sums in float64.
  await agree((x) => [x.sum(), x.mean()], [[uniform([1 << 22], 0, 1)]], 2e-6);
});

test('max, min, argmax, argmin with ties and NaN across chunks; var and softmax over one long row', async () => {
  const n = 300_000;
  const data = uniform([n], -1, 1).toTypedArray() as Float32Array;
  // The maximum twice, in different chunks: the first index wins; the minimum at the very end.
  data[5000] = 7;
  data[200_000] = 7;
  data[n - 1] = -9;
  const x = k.Tensor.fromData(data, [n], 'float32');
  const withNan = k.Tensor.fromData(Float32Array.from(data, (v, i) => (i === 123_456 ? NaN : v)), [n], 'float32');
  const fn: Fn = (a) => [a.amax(0), a.amin(0), a.argmax(), a.argmin(), a.var(), a.softmax(-1), a.logsumexp(0)];
  const counts = await agree(fn, [[x], [withNan]], 2e-5);
  assert.ok(counts.every((c) => c.workgroups > 100), 'every reduction ran split');
});

test('int32 sums and argmax over a long row split too', async () => {
  const n = 100_000;
  const x = k.Tensor.fromData(Int32Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500), [n], 'int32');
  await agree((a) => [a.sum(), a.argmax(), a.amax(0)], [[x]]);
});

test('one symbolic program serves split calls (few long rows) and whole ones (many short rows)', async () => {
  const fn: Fn = (x) => [x.sum(-1), x.softmax(-1)];
  const counts = await agree(fn, [[uniform([2, 50_000])], [uniform([300, 40])], [uniform([3, 20_000])]]);
  assert.ok(counts[0]!.dispatches > counts[1]!.dispatches, 'long rows ran more passes than short ones');
  // Short rows: one workgroup per row for each of the two kernels, or 64 rows a workgroup on a software adapter.
  assert.is(counts[1]!.workgroups, gpu!.software ? 2 * Math.ceil(300 / 64) : 600);
});

if (gpu && !gpu.software) console.error('[backend-webgpu reductions] per-row test skipped: this adapter is a GPU, which keeps the tree kernel');
(noDevice || !gpu?.software ? Reductions.skip : Reductions)('software adapters reduce short rows one per invocation, up to the length limit', async () => {
  const limit = reductionSplit.perRowMaxLength;
  const fn: Fn = (x) => [x.sum(-1), x.argmax(-1), x.softmax(-1), x.var(-1)];
  const counts = await agree(fn, [[uniform([130, limit])], [uniform([130, limit + 1])], [uniform([70, 3])]]);
  assert.ok(counts[0]!.workgroups < counts[1]!.workgroups, `per row at the limit (${counts[0]!.workgroups} workgroups), one per row past it (${counts[1]!.workgroups})`);
});

test('split passes over more than 65,535 workgroups (chunks of 256 elements)', async () => {
  const saved = { ...reductionSplit };
  Object.assign(reductionSplit, { minChunk: 256, maxChunks: 1 << 20, softwareMaxChunks: 1 << 20 });
  try {
    const n = 256 * 66_000;
    const counts = await agree((x) => x.sum(), [[uniform([n], 0, 1)]], 2e-6);
    assert.ok(counts[0]!.workgroups > 2 * 65_535, `${counts[0]!.workgroups} workgroups over two passes`);
  } finally {
    Object.assign(reductionSplit, saved);
  }
});

Reductions.run();
