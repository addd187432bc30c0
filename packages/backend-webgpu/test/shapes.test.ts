// compile() on the webgpu backend against eager over the shapes users hand it: random shapes, non-contiguous
// and broadcast inputs, size-0 and size-1 dims (static and symbolic), one program reused across sizes, and
// more elements than 65,535 workgroups cover (the dispatch must split over a second grid dimension).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Compiler, compile } from '@kiln/core';
import '@kiln/backend-cpu';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import { assertClose, noDevice, suiteDone, suiteStarted, uniform } from './support.js';

const Shapes = suite('backend-webgpu: shapes against eager');
suiteStarted();
Shapes.after(suiteDone);
const test = (name: string, body: () => Promise<void>) => (noDevice ? Shapes.skip(name, body) : Shapes(name, body));

const gpuCompiler = new Compiler().use(webgpuBackendPlugin);
type Fn = (...xs: k.Tensor[]) => k.Tensor | k.Tensor[];

/** Compiles `fn` for webgpu (static or dynamic) and checks each input set's device results against eager. */
async function agree(fn: Fn, argSets: k.Tensor[][], dynamic = false, tol = 1e-5, onDevice = true): Promise<void> {
  await gpuCompiler.ready();
  const fast = compile(fn, { compiler: gpuCompiler, dynamic });
  for (const args of argSets) {
    const want = [fn(...args)].flat();
    const got = [fast(...args)].flat();
    const what = `[${args.map((a) => a.shape.join('×')).join('], [')}]`;
    assert.is(got.length, want.length);
    for (const [i, w] of want.entries()) {
      if (onDevice) assert.is(got[i]!.device, 'webgpu', `${what} output ${i} lives on the device`);
      assertClose(await got[i]!.cpu(), w, tol, `${what} output ${i}`);
    }
  }
}

const rowsOps: Fn = (x, b) => [x.mul(b).add(1).tanh(), x.sum(-1), x.softmax(-1), x.amax(0), x.add(b).mean(0, { keepdim: true })];

test('random shapes from one symbolic program (sizes reused across calls, the cache hit again)', async () => {
  let s = 11;
  const dim = (hi: number) => 1 + ((s = (s * 1103515245 + 12345) & 0x7fffffff) % hi);
  const sets: k.Tensor[][] = [];
  for (let i = 0; i < 6; i++) {
    const [r, c] = [dim(40), dim(70)];
    sets.push([uniform([r, c]), uniform([c])]);
  }
  sets.push(sets[0]!, sets[3]!);
  await agree(rowsOps, sets, true);
});

test('non-contiguous inputs: views made inside the program run on the device; passed in, they equal eager', async () => {
  const cube = uniform([3, 4, 5]);
  const inside: Fn = (x, y) => [x.permute([2, 0, 1]).mul(y.unsqueeze(0).expand([x.shape[2]!, x.shape[0]!, x.shape[1]!])).sum(1), x.transpose(0, 2).slice(1, 0, 4, 3).exp(), x.narrow(2, 1, 3).softmax(-1)];
  await agree(inside, [[cube, uniform([3, 4])], [uniform([2, 6, 7]), uniform([2, 6])]], true);
  // A non-contiguous argument makes compile() run the call eagerly (a graph break on the input, with a
  // hint to call .contiguous()): never wrong, so only the values are checked.
  const base = uniform([12, 10]);
  await agree(rowsOps, [[base.transpose(0, 1), uniform([12])], [base.slice(1, 0, 10, 3), uniform([4])]], false, 1e-5, false);
});

test('broadcast inputs: size-1 dims against full ones, scalars, and a row against columns', async () => {
  await agree((a, b) => [a.add(b), a.mul(b).sum(0), k.maximum(a, b)], [[uniform([6, 1]), uniform([1, 9])], [uniform([1, 1]), uniform([4, 7])], [uniform([5, 3]), k.Tensor.fromData(new Float32Array([2]), [], 'float32')]]);
});

test('size-0 and size-1 dims, static and symbolic', async () => {
  const f: Fn = (x) => [x.transpose(0, 1).add(1), x.sum(1), x.sum(-1), x.exp().mul(2)];
  // static: a constant size 0 in the index math (WGSL rejects `x % i32(0)` at shader creation)
  await agree(f, [[uniform([2, 0, 3])]]);
  await agree(f, [[uniform([1, 1, 1])]]);
  await agree(f, [[uniform([3, 0, 4])], [uniform([1, 5, 1])], [uniform([0, 2, 2])], [uniform([4, 1, 6])]], true);
});

test('more elements than 65,535 workgroups cover: pointwise over 17M, a reduction over 70,000 rows', async () => {
  const n = 17_000_000; // > 65,535 × 256
  const big = k.Tensor.fromData(Float32Array.from({ length: n }, (_, i) => (i % 1000) / 100 - 5), [n], 'float32');
  await agree((x) => x.mul(3).add(1).relu(), [[big]]);
  const rows = uniform([70_000, 3]);
  await agree((x) => [x.sum(-1), x.amax(1), x.softmax(-1)], [[rows]], false, 1e-4);
});

Shapes.run();
