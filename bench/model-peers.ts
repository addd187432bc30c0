// The demo's models (examples/models.mjs) ported to jax-js (one jit) and tfjs (its fused matMul for bias +
// activation), with the Kiln model's weights. Shared by bench/models.bench.ts (wasm backends, synchronous
// reads) and bench/webgpu.bench.ts (WebGPU backends, asynchronous reads): each port returns its result
// unread, and the caller reads it the way its backend allows. A tfjs result is the caller's to dispose.
import * as k from '@kiln/tensor';
// @ts-expect-error -- the demo's models are plain JS without declarations; used here through their runtime API.
import { MLP, TransformerBlock, input } from '../examples/models.mjs';

type Jax = typeof import('@jax-js/jax');
type Tf = typeof import('@tensorflow/tfjs');
type J = InstanceType<Jax['numpy']['Array']>;
type T = import('@tensorflow/tfjs').Tensor;

interface LinearLayer { weight: k.Tensor; bias: k.Tensor }
interface Norm { weight: k.Tensor; bias: k.Tensor }
export interface Block { heads: number; headDim: number; norm1: Norm; qkv: LinearLayer; proj: LinearLayer; norm2: Norm; up: LinearLayer; down: LinearLayer }

/** A model as Kiln users write it, its input, and the same forward pass in each peer (whichever are given). */
export interface ModelCase {
  name: string;
  model: { forward(x: k.Tensor): k.Tensor };
  x: k.Tensor;
  jax?: () => J;
  tf?: () => T;
}

const f32 = (t: k.Tensor) => t.toTypedArray() as Float32Array;
/** A Linear's weight [out, in] as the [in, out] matrix the peers multiply by, plus its bias. */
const weightT = (l: LinearLayer): [Float32Array, number[]] => [f32(l.weight.transpose(0, 1)), [l.weight.shape[1]!, l.weight.shape[0]!]];
const vec = (t: k.Tensor): [Float32Array, number[]] => [f32(t), [...t.shape]];
const SQRT1_2 = Math.SQRT1_2;

export function mlpCase(sizes: number[], batch: number, jax?: Jax, tf?: Tf): ModelCase {
  const model = new MLP(sizes) as { layers: LinearLayer[]; forward(x: k.Tensor): k.Tensor };
  const x = input([batch, sizes[0]]) as k.Tensor;
  const c: ModelCase = { name: `MLP ${sizes.join('-')}, batch ${batch}`, model, x };
  if (jax) {
    const { numpy: np, nn, jit } = jax;
    const jArr = ([d, s]: [Float32Array, number[]]) => np.array(d).reshape(s);
    const jw = model.layers.map((l) => [jArr(weightT(l)), jArr(vec(l.bias))] as const);
    const jx = jArr(vec(x));
    const jForward = jit((h: J, ...params: J[]) => {
      for (let i = 0; i < params.length; i += 2) {
        h = np.matmul(h, params[i]!).add(params[i + 1]!);
        if (i + 2 < params.length) h = nn.gelu(h, { approximate: false });
      }
      return nn.softmax(h, -1);
    });
    c.jax = () => (jForward as (...a: J[]) => J)(jx.ref, ...jw.flatMap(([w, b]) => [w.ref, b.ref]));
  }
  if (tf) {
    const tArr = ([d, s]: [Float32Array, number[]]) => tf.tensor(d, s);
    const tw = model.layers.map((l) => [tArr(weightT(l)), tArr(vec(l.bias))] as const);
    const tx = tArr(vec(x));
    c.tf = () =>
      tf.tidy(() => {
        let h: T = tx;
        tw.forEach(([w, b], i) => {
          h = tf.fused.matMul({ a: h, b: w, bias: b });
          if (i + 1 < tw.length) h = h.mul(0.5).mul(tf.erf(h.mul(SQRT1_2)).add(1));
        });
        return tf.softmax(h, -1);
      });
  }
  return c;
}

/** The block's parameters as the peers hold them: q, k and v as three [dim, dim] matrices, weights [in, out]. */
export type BlockParams<A> = Record<'g1' | 'b1' | 'g2' | 'b2' | 'wq' | 'wk' | 'wv' | 'bq' | 'bk' | 'bv' | 'wp' | 'bp' | 'wu' | 'bu' | 'wd' | 'bd', A>;
export interface BlockShape { batch: number; seq: number; dim: number; heads: number }

/** The Kiln block's weights (and the causal mask) as host arrays with their shapes, in the peers' layout. */
export function blockHostParams(model: Block, s: BlockShape): { params: BlockParams<[Float32Array, number[]]>; mask: [Float32Array, number[]] } {
  const { dim, seq } = s;
  // q, k and v: rows of the qkv weight, in the order the model splits them
  const qkvT = f32(model.qkv.weight.transpose(0, 1)); // [dim, 3·dim]
  const part = (i: number): [Float32Array, number[]] => [f32(k.Tensor.fromData(qkvT, [dim, 3 * dim], 'float32').narrow(1, i * dim, dim)), [dim, dim]];
  const partBias = (i: number): [Float32Array, number[]] => [f32(model.qkv.bias.narrow(0, i * dim, dim)), [dim]];
  const mask = Float32Array.from({ length: seq * seq }, (_, i) => (i % seq > Math.floor(i / seq) ? -Infinity : 0));
  return {
    params: {
      g1: vec(model.norm1.weight), b1: vec(model.norm1.bias), g2: vec(model.norm2.weight), b2: vec(model.norm2.bias),
      wq: part(0), wk: part(1), wv: part(2), bq: partBias(0), bk: partBias(1), bv: partBias(2),
      wp: weightT(model.proj), bp: vec(model.proj.bias), wu: weightT(model.up), bu: vec(model.up.bias),
      wd: weightT(model.down), bd: vec(model.down.bias),
    },
    mask: [mask, [seq, seq]],
  };
}

/** The block's forward pass in jax-js (to be jitted by the caller); consumes its arguments (jax-js references). */
export function jaxBlock(jax: Jax, s: BlockShape, p: BlockParams<J>, x: J, mask: J): J {
  const { numpy: np, nn } = jax;
  const { batch, seq, dim, heads } = s;
  const [hd, rows] = [dim / heads, batch * seq];
  const jLn = (v: J, g: J, b: J) => {
    const centered = v.ref.sub(np.mean(v, -1, { keepdims: true }));
    const variance = np.mean(np.square(centered.ref), -1, { keepdims: true });
    return centered.div(np.sqrt(variance.add(1e-5))).mul(g).add(b);
  };
  const jHeads = (m: J) => m.reshape([batch, seq, heads, hd]).transpose([0, 2, 1, 3]);
  const h = jLn(x.ref, p.g1, p.b1).reshape([rows, dim]);
  const [q, kk, v] = [jHeads(np.matmul(h.ref, p.wq).add(p.bq)), jHeads(np.matmul(h.ref, p.wk).add(p.bk)), jHeads(np.matmul(h, p.wv).add(p.bv))];
  const w = nn.softmax(np.matmul(q, kk.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(hd)).add(mask), -1);
  const o = np.matmul(w, v).transpose([0, 2, 1, 3]).reshape([rows, dim]);
  const x1 = np.matmul(o, p.wp).add(p.bp).add(x.reshape([rows, dim]));
  const f = nn.gelu(np.matmul(jLn(x1.ref, p.g2, p.b2), p.wu).add(p.bu), { approximate: false });
  return np.matmul(f, p.wd).add(p.bd).add(x1).reshape([batch, seq, dim]);
}

/** The block's forward pass in tfjs (inside the caller's tidy). */
export function tfBlock(tf: Tf, s: BlockShape, t: BlockParams<T>, x: T, mask: T): T {
  const { batch, seq, dim, heads } = s;
  const [hd, rows] = [dim / heads, batch * seq];
  const tLn = (v: T, g: T, b: T) => {
    const { mean, variance } = tf.moments(v, -1, true);
    return v.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
  };
  const tHeads = (m: T) => m.reshape([batch, seq, heads, hd]).transpose([0, 2, 1, 3]);
  const x2 = x.reshape([rows, dim]);
  const h = tLn(x2, t.g1, t.b1);
  const lin = (a: T, w: T, b: T) => tf.fused.matMul({ a, b: w, bias: b });
  const [q, kk, v] = [tHeads(lin(h, t.wq, t.bq)), tHeads(lin(h, t.wk, t.bk)), tHeads(lin(h, t.wv, t.bv))];
  const w = tf.softmax(tf.matMul(q, kk, false, true).mul(1 / Math.sqrt(hd)).add(mask));
  const o = tf.matMul(w, v).transpose([0, 2, 1, 3]).reshape([rows, dim]);
  const x1 = lin(o, t.wp, t.bp).add(x2);
  const u = lin(tLn(x1, t.g2, t.b2), t.wu, t.bu);
  const f = u.mul(0.5).mul(tf.erf(u.mul(SQRT1_2)).add(1));
  return lin(f, t.wd, t.bd).add(x1).reshape([batch, seq, dim]);
}

export function blockCase(batch: number, seq: number, dim: number, heads: number, jax?: Jax, tf?: Tf): ModelCase {
  const model = new TransformerBlock(dim, heads) as Block & { forward(x: k.Tensor): k.Tensor };
  const x = input([batch, seq, dim]) as k.Tensor;
  const c: ModelCase = { name: `transformer ${batch}×${seq}×${dim}, ${heads} heads`, model, x };
  const shape = { batch, seq, dim, heads };
  const { params, mask } = blockHostParams(model, shape);
  const order = Object.keys(params) as (keyof typeof params)[];
  const host = [vec(x), mask, ...order.map((n) => params[n])];

  if (jax) {
    const { numpy: np, jit } = jax;
    const j = host.map(([d, sh]) => np.array(d).reshape(sh));
    const jBlock = jit((jx: J, jm: J, ...a: J[]) => jaxBlock(jax, shape, Object.fromEntries(order.map((n, i) => [n, a[i]!])) as BlockParams<J>, jx, jm));
    c.jax = () => (jBlock as (...a: J[]) => J)(...j.map((t) => t.ref));
  }

  if (tf) {
    const t = host.map(([d, sh]) => tf.tensor(d, sh));
    const tp = Object.fromEntries(order.map((n, i) => [n, t[i + 2]!])) as BlockParams<T>;
    c.tf = () => tf.tidy(() => tfBlock(tf, shape, tp, t[0]!, t[1]!));
  }
  return c;
}
