// A kernel of a static shape (sizes known as it is generated, as at a first compile) gets only the loops that
// can run: a row of 64 has no four-element remainder and no scalar tail, so neither is emitted (less code to
// generate, for V8 to compile and to tier up). Checked: the loops left out, and results against the eager
// kernels for every mix of whole groups, a vector remainder and a scalar tail, in each kind of loop nest.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { sizeParam } from '@kiln/lower';
import { compileGraphForCpu, compileKernels, printWat } from '@kiln/backend-cpu';
import { sharedArena, softmaxKernel } from './helpers.js';

type Fn = (x: k.Tensor) => k.Tensor;

const loopsIn = (wat: string) => wat.split('\n').filter((line) => /^\s*loop\b/.test(line)).length;
const softmaxWat = (rows: number | ReturnType<typeof sizeParam>, cols: number | ReturnType<typeof sizeParam>, params: string[] = []) =>
  printWat(compileKernels([softmaxKernel(rows, cols, params)], sharedArena, { inlineMath: false }).wasm);

const Emitted = suite('static sizes: loops that cannot run are not emitted');

Emitted('softmax rows of 64: one loop per pass, against three for a symbolic row length', () => {
  const symbolic = softmaxWat(sizeParam('r'), sizeParam('c'), ['r', 'c']);
  // rows, then per pass (max, sum of exp, store): whole groups, the vector remainder, the scalar tail; the
  // float32 sum also runs its groups in blocks (one more loop)
  assert.is(loopsIn(symbolic), 1 + 3 + (1 + 3) + 3, symbolic);
  // a row of at most one block (4096 elements) sums its groups without the loop over blocks
  const static64 = softmaxWat(4, 64);
  assert.is(loopsIn(static64), 1 + 1 + 1 + 1, static64);
  // 67 = 64 in whole groups (of 8 and 16) + 3 in the scalar tail: no four-element remainder
  assert.is(loopsIn(softmaxWat(4, 67)), 1 + 2 + 2 + 2);
  // 8200 elements are more than one block: the sum's loop over blocks stays (and its groups of 16 leave 8
  // for the vector step; the max and the store, in groups of 8, leave nothing)
  assert.is(loopsIn(softmaxWat(2, 8200)), 1 + 1 + (1 + 1 + 1) + 1);
  // 3: only the scalar tails
  assert.is(loopsIn(softmaxWat(4, 3)), 1 + 1 + 1 + 1);
  assert.ok(static64.length < symbolic.length);
});

const Results = suite('static sizes: results equal eager for every mix of groups, remainder and tail');

function assertMatchesEager(fn: Fn, x: k.Tensor, what: string, slack = 0): void {
  const compiled = compileGraphForCpu(traceOps(fn, [x]).coreGraph);
  const got = (compiled.run([x]) as k.Tensor[])[0]!;
  const want = fn(x);
  assert.equal(got.shape, want.shape, `${what}: shape`);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)) + slack, `${what}: element ${i}: ${a[i]} vs ${b[i]}`);
  }
}

k.manualSeed(7);
// 1–3: the tail alone; 4, 12: vector steps without a whole group; 8, 16, 64: whole groups only; 17, 67,
// 70, 100: groups with a remainder and/or a tail; 4096: one whole block of a float32 sum, 4100 and 8200
// more than one
const WIDTHS = [1, 2, 3, 4, 5, 8, 12, 16, 17, 20, 64, 67, 70, 100, 4096, 4100, 8200];
// A float32 row sum of n normal terms differs from eager's float64 sum by up to about n·1e-6 where the terms
// cancel; an element a loop left out (or ran twice) would be off by about 1.
const CASES: [string, Fn, ((width: number) => number)?][] = [
  ['softmax (max, sum of exp, stores)', (x) => x.softmax(-1)],
  ['row sum (unrolled fold)', (x) => x.sum(-1), (width) => 1e-6 * width],
  ['layer-norm-like mean and variance', (x) => { const d = x.sub(x.mean(-1, true)); return d.mul(d).mean(-1); }],
  ['argmax (scalar loop only)', (x) => x.argmax(-1)],
  ['column sum (vectorised across the outer axis)', (x) => x.sum(0)],
  ['pointwise exp(x) * 2 + 1', (x) => x.exp().mul(2).add(1)],
  ['pointwise over a transposed view', (x) => x.transpose(0, 1).mul(3)],
];

for (const [name, fn, slack] of CASES) {
  Results(name, () => {
    for (const width of WIDTHS) assertMatchesEager(fn, k.randn([3, width]), `${name}, [3, ${width}]`, slack?.(width));
  });
}

Emitted.run();
Results.run();
