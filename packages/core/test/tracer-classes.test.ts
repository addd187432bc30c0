import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { ONE_GRAPH, check } from './support/tracer.js';

k.manualSeed(0);
const x = k.randn([3, 8]);

class Linear {
  weight: Tensor;
  bias: Tensor;
  constructor(inF: number, outF: number) {
    this.weight = k.randn([inF, outF]).mul(0.1);
    this.bias = k.zeros([outF]).add(0.01);
  }
  forward(t: Tensor): Tensor {
    return t.matmul(this.weight).add(this.bias);
  }
}

class MLP {
  layers: Linear[];
  act = 'relu';
  constructor(sizes: number[]) {
    this.layers = sizes.slice(1).map((s, i) => new Linear(sizes[i]!, s));
  }
  forward(t: Tensor): Tensor {
    let h = t;
    this.layers.forEach((layer, i) => {
      h = layer.forward(h);
      if (i < this.layers.length - 1) h = this.act === 'relu' ? h.relu() : h.gelu();
    });
    return h;
  }
}

class Base {
  scale: number;
  constructor(scale: number) {
    this.scale = scale;
  }
  apply(t: Tensor) {
    return t.mul(this.scale);
  }
}
class Derived extends Base {
  shift: number;
  constructor(scale: number, shift: number) {
    super(scale);
    this.shift = shift;
  }
  override apply(t: Tensor) {
    return t.mul(this.scale).add(this.shift);
  }
}

class Attention {
  q = new Linear(8, 8);
  k = new Linear(8, 8);
  v = new Linear(8, 8);
  forward(t: Tensor) {
    const [n, d] = t.shape as number[];
    const scores = this.q.forward(t).matmul(this.k.forward(t).transpose(0, 1)).div(Math.sqrt(d!));
    return scores.softmax(-1).matmul(this.v.forward(t)).add(n! * 0);
  }
}

class Block {
  attn = new Attention();
  mlp = new MLP([8, 16, 8]);
  forward(t: Tensor) {
    const h = t.add(this.attn.forward(k.layerNorm(t, [8])));
    return h.add(this.mlp.forward(k.layerNorm(h, [8])));
  }
}

const Classes = suite('tracer: classes and methods');

Classes('a model object: its tensor fields become graph inputs', () => {
  const model = new Linear(8, 4);
  const rec = check((t: Tensor) => model.forward(t), [[x]], ONE_GRAPH);
  const graph = (rec.entries[0]!.entry as { graph: { placeholders(): { meta: { inputSource?: string } }[] } }).graph;
  assert.equal(graph.placeholders().length, 3);
});

Classes('a bound method compiled directly (this is an input)', () => {
  const model = new MLP([8, 16, 4]);
  check(model.forward.bind(model), [[x]], ONE_GRAPH);
  check(function (this: MLP, scale: number, t: Tensor) {
    return this.forward(t).mul(scale);
  }.bind(model, 3), [[x]], ONE_GRAPH);
});

Classes('compiling a method and calling it with this', () => {
  const model = new MLP([8, 16, 4]);
  const rec = check((m: MLP, t: Tensor) => m.forward(t), [[model, x]], ONE_GRAPH);
  assert.ok(rec.entries[0]!.entry.guards.some((g) => g.kind === 'identity'));
});

Classes('nested modules: an MLP of Linears', () => {
  const mlp = new MLP([8, 16, 16, 4]);
  check((t: Tensor) => mlp.forward(t), [[x]], ONE_GRAPH);
});

Classes('a small transformer block', () => {
  const block = new Block();
  check((t: Tensor) => block.forward(t), [[x]], ONE_GRAPH);
});

Classes('new of a user class inside the frame', () => {
  check((t: Tensor) => new Derived(2, 1).apply(t), [[x]], ONE_GRAPH);
});

Classes('inheritance: overridden methods and super() fields', () => {
  const d = new Derived(3, -1);
  const b = new Base(5);
  check((t: Tensor) => d.apply(t).add(b.apply(t)), [[x]], ONE_GRAPH);
});

Classes('class field initializers run in new', () => {
  check((t: Tensor) => {
    const lin = new Linear(8, 2);
    return lin.forward(t).shape[1]! + 0;
  }, [[x]], { fallbacks: 0 });
});

Classes('plain-object modules with methods using this', () => {
  const mod = {
    w: k.ones([8]).mul(2),
    forward(t: Tensor) {
      return t.mul(this.w);
    },
  };
  check((t: Tensor) => mod.forward(t), [[x]], ONE_GRAPH);
});

Classes('instanceof with user classes', () => {
  const d = new Derived(1, 2);
  check((m: Base, t: Tensor) => (m instanceof Derived ? m.apply(t) : t), [[d, x]], ONE_GRAPH);
});

Classes('static-like helpers on classes', () => {
  class Ops {
    static double(t: Tensor) {
      return t.mul(2);
    }
  }
  check((t: Tensor) => Ops.double(t), [[x]], ONE_GRAPH);
});

Classes.run();
