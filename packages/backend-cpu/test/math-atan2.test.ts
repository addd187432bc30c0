// atan2 in wasm against float64 Math.atan2 (the loop-IR reference), over every octant, tiny and huge
// ratios, and the C99 special values; then k.atan2 compiled through lowering against eager.
import { suite } from 'uvu';
import * as k from '@kiln/tensor';
import { type PointwiseKernel, loop } from '@kiln/lower';
import { compileKernels } from '@kiln/backend-cpu';
import { assertClose, random, runBoth, sharedArena } from './helpers.js';
import { checkAgainstEager, randomTensor } from './lowering-check.js';

const { binary, contiguous, load } = loop;

const atan2 = suite('atan2');

function atan2Kernel(n: number): PointwiseKernel {
  return {
    kind: 'pointwise', name: 'm_atan2', params: [], inputs: [{ name: 'y', dtype: 'float32' }, { name: 'x', dtype: 'float32' }],
    outputs: [{ name: 'out', dtype: 'float32' }], sizes: [n],
    stores: [{ buffer: 'out', access: contiguous([n]), value: binary('atan2', load('y', contiguous([n])), load('x', contiguous([n]))) }],
  };
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1, -1, 3e38, -3e38];

atan2('matches float64 atan2 within 2 ulp-ish over wide ranges and every special pair', () => {
  const pairs: [number, number][] = [];
  for (const y of SPECIALS) for (const x of SPECIALS) pairs.push([y, x]);
  for (let i = 0; i < 8000; i++) {
    // magnitudes from 1e-30 to 1e30 with both signs, so every octant and extreme ratios appear
    const mag = () => (random() < 0.5 ? -1 : 1) * 10 ** (-30 + random() * 60);
    pairs.push(i % 2 ? [mag(), mag()] : [random() * 8 - 4, random() * 8 - 4]);
  }
  const n = pairs.length;
  const y = Float32Array.from(pairs.map((p) => p[0]));
  const x = Float32Array.from(pairs.map((p) => p[1]));
  const kernel = atan2Kernel(n);
  const { got, want } = runBoth(kernel, { y, x }, { out: n });
  assertClose(got.out!, want.out!, 3e-7, 1e-37, 'atan2');
  const called = compileKernels([kernel], sharedArena, { inlineMath: false }).kernels.get(kernel.name)!;
  assertClose(runBoth(kernel, { y, x }, { out: n }, {}, called).got.out!, want.out!, 3e-7, 1e-37, 'atan2 (called)');
});

atan2('k.atan2 compiled on cpu matches eager: broadcast, transposed, int32 inputs, symbolic sizes', () => {
  checkAgainstEager((a, b) => k.atan2(a, b), [[randomTensor([3, 7]), randomTensor([3, 7])], [randomTensor([5, 2]), randomTensor([5, 2])]], { lowered: ['atan2'], tol: 1e-6 });
  checkAgainstEager((a, b) => k.atan2(a.transpose(0, 1), b).mul(2), [[randomTensor([4, 3]), randomTensor([1, 4])]], { lowered: ['atan2'], tol: 1e-6 });
  checkAgainstEager((a, b) => k.atan2(a, b), [[randomTensor([6], 'int32'), randomTensor([6], 'int32')]], { lowered: ['atan2'], tol: 1e-6 });
  checkAgainstEager((a, b) => k.atan2(a, b), [[randomTensor([0, 3]), randomTensor([0, 3])]], { lowered: ['atan2'], dynamic: false });
  checkAgainstEager((a, b) => k.atan2(a, b), [[k.tensor([0, -0, 0, -0, Infinity, -Infinity, NaN, 1]), k.tensor([0, 0, -0, -0, Infinity, Infinity, 1, NaN])]], { lowered: ['atan2'], dynamic: false });
});

atan2.run();
