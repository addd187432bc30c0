// Dynamic shapes through the backward: the joint forward+backward graph keeps the captured graph's symbolic
// sizes, so one compiled training step (forward and backward) serves every batch size the guards admit,
// with the eager gradients at each size.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import type { Tensor } from 'kiln';
import { CompileRecorder, compileWith } from '@kiln/core';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { maxRelDiff, parametersOf } from './support/training.js';

// Seeded, so that a draw putting a gradient element near zero (where float32 rounding meets maxRelDiff's
// relative bound) fails every run or none (training-breaks.test.ts failed so, unseeded, in session 14).
k.manualSeed(2027);

/** Runs `step` (which calls backward()) and returns the gradients it left on `params`. */
function gradsAfter(params: readonly Tensor[], step: () => unknown): Tensor[] {
  for (const p of params) p.grad = null;
  step();
  return params.map((p) => p.grad ?? k.zeros([...p.shape]));
}

function assertSameGrads(got: readonly Tensor[], want: readonly Tensor[], what: string, tol = 1e-3): void {
  got.forEach((g, i) => assert.ok(maxRelDiff(g, want[i]!) < tol, `${what}, gradient ${i}: max rel diff ${maxRelDiff(g, want[i]!)}`));
}

const Dynamic = suite('compiled training with dynamic shapes: one joint program for every batch size');

Dynamic('an MLP step compiled at batch 32, then called at 48, 64, 7 and 48: two compiles (static, then dynamic), eager gradients at each size', () => {
  const model = new MLP([16, 32, 8]);
  const params = parametersOf(model).map((p) => p.requiresGrad_());
  function step(x: Tensor, y: Tensor) {
    const loss = model.forward(x).sub(y).pow(2).sum(-1).mean();
    loss.backward();
    return loss;
  }
  const recorder = new CompileRecorder();
  const fast = compileWith(step, {}, recorder);
  const compilesAfter: number[] = [];
  for (const batch of [32, 48, 64, 7, 48]) {
    const x = k.randn([batch, 16]);
    const y = k.randn([batch, 8]);
    const want = gradsAfter(params, () => step(x, y));
    const got = gradsAfter(params, () => fast(x, y));
    assertSameGrads(got, want, `batch ${batch}`);
    compilesAfter.push(recorder.entries.length);
  }
  // Frame compiles: 32 (static) and 48 (batch dynamic); 64, 7 and 48 again reuse the dynamic entry.
  assert.is(compilesAfter[1], compilesAfter[4], `frame compiles per call: ${compilesAfter}`);
  const report = recorder.report(undefined);
  assert.is(report.training.length, 2, 'joint programs: one static, one dynamic');
  const [first, second] = report.training;
  assert.is(first!.dynamic, false);
  assert.is(second!.dynamic, true);
  assert.match(second!.forward, /%arg0: f32\[s0, 16\] = placeholder/);
  assert.match(second!.backward, /: f32\[16, 32\] = matmul\(%\d+, %\d+\)/, 'the weight gradient sums over the symbolic batch inside a matmul');
  assert.ok(second!.guards.includes('L.args[0].shape[0] >= 2'), `guards: ${second!.guards}`);
  assert.ok(second!.guards.includes('L.args[0].shape[1] == 16'), `guards: ${second!.guards}`);
});

Dynamic('compile(f, { dynamic: true }): one joint program from the first call; broadcast gradients are summed over the symbolic batch', () => {
  const w = k.randn([6, 4], { requiresGrad: true });
  const b = k.randn([4], { requiresGrad: true });
  const c = k.randn([1, 4], { requiresGrad: true });
  // b and c broadcast over the batch (their gradients are sums over it), mean(0) divides by it, x's own
  // gradient has its symbolic shape.
  const f = (x: Tensor) => x.matmul(w).add(b).mul(c).tanh().mean(0).pow(2).sum().add(x.sum(1, true).mul(c).mean());
  const recorder = new CompileRecorder();
  const fast = compileWith(f, { dynamic: true }, recorder);
  for (const batch of [5, 9, 2, 33]) {
    const x = k.randn([batch, 6], { requiresGrad: true });
    const want = gradsAfter([x, w, b, c], () => f(x).backward());
    const got = gradsAfter([x, w, b, c], () => fast(x).backward());
    assertSameGrads(got, want, `batch ${batch}`);
  }
  const report = recorder.report(undefined);
  assert.is(recorder.entries.length, 1);
  assert.is(report.training.length, 1, 'one joint program for every batch size');
  const backward = report.training[0]!.backward;
  // dynamic: true makes every size symbolic (duck-sized: x's 6 and w's 6 share s1).
  assert.match(backward, /%arg0: f32\[s0, s1\] = placeholder/);
  // The gradients of b ([4] = [s2]) and c ([1, 4] = [1, s2]) sum an [s0, s2] gradient over the batch.
  assert.match(backward, /f32\[1, s2\] = sum\(%\d+, \[0\], true\)/, backward);
});

Dynamic('the demo transformer block: batch, then sequence length, become dynamic; three compiles for six shapes', () => {
  const model = new TransformerBlock(16, 2);
  const params = parametersOf(model).map((p) => p.requiresGrad_());
  const loss = (x: Tensor) => model.forward(x).pow(2).mean();
  const recorder = new CompileRecorder();
  const fast = compileWith(loss, {}, recorder);
  for (const [batch, seq] of [[2, 6], [3, 6], [4, 6], [3, 7], [2, 9], [5, 5]] as const) {
    const x = k.randn([batch, seq, 16]);
    const want = gradsAfter(params, () => loss(x).backward());
    const got = gradsAfter(params, () => fast(x).backward());
    assertSameGrads(got, want, `[${batch}, ${seq}, 16]`, 2e-3);
  }
  const report = recorder.report(undefined);
  assert.is(recorder.entries.length, 3);
  assert.is(report.training.length, 3);
  assert.match(report.training[2]!.forward, /%arg0: f32\[s0, s1, 16\] = placeholder/);
});

Dynamic('a runtime number used as a scalar graph input: the joint graph takes it as an input too (it crashed the compiled backward before)', () => {
  const w = k.randn([4, 4], { requiresGrad: true });
  const f = (x: Tensor, scale: number) => x.matmul(w).mul(scale).tanh().sum();
  const recorder = new CompileRecorder();
  const fast = compileWith(f, {}, recorder);
  for (const scale of [0.5, 1.5, 2.5, 3.25]) {
    const x = k.randn([3, 4]);
    const want = gradsAfter([w], () => f(x, scale).backward());
    const got = gradsAfter([w], () => fast(x, scale).backward());
    assertSameGrads(got, want, `scale ${scale}`);
  }
  assert.is(recorder.report(undefined).training.length, 2, 'specialized to 0.5, then one program for every float');
});

Dynamic.run();
