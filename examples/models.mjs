// The demo's models, written as ordinary classes against @kiln/tensor: nothing here knows about the
// compiler. compile() traces their forward passes through methods, fields and loops.
import { Generator, arange, layerNorm, linear, randn, zeros, ones } from 'kiln';

const generator = new Generator(0); // seeded: the demo prints the same numbers on every run

/** nn.Linear-style layer: weight [out, in] scaled by 1/√in, bias zero. */
export class Linear {
  constructor(inputs, outputs) {
    this.weight = randn([outputs, inputs], { generator }).mul(1 / Math.sqrt(inputs));
    this.bias = zeros([outputs]);
  }
  forward(x) {
    return linear(x, this.weight, this.bias);
  }
}

export class MLP {
  constructor(sizes) {
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) this.layers.push(new Linear(sizes[i], sizes[i + 1]));
  }
  forward(x) {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      h = this.layers[i].forward(h);
      if (i + 1 < this.layers.length) h = h.gelu();
    }
    return h.softmax(-1);
  }
}

export class LayerNorm {
  constructor(dim) {
    this.dim = dim;
    this.weight = ones([dim]);
    this.bias = zeros([dim]);
  }
  forward(x) {
    return layerNorm(x, [this.dim], this.weight, this.bias);
  }
}

/** Multi-head self-attention with a causal mask, then a GELU MLP; pre-norm residual blocks. */
export class TransformerBlock {
  constructor(dim, heads) {
    this.heads = heads;
    this.headDim = dim / heads;
    this.norm1 = new LayerNorm(dim);
    this.qkv = new Linear(dim, 3 * dim);
    this.proj = new Linear(dim, dim);
    this.norm2 = new LayerNorm(dim);
    this.up = new Linear(dim, 4 * dim);
    this.down = new Linear(4 * dim, dim);
  }

  attention(x) {
    const [batch, seq, dim] = x.shape;
    const qkv = this.qkv.forward(x).reshape([batch, seq, 3, this.heads, this.headDim]).permute([2, 0, 3, 1, 4]);
    const [q, k, v] = [qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)];
    const scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(this.headDim));
    // causal: position i attends to positions j <= i only
    const future = arange(seq).unsqueeze(0).gt(arange(seq).unsqueeze(1));
    const weights = scores.maskedFill(future, -Infinity).softmax(-1);
    const out = weights.matmul(v).transpose(1, 2).reshape([batch, seq, dim]);
    return this.proj.forward(out);
  }

  forward(x) {
    const h = x.add(this.attention(this.norm1.forward(x)));
    return h.add(this.down.forward(this.up.forward(this.norm2.forward(h)).gelu()));
  }
}

export const input = (shape) => randn(shape, { generator });
