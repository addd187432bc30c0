// Kernels of a static shape (sizes known as they are generated, as at every first compile) over every mix of
// whole groups, a four-element remainder and a scalar tail, in each kind of loop nest, against the eager
// kernels. The loops a static size can never run are still emitted: leaving them out (session 10) made the
// module a quarter smaller but TurboFan's code for softmax 1024² 2–5× slower and a 1024×64 broadcast multiply
// 6–8% slower (interleaved in one process, backend-cpu README), so it was reverted; these checks stay.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';

type Fn = (x: k.Tensor) => k.Tensor;

const Results = suite('static row widths: results equal eager for every mix of groups, remainder and tail');

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

Results.run();
