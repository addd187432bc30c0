// Compiled training (AOTAutograd's counterpart): compiled functions called with parameters that require
// grad give the eager gradients; a whole training step compiled reaches eager's loss curve.
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import type { Tensor } from 'kiln';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { maxRelDiff, parametersOf } from './support/training.js';

function gradsOf(params: readonly Tensor[], run: () => Tensor): { loss: number; grads: Tensor[] } {
  for (const p of params) p.grad = null;
  const loss = run();
  loss.backward();
  return { loss: loss.item() as number, grads: params.map((p) => p.grad!) };
}

const Grads = suite('compiled training: gradients of compiled functions equal eager ones');

for (const [name, make, shape] of [
  ['demo MLP', () => new MLP([16, 32, 32, 8]), [12, 16]],
  ['demo transformer block', () => new TransformerBlock(16, 2), [2, 6, 16]],
] as const) {
  Grads(`${name}: loss and every parameter gradient, over three calls (the first eager, then the AOT graphs)`, () => {
    const model = make();
    const params = parametersOf(model).map((p) => p.requiresGrad_());
    const loss = (x: Tensor) => model.forward(x).pow(2).mean();
    const fast = k.compile(loss);
    for (let call = 0; call < 3; call++) {
      const x = k.randn([...shape]);
      const eager = gradsOf(params, () => loss(x));
      const compiled = gradsOf(params, () => fast(x));
      assert.ok(Math.abs(eager.loss - compiled.loss) <= 1e-5 * Math.abs(eager.loss) + 1e-7, `loss ${compiled.loss} vs ${eager.loss}`);
      compiled.grads.forEach((g, i) => assert.ok(maxRelDiff(g, eager.grads[i]!) < 2e-3, `call ${call} param ${i}: ${maxRelDiff(g, eager.grads[i]!)}`));
    }
  });
}

const OPS: [string, (x: Tensor, w: Tensor) => Tensor][] = [
  ['softmax/logSoftmax', (x, w) => x.matmul(w).softmax(-1).mul(x.matmul(w).logSoftmax(0)).sum()],
  ['layerNorm', (x, w) => k.layerNorm(x.matmul(w), [4], w.select(0, 0), w.select(0, 1)).pow(2).sum()],
  ['gather/indexSelect', (x, w) => x.matmul(w).gather(1, k.tensor([[0, 3], [1, 1], [2, 0], [3, 2], [0, 0]])).sum().add(x.indexSelect(1, k.tensor([1, 1, 4])).sum())],
  ['cat/stack/views', (x, w) => k.cat([x.narrow(1, 0, 4).matmul(w.narrow(0, 0, 4)), w.slice(0, 1, 6, 2)], 0).tanh().sum().add(k.stack([w, w.mul(2)]).select(0, 1).sum())],
  ['reductions with keepdim', (x, w) => x.matmul(w).amax(1, true).sub(x.matmul(w).mean(0, true)).exp().sum().add(x.max(1)[0].sum())],
  ['broadcasting, where, clamp', (x, w) => k.where(x.gt(0), x, x.mul(0.1)).matmul(w).add(w.sum(0)).clamp(-0.5, 0.5).pow(2).sum()],
];

for (const [name, f] of OPS) {
  Grads(`op suite: ${name}`, () => {
    const w = k.randn([6, 4], { requiresGrad: true });
    const fast = k.compile(f);
    for (let call = 0; call < 2; call++) {
      const x = k.randn([5, 6], { requiresGrad: true });
      const eager = gradsOf([x, w], () => f(x, w));
      const compiled = gradsOf([x, w], () => fast(x, w));
      compiled.grads.forEach((g, i) => assert.ok(maxRelDiff(g, eager.grads[i]!) < 1e-3, `${name} call ${call} input ${i}: ${maxRelDiff(g, eager.grads[i]!)}`));
    }
  });
}

Grads('a graph break inside the differentiated function keeps gradients correct (the eager tape carries across)', () => {
  const w = k.randn([4, 4], { requiresGrad: true });
  const opaque = (t: Tensor) => t.mul(3);
  k.skip(opaque);
  function f(x: Tensor) {
    const h = x.matmul(w).tanh();
    const o = opaque(h);
    return o.matmul(w).sigmoid().sum();
  }
  const fast = k.compile(f);
  const x = k.randn([3, 4]);
  for (let call = 0; call < 2; call++) {
    const eager = gradsOf([w], () => f(x));
    const compiled = gradsOf([w], () => fast(x));
    assert.ok(maxRelDiff(compiled.grads[0]!, eager.grads[0]!) < 1e-3);
  }
  const report = k.explain(f)(x);
  assert.is(report.breakCount, 1);
  assert.is(report.graphCount, 2);
});

Grads('without grad mode, or with no input requiring grad, compiled code runs as before (outputs carry no history)', () => {
  const w = k.randn([4, 4], { requiresGrad: true });
  const fast = k.compile((x: Tensor) => x.matmul(w).sum());
  assert.is(k.noGrad(() => fast(k.randn([2, 4]))).requiresGrad, false);
  assert.is(k.compile((x: Tensor) => x.exp().sum())(k.randn([2, 4])).requiresGrad, false);
  assert.is(fast(k.randn([2, 4])).requiresGrad, true);
});

Grads('explain shows the forward and backward graphs and what is saved: the matmul result, not the pointwise ops after it', () => {
  const w = k.randn([8, 16], { requiresGrad: true });
  const f = (x: Tensor) => x.matmul(w).relu().mul(2).exp().sum();
  const report = k.explain(f)(k.randn([4, 8]));
  assert.is(report.training.length, 1);
  const t = report.training[0]!;
  assert.equal(t.differentiable, [1]);
  assert.is(t.saved.length, 1, `saved ${t.saved}`);
  assert.match(t.forward, new RegExp(`${t.saved[0]}: f32\\[4, 16\\] = matmul`));
  assert.ok(t.recomputed.length >= 1 && /relu/.test(t.backward), t.backward);
  assert.is(t.savedBytes, 4 * 16 * 4);
  assert.ok(t.recomputedBytes >= 4 * 16 * 4);
  assert.match(String(report), /with gradients \(inputs #1 require grad\), for these sizes:\n  saved for the backward, 0.3 KiB at the traced sizes: %\d+ f32\[4, 16\] \(matmul\)\n/);
});

Grads('jax-style transforms over a compiled function: grad(compile(f)) equals grad(f), also after the AOT graphs exist', () => {
  const f = (params: { w: Tensor; b: Tensor }, x: Tensor) => x.matmul(params.w).add(params.b).tanh().pow(2).mean();
  const fast = k.compile(f);
  const params = { w: k.randn([6, 3]), b: k.randn([3]) };
  for (let call = 0; call < 3; call++) {
    const x = k.randn([4, 6]);
    const want = k.grad(f)(params, x) as { w: Tensor; b: Tensor };
    const got = k.grad(fast)(params, x) as { w: Tensor; b: Tensor };
    assert.ok(maxRelDiff(got.w, want.w) < 1e-3 && maxRelDiff(got.b, want.b) < 1e-3, `call ${call}`);
  }
  assert.is(k.explain(f)(params, k.randn([4, 6])).training.length, 0, 'without grad-requiring inputs there is no training graph');
});

const Train = suite('compiled training: a whole step compiled (forward, backward(), optimizer) follows eager');

const initial = parametersOf(new MLP([8, 32, 4])).map((p) => p.clone());

function trainMLP(compiled: boolean, steps: number): { losses: number[]; params: Tensor[] } {
  k.manualSeed(7);
  const model = new MLP([8, 32, 4]);
  const params = parametersOf(model).map((p, i) => k.noGrad(() => p.copy_(initial[i]!)).requiresGrad_());
  const opt = new k.optim.Adam(params, { lr: 0.01 });
  const x = k.randn([32, 8]);
  const target = x.narrow(1, 0, 4).softmax(-1);
  function step(input: Tensor, y: Tensor) {
    opt.zeroGrad();
    const loss = model.forward(input).sub(y).pow(2).sum(-1).mean();
    loss.backward();
    opt.step();
    return loss;
  }
  const run = compiled ? k.compile(step) : step;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(run(x, target).item() as number);
  return { losses, params };
}

Train('demo MLP with Adam: 30 steps, compiled vs eager loss curves and parameters', () => {
  const eager = trainMLP(false, 30);
  const compiled = trainMLP(true, 30);
  compiled.losses.forEach((l, i) => assert.ok(Math.abs(l - eager.losses[i]!) <= 1e-4 * eager.losses[i]!, `step ${i}: ${l} vs ${eager.losses[i]}`));
  compiled.params.forEach((p, i) => assert.ok(maxRelDiff(p, eager.params[i]!) < 1e-3, `param ${i}`));
  assert.ok(eager.losses[29]! < 0.7 * eager.losses[0]!, `the loss falls: ${eager.losses[0]} → ${eager.losses[29]}`);
});

Grads.run();
Train.run();

const Example = suite('compiled training: the README example');

Example('examples/train-example.mjs trains the demo MLP below the loss threshold, eager and compiled', () => {
  const out = execFileSync(process.execPath, ['--conditions=kiln-source', '--import', 'tsx/esm', new URL('../../../examples/train-example.mjs', import.meta.url).pathname], { encoding: 'utf8' });
  const { eager, compiled } = JSON.parse(out.trim().split('\n').at(-1)!) as { eager: number; compiled: number };
  // ln 4 ≈ 1.39 is chance level; the task is learnable to near zero.
  assert.ok(eager < 0.1, `eager loss ${eager}`);
  assert.ok(compiled < 0.1, `compiled loss ${compiled}`);
});

Example.run();
