// The optimizer update compiled into the training step: `opt.step()` inside a compiled step is traced (its
// in-place updates of parameters and state become one graph, replayed like any side effect), the step
// counter stops causing recompiles after it first changes, and the losses and parameters follow eager
// training step by step for SGD with momentum, Adam and AdamW on the demo MLP and transformer block.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import type { Tensor } from 'kiln';
import type { FrameCompileInfo } from '@kiln/core';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { maxRelDiff, parametersOf } from './support/training.js';

type Model = { forward(x: Tensor): Tensor };
type MakeOptimizer = (params: Tensor[]) => { step(): void; zeroGrad(): void };

interface Run {
  losses: number[];
  params: Tensor[];
  compiles: FrameCompileInfo[];
}

/** Trains a fresh copy of `make()` (same initial weights every time) for `steps` steps. */
function train(make: () => Model, initial: Tensor[], opt: MakeOptimizer, x: Tensor, compiled: boolean, steps: number): Run {
  const model = make();
  const params = parametersOf(model).map((p, i) => k.noGrad(() => p.copy_(initial[i]!)).requiresGrad_());
  const optimizer = opt(params);
  function step(input: Tensor) {
    optimizer.zeroGrad();
    const loss = model.forward(input).sub(0.5).pow(2).mean();
    loss.backward();
    optimizer.step();
    return loss;
  }
  const compiler = new k.Compiler();
  const compiles: FrameCompileInfo[] = [];
  compiler.hooks.frameCompiled.tap('test', (info) => compiles.push(info));
  const run = compiled ? k.compile(step, { compiler }) : step;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(run(x).item() as number);
  return { losses, params, compiles };
}

const OPTIMIZERS: [string, MakeOptimizer][] = [
  ['SGD with momentum and weight decay', (p) => new k.optim.SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 })],
  ['SGD with Nesterov momentum and dampening 0', (p) => new k.optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true })],
  ['Adam', (p) => new k.optim.Adam(p, { lr: 0.01 })],
  ['Adam with L2 weight decay and AMSGrad', (p) => new k.optim.Adam(p, { lr: 0.01, weightDecay: 1e-2, amsgrad: true })],
  ['AdamW', (p) => new k.optim.AdamW(p, { lr: 0.01 })],
];

const Update = suite('compiled training: the optimizer update inside the compiled step');

const mlp = () => new MLP([8, 32, 4]) as Model;
const mlpInitial = parametersOf(mlp()).map((p) => p.clone());
const mlpInput = k.randn([16, 8], { generator: new k.Generator(3) });

for (const [name, opt] of OPTIMIZERS) {
  Update(`demo MLP, ${name}: 40 steps compiled follow eager (losses and parameters), the step counter recompiles at most twice`, () => {
    const eager = train(mlp, mlpInitial, opt, mlpInput, false, 40);
    const compiled = train(mlp, mlpInitial, opt, mlpInput, true, 40);
    compiled.losses.forEach((l, i) => assert.ok(Math.abs(l - eager.losses[i]!) <= 1e-4 * eager.losses[i]! + 1e-7, `step ${i}: ${l} vs ${eager.losses[i]}`));
    compiled.params.forEach((p, i) => assert.ok(maxRelDiff(p, eager.params[i]!) < 1e-3, `param ${i}: ${maxRelDiff(p, eager.params[i]!)}`));
    assert.ok(eager.losses[39]! < 0.95 * eager.losses[0]!, `the loss falls: ${eager.losses[0]} → ${eager.losses[39]}`);
    // Every compile happens in the first three steps: state creation, then the counter as a constant, then
    // as a runtime number (scalar inputs) that serves every later step.
    assert.ok(compiled.compiles.length <= 5, `${compiled.compiles.length} compiles: ${compiled.compiles.map((c) => c.recompileReason).join(' | ')}`);
    // No frame falls back to eager; the last resume function (`return loss`) holds no op and compiles nothing.
    assert.ok(compiled.compiles.every((c) => c.kind !== 'eager' || c.noOps === true), compiled.compiles.map((c) => c.kind).join(','));
  });
}

Update('explain: opt.step() is no graph break; its graph updates every parameter and moment estimate in place', () => {
  const model = mlp();
  const params = parametersOf(model).map((p) => p.requiresGrad_());
  const opt = new k.optim.Adam(params, { lr: 0.01 });
  function step(input: Tensor) {
    opt.zeroGrad();
    const loss = model.forward(input).pow(2).mean();
    loss.backward();
    opt.step();
    return loss;
  }
  step(mlpInput);
  const report = k.explain(step)(mlpInput);
  const reasons = report.breaks.map((b) => b.reason).join('\n');
  assert.not.match(reasons, /opt\.step/);
  assert.is(report.breakCount, 2, reasons); // zeroGrad() and backward()
  assert.is(report.graphCount, 2); // the forward (with its compiled backward) and the update
  const update = report.graphs[1]!;
  // One square root of the second moment per parameter, and each parameter's new value.
  assert.is((update.match(/= sqrt\(/g) ?? []).length, params.length, update);
  assert.is(report.training.length, 1, 'the update graph runs without grad: no forward/backward pair is built for it');
});

Update('a tensor op after opt.step() in the same frame is not run without grad: it gets its own graph', () => {
  const model = mlp();
  const params = parametersOf(model).map((p) => p.requiresGrad_());
  const opt = new k.optim.SGD(params, { lr: 0.1 });
  function step(input: Tensor) {
    const loss = model.forward(input).pow(2).mean();
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return model.forward(input).pow(2).mean();
  }
  const fast = k.compile(step);
  for (let i = 0; i < 3; i++) {
    const after = fast(mlpInput);
    assert.ok(after.requiresGrad, 'the loss after the step records autograd as in eager code');
    after.backward();
    assert.ok(params.every((p) => p.grad !== null));
  }
});

Update('a user subclass with its own update runs its own arithmetic (eagerly), not the built-in traced step', () => {
  class SignSGD extends k.optim.SGD {
    protected override update(p: Tensor, grad: Tensor) {
      p.sub_(grad.sign().mul(0.01));
    }
  }
  const run = (compiled: boolean) => {
    const w = k.ones([3], { requiresGrad: true });
    const opt = new SignSGD([w], { lr: 1 });
    const step = (x: Tensor) => {
      opt.zeroGrad();
      const loss = w.mul(x).sum();
      loss.backward();
      opt.step();
      return loss;
    };
    const f = compiled ? k.compile(step) : step;
    for (let i = 0; i < 4; i++) f(k.tensor([1, -2, 3], { dtype: 'float32' }));
    return w;
  };
  assert.equal(Array.from(run(true).toTypedArray()), Array.from(run(false).toTypedArray()));
});

Update('a learning-rate schedule (paramGroups[0].lr changed every step) and a parameter without a gradient on some steps follow eager, without a recompile per step', () => {
  const run = (compiled: boolean) => {
    const w1 = k.noGrad(() => k.randn([4, 3], { generator: new k.Generator(11) })).requiresGrad_();
    const w2 = k.noGrad(() => k.randn([3, 2], { generator: new k.Generator(12) })).requiresGrad_();
    const opt = new k.optim.Adam([w1, w2], { lr: 0.05 });
    const x = k.randn([5, 4], { generator: new k.Generator(13) });
    // w2 takes part on even steps only: on odd steps its .grad stays null and Adam skips it, as in eager code.
    function step(input: Tensor, both: boolean) {
      opt.zeroGrad();
      const h = input.matmul(w1).tanh();
      const loss = (both ? h.matmul(w2) : h).pow(2).mean();
      loss.backward();
      opt.step();
      return loss;
    }
    const compiler = new k.Compiler();
    let compiles = 0;
    compiler.hooks.frameCompiled.tap('test', () => compiles++);
    const f = compiled ? k.compile(step, { compiler }) : step;
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      opt.paramGroups[0]!.lr = 0.05 * 0.97 ** i;
      losses.push(f(x, i % 2 === 0).item() as number);
    }
    return { losses, params: [w1, w2], compiles };
  };
  const eager = run(false);
  const compiled = run(true);
  compiled.losses.forEach((l, i) => assert.ok(Math.abs(l - eager.losses[i]!) <= 1e-4 * eager.losses[i]! + 1e-7, `step ${i}: ${l} vs ${eager.losses[i]}`));
  compiled.params.forEach((p, i) => assert.ok(maxRelDiff(p, eager.params[i]!) < 1e-3, `param ${i}`));
  assert.ok(compiled.compiles <= 14, `${compiled.compiles} compiles in 30 steps`);
});

const block = () => new TransformerBlock(16, 2) as Model;
const blockInitial = parametersOf(block()).map((p) => p.clone());
const blockInput = k.randn([2, 6, 16], { generator: new k.Generator(5) });

for (const [name, opt, exact] of [
  ['SGD with momentum', (p: Tensor[]) => new k.optim.SGD(p, { lr: 0.05, momentum: 0.9 }), true],
  // The attention's key bias gets a gradient that is zero up to rounding (softmax ignores a per-row
  // constant): Adam scales that rounding noise to full-size steps, so only there eager and compiled differ.
  ['AdamW', (p: Tensor[]) => new k.optim.AdamW(p, { lr: 0.005 }), false],
] as const) {
  Update(`demo transformer block, ${name}: 25 steps compiled follow eager`, () => {
    const eager = train(block, blockInitial, opt, blockInput, false, 25);
    const compiled = train(block, blockInitial, opt, blockInput, true, 25);
    compiled.losses.forEach((l, i) => assert.ok(Math.abs(l - eager.losses[i]!) <= 2e-4 * eager.losses[i]! + 1e-7, `step ${i}: ${l} vs ${eager.losses[i]}`));
    const qkvBias = 3; // after norm1.weight, norm1.bias, qkv.weight
    compiled.params.forEach((p, i) => {
      if (!exact && i === qkvBias) return;
      assert.ok(maxRelDiff(p, eager.params[i]!) < 2e-3, `param ${i}: ${maxRelDiff(p, eager.params[i]!)}`);
    });
    assert.ok(compiled.compiles.length <= 5, `${compiled.compiles.length} compiles`);
  });
}

Update.run();
