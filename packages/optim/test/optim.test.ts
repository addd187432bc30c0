import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Adam, AdamW, SGD } from '@kiln/optim';
import { KilnTypeError, Tensor, ValueError, tensor } from '@kiln/tensor';

interface Refs {
  p0: number[];
  shape: number[];
  grads: number[][];
  cases: { optimizer: 'SGD' | 'Adam' | 'AdamW'; options: Record<string, unknown>; params: number[][] }[];
}
const refs: Refs = JSON.parse(readFileSync(new URL('./fixtures/optim-refs.json', import.meta.url), 'utf8'));
const f64 = (data: number[], shape = refs.shape) => Tensor.fromData(Float64Array.from(data), shape, 'float64');
const OPTIMIZERS = { SGD, Adam, AdamW } as const;
const k32 = (data: number[]) => tensor(data, { dtype: 'float32' });

const Torch = suite('optim: parameter updates equal torch.optim (float64, fixed gradients, 4 steps)');

for (const c of refs.cases.flatMap((c) => (c.optimizer === 'SGD' ? [c] : [c, { ...c, options: { ...c.options, fused: false } }]))) {
  Torch(`${c.optimizer} ${JSON.stringify(c.options)}`, () => {
    const p = f64(refs.p0).requiresGrad_();
    const storage = p.storage;
    const opt = new OPTIMIZERS[c.optimizer]([p], c.options as never);
    c.params.forEach((want, step) => {
      p.grad = f64(refs.grads[step]!);
      opt.step();
      const got = Array.from(p.toTypedArray());
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-12 * (1 + Math.abs(want[i]!)), `step ${step} element ${i}: ${v} vs torch ${want[i]}`));
    });
    assert.ok(p.storage === storage, 'the update is in place: the parameter keeps its storage');
    assert.ok(p.isLeaf && p.requiresGrad, 'the parameter stays a leaf that requires grad');
  });
}

const Api = suite('optim: zeroGrad, groups, validation');

Api('SGD by hand: p ← p − lr·g; momentum buffer starts at the first gradient', () => {
  const p = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
  const opt = new SGD([p], { lr: 0.5, momentum: 0.5 });
  p.mul(p).sum().backward(); // g = 2p = [2, 4]
  opt.step(); // buf = [2, 4]; p = [0, 0]
  assert.equal(Array.from(p.toTypedArray()), [0, 0]);
  opt.zeroGrad();
  assert.is(p.grad, null);
  p.add(1).sum().backward(); // g = [1, 1]; buf = 0.5·[2, 4] + [1, 1] = [2, 3]
  opt.step();
  assert.equal(Array.from(p.toTypedArray()), [-1, -1.5]);
  opt.zeroGrad(false);
  assert.equal(Array.from(p.grad!.toTypedArray()), [0, 0]);
});

Api('parameter groups take their own options; a parameter without a gradient is skipped', () => {
  const a = tensor([1], { dtype: 'float64', requiresGrad: true });
  const b = tensor([1], { dtype: 'float64', requiresGrad: true });
  const c = tensor([1], { dtype: 'float64', requiresGrad: true });
  const opt = new SGD([{ params: [a] }, { params: [b, c], lr: 1 }], { lr: 0.1 });
  a.add(b).sum().backward();
  opt.step();
  assert.equal([a.item(), b.item(), c.item()], [0.9, 0, 1]);
  assert.is(opt.paramGroups[1]!.lr, 1);
});

Api('bad options and parameters raise typed errors naming the optimizer', () => {
  const p = tensor([1], { dtype: 'float64', requiresGrad: true });
  assert.throws(() => new SGD([p], { lr: -1 }), (e: unknown) => e instanceof ValueError && /SGD: invalid learning rate: -1/.test(String(e)));
  assert.throws(() => new Adam([p], { betas: [1, 0.9] }), (e: unknown) => e instanceof ValueError && /beta parameter at index 0/.test(String(e)));
  assert.throws(() => new SGD([p], { nesterov: true }), (e: unknown) => e instanceof ValueError && /Nesterov/.test(String(e)));
  assert.throws(() => new AdamW([p.mul(2)]), (e: unknown) => e instanceof ValueError && /non-leaf/.test(String(e)));
  assert.throws(() => new SGD([]), (e: unknown) => e instanceof ValueError && /empty parameter list/.test(String(e)));
  assert.throws(() => new SGD([p, 3 as never]), (e: unknown) => e instanceof KilnTypeError && /parameter 1 is not a Tensor/.test(String(e)));
});

Api('a training loop of y = 3x + 1 with Adam converges', () => {
  const w = tensor([0], { dtype: 'float32', requiresGrad: true });
  const b = tensor([0], { dtype: 'float32', requiresGrad: true });
  const x = tensor([-1, 0, 1, 2], { dtype: 'float32' });
  const y = x.mul(3).add(1);
  const opt = new Adam([w, b], { lr: 0.1 });
  let loss = Infinity;
  for (let i = 0; i < 300; i++) {
    opt.zeroGrad();
    const l = x.mul(w).add(b).sub(y).pow(2).mean();
    l.backward();
    opt.step();
    loss = l.item() as number;
  }
  assert.ok(loss < 1e-3, `loss ${loss}`);
  assert.ok(Math.abs((w.item() as number) - 3) < 0.05 && Math.abs((b.item() as number) - 1) < 0.05);
});

Torch('fused Adam on float32 follows the op-by-op path within float32 rounding', () => {
  const init = k32([0.5, -1, 2, 0.25]);
  const run = (fused: boolean) => {
    const p = init.clone().requiresGrad_();
    const opt = new AdamW([p], { lr: 0.05, weightDecay: 0.1, amsgrad: true, fused });
    for (let i = 0; i < 5; i++) {
      p.grad = k32([0.3 * i, -0.2, 1, -0.5 + i]);
      opt.step();
    }
    return Array.from(p.toTypedArray());
  };
  const [a, b] = [run(true), run(false)];
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-6 * (1 + Math.abs(b[i]!)), `${v} vs ${b[i]}`));
});

Torch.run();
Api.run();
