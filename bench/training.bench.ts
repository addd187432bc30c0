// A training step (forward, backward, Adam update) of the demo's MLP and transformer block: Kiln's whole
// step compiled with compile() (forward and backward as AOT-compiled graphs around the backward() break,
// the Adam update as a compiled graph of in-place writes) against Kiln eager, jax-js (jit(valueAndGrad)
// and a jitted Adam update per parameter, wasm) and TensorFlow.js (wasm: optimizer.minimize, which is
// tf.variableGrads + the update). Same weights and data everywhere; each peer's first loss is checked
// against Kiln eager's before timing. Also: bytes the tape keeps for the backward pass (saved
// activations), compiled vs eager.
// Run: node scripts/bench.mjs training
import * as k from '@kiln/tensor';
import { compile, reset } from '@kiln/core';
import { Adam } from '@kiln/optim';
import '@kiln/backend-cpu';
import { initPeers, machineLine, medianMs, printRow } from './support.js';
import { blockHostParams, jaxBlock, tfBlock } from './model-peers.js';
import type { Block, BlockParams } from './model-peers.js';
// @ts-expect-error -- the demo's models are plain JS without declarations.
import { MLP, TransformerBlock, input } from '../examples/models.mjs';

const { jax, tf } = await initPeers();
const { numpy: np, nn, jit, valueAndGrad } = jax;
type J = InstanceType<typeof np.Array>;
type T = import('@tensorflow/tfjs').Tensor;

console.log(machineLine());
console.log('median ms per training step (forward + backward + Adam); ratio > 1: Kiln compiled is faster\n');

const LR = 1e-3;
const [B1, B2, EPS] = [0.9, 0.999, 1e-8];
const f32 = (t: k.Tensor) => t.toTypedArray() as Float32Array;

/** Bytes of the tensors the tape holds for backward, beyond the parameters and inputs (each storage once). */
function tapeBytes(loss: k.Tensor, exclude: readonly k.Tensor[]): number {
  const skip = new Set(exclude.map((t) => t.storage));
  const seen = new Set<unknown>();
  const nodes = new Set<k.GradNode>();
  const stack = loss.gradFn ? [loss.gradFn] : [];
  let bytes = 0;
  while (stack.length) {
    const node = stack.pop()!;
    if (nodes.has(node)) continue;
    nodes.add(node);
    for (const t of node.savedTensors()) {
      if (skip.has(t.storage) || seen.has(t.storage)) continue;
      seen.add(t.storage);
      bytes += t.storage.size * (t.dtype === 'float64' ? 8 : t.dtype === 'bool' ? 1 : 4);
    }
    for (const e of node.next) if (e) stack.push(e.node);
  }
  return bytes;
}

function mlpRow(sizes: number[], batch: number): void {
  reset();
  const model = new MLP(sizes) as { layers: { weight: k.Tensor; bias: k.Tensor }[]; forward(x: k.Tensor): k.Tensor };
  const initial = model.layers.flatMap((l) => [l.weight.clone(), l.bias.clone()]);
  const x = input([batch, sizes[0]]) as k.Tensor;
  const y = (input([batch, sizes.at(-1)]) as k.Tensor).softmax(-1);

  const kilnStep = (compiled: boolean) => {
    const params = model.layers.flatMap((l) => [l.weight, l.bias]);
    params.forEach((p, i) => k.noGrad(() => p.copy_(initial[i]!)).requiresGrad_());
    const opt = new Adam(params, { lr: LR });
    const step = (input: k.Tensor, target: k.Tensor) => {
      opt.zeroGrad();
      const loss = model.forward(input).sub(target).pow(2).mean();
      loss.backward();
      opt.step();
      return loss;
    };
    const run = compiled ? compile(step) : step;
    return () => run(x, y).item() as number;
  };

  // jax-js: params as [W (in×out), b] pairs, the loss jitted with its gradient, Adam jitted per parameter.
  const host = initial.map((t, i) => (i % 2 === 0 ? t.transpose(0, 1).contiguous() : t));
  let jParams: J[] = host.map((t) => np.array(f32(t)).reshape([...t.shape]));
  let jM: J[] = host.map((t) => np.zeros([...t.shape]));
  let jV: J[] = host.map((t) => np.zeros([...t.shape]));
  const jx = np.array(f32(x)).reshape([...x.shape]);
  const jy = np.array(f32(y)).reshape([...y.shape]);
  const jLoss = (params: J[], input: J, target: J) => {
    let h = input;
    for (let i = 0; i < params.length; i += 2) {
      h = np.matmul(h, params[i]!).add(params[i + 1]!);
      if (i + 2 < params.length) h = nn.gelu(h, { approximate: false });
    }
    return np.mean(np.square(nn.softmax(h, -1).sub(target)));
  };
  const jGrad = jit(valueAndGrad(jLoss));
  const jAdam = makeJaxAdam();
  let jt = 0;
  const jaxStep = () => {
    jt++;
    const [value, grads] = (jGrad as (...a: unknown[]) => [J, J[]])(jParams.map((p) => p.ref), jx.ref, jy.ref);
    const next = jParams.map((p, i) => jAdam(p, grads[i]!, jM[i]!, jV[i]!, jt));
    jParams = next.map((r) => r[0]!);
    jM = next.map((r) => r[1]!);
    jV = next.map((r) => r[2]!);
    return (value.dataSync() as Float32Array)[0]!;
  };

  // tfjs: variables and tf.train.adam; minimize() takes the gradients of the variables and applies them.
  const tVars = host.map((t) => tf.variable(tf.tensor(f32(t), [...t.shape])));
  const tx = tf.tensor(f32(x), [...x.shape]);
  const ty = tf.tensor(f32(y), [...y.shape]);
  const tOpt = tf.train.adam(LR, B1, B2, EPS);
  const tfStep = () => {
    const loss = tOpt.minimize(() => {
      let h: T = tx;
      for (let i = 0; i < tVars.length; i += 2) {
        h = tf.fused.matMul({ a: h, b: tVars[i]!, bias: tVars[i + 1]! });
        if (i + 2 < tVars.length) h = h.mul(0.5).mul(tf.erf(h.mul(Math.SQRT1_2)).add(1));
      }
      return tf.softmax(h, -1).sub(ty).square().mean() as import('@tensorflow/tfjs').Scalar;
    }, true)!;
    const v = (loss.dataSync() as Float32Array)[0]!;
    loss.dispose();
    return v;
  };

  const eager = kilnStep(false);
  const want = eager();
  checkFirstLosses('MLP training', want, { jax: jaxStep(), tfjs: tfStep() });
  const eagerMs = medianMs(eager, 5, 1000);
  const compiled = kilnStep(true);
  const compiledMs = medianMs(compiled, 7, 1500);
  printRow(`MLP ${sizes.join('-')}, batch ${batch}`, { kiln: compiledMs, jax: medianMs(jaxStep), tfjs: medianMs(tfStep), 'kiln-eager': eagerMs });

  // Saved activations: the tape after one forward, compiled (AOT partition) vs eager.
  const params = model.layers.flatMap((l) => [l.weight, l.bias]);
  const lossOf = (x0: k.Tensor) => model.forward(x0).sub(y).pow(2).mean();
  const fast = compile(lossOf);
  fast(x);
  const compiledBytes = tapeBytes(fast(x), [...params, x, y]);
  const eagerBytes = tapeBytes(lossOf(x), [...params, x, y]);
  console.log(`  saved for backward: compiled ${(compiledBytes / 1024).toFixed(0)} KiB, eager ${(eagerBytes / 1024).toFixed(0)} KiB (${(eagerBytes / Math.max(compiledBytes, 1)).toFixed(1)}× less compiled)`);
}

/** jax-js's Adam, jitted once per parameter shape: [p, m, v] after one step (c1, c2: the bias corrections). */
function makeJaxAdam() {
  const { numpy: np, jit } = jax;
  const update = jit((p: J, g: J, m: J, v: J, c1: J, c2: J) => {
    const m2 = m.mul(B1).add(g.ref.mul(1 - B1));
    const v2 = v.mul(B2).add(np.square(g).mul(1 - B2));
    const step = m2.ref.div(c1).div(np.sqrt(v2.ref.div(c2)).add(EPS)).mul(LR);
    return [p.sub(step), m2, v2];
  });
  return (p: J, g: J, m: J, v: J, t: number) => (update as (...a: J[]) => J[])(p, g, m, v, np.array([1 - B1 ** t]), np.array([1 - B2 ** t]));
}

/** The transformer block's training step (loss: mean of the output squared) in Kiln (compiled, eager), jax-js and tfjs. */
function blockRow(batch: number, seq: number, dim: number, heads: number): void {
  reset();
  const model = new TransformerBlock(dim, heads) as Block & { forward(x: k.Tensor): k.Tensor };
  const params: k.Tensor[] = [];
  const walk = (v: unknown) => {
    if (v instanceof k.Tensor) params.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(model);
  const initial = params.map((p) => p.clone());
  const x = input([batch, seq, dim]) as k.Tensor;
  const shape = { batch, seq, dim, heads };
  const { params: host, mask } = blockHostParams(model, shape);
  const names = Object.keys(host) as (keyof typeof host)[];

  const kilnStep = (compiled: boolean) => {
    params.forEach((p, i) => k.noGrad(() => p.copy_(initial[i]!)).requiresGrad_());
    const opt = new Adam(params, { lr: LR });
    const step = (input: k.Tensor) => {
      opt.zeroGrad();
      const loss = model.forward(input).pow(2).mean();
      loss.backward();
      opt.step();
      return loss;
    };
    const run = compiled ? compile(step) : step;
    return () => run(x).item() as number;
  };

  const jAdam = makeJaxAdam();
  const jx = np.array(f32(x)).reshape([...x.shape]);
  const jMask = np.array(mask[0]).reshape(mask[1]);
  let jp: J[] = names.map((n) => np.array(host[n][0]).reshape(host[n][1]));
  let jm: J[] = names.map((n) => np.zeros(host[n][1]));
  let jv: J[] = names.map((n) => np.zeros(host[n][1]));
  const jGrad = jit(valueAndGrad((ps: J[], input: J, m: J) => np.mean(np.square(jaxBlock(jax, shape, Object.fromEntries(names.map((n, i) => [n, ps[i]!])) as BlockParams<J>, input, m)))));
  let jt = 0;
  const jaxStep = () => {
    jt++;
    const [value, grads] = (jGrad as (...a: unknown[]) => [J, J[]])(jp.map((p) => p.ref), jx.ref, jMask.ref);
    const next = jp.map((p, i) => jAdam(p, grads[i]!, jm[i]!, jv[i]!, jt));
    [jp, jm, jv] = [next.map((r) => r[0]!), next.map((r) => r[1]!), next.map((r) => r[2]!)];
    return (value.dataSync() as Float32Array)[0]!;
  };

  const tVars = Object.fromEntries(names.map((n) => [n, tf.variable(tf.tensor(host[n][0], host[n][1]))])) as unknown as BlockParams<T>;
  const tx = tf.tensor(f32(x), [...x.shape]);
  const tMask = tf.tensor(mask[0], mask[1]);
  const tOpt = tf.train.adam(LR, B1, B2, EPS);
  const tfStep = () => {
    const loss = tOpt.minimize(() => tfBlock(tf, shape, tVars, tx, tMask).square().mean() as import('@tensorflow/tfjs').Scalar, true)!;
    const v = (loss.dataSync() as Float32Array)[0]!;
    loss.dispose();
    return v;
  };

  const eager = kilnStep(false);
  const want = eager();
  checkFirstLosses('transformer training', want, { jax: jaxStep(), tfjs: tfStep() });
  const eagerMs = medianMs(eager, 5, 1000);
  const compiled = kilnStep(true);
  const compiledMs = medianMs(compiled, 7, 1500);
  printRow(`transformer ${batch}×${seq}×${dim}, ${heads} heads`, { kiln: compiledMs, jax: medianMs(jaxStep), tfjs: medianMs(tfStep), 'kiln-eager': eagerMs });
  const lossOf = (x0: k.Tensor) => model.forward(x0).pow(2).mean();
  const fastLoss = compile(lossOf);
  fastLoss(x);
  const compiledBytes = tapeBytes(fastLoss(x), [...params, x]);
  const eagerBytes = tapeBytes(lossOf(x), [...params, x]);
  console.log(`  saved for backward: compiled ${(compiledBytes / 1024).toFixed(0)} KiB, eager ${(eagerBytes / 1024).toFixed(0)} KiB (${(eagerBytes / Math.max(compiledBytes, 1)).toFixed(1)}× less compiled)`);
}

/** Each peer's loss before its first update must be Kiln eager's (same weights, same data). */
function checkFirstLosses(what: string, want: number, got: Record<string, number>): void {
  for (const [lib, v] of Object.entries(got)) {
    if (!(Math.abs(v - want) <= 1e-4 * Math.abs(want) + 1e-7)) throw new Error(`${what}: ${lib}'s first loss ${v} differs from Kiln eager's ${want}`);
  }
}

mlpRow([64, 256, 256, 10], 32);
mlpRow([64, 256, 256, 10], 256);
blockRow(2, 32, 64, 4);
