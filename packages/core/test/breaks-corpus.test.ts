import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { assertSameValue, check } from './support/tracer.js';
import { compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const y = k.arange(0, 20).reshape([5, 4]).div(7).sub(0.5);
const said: unknown[] = [];
const say = (v: unknown): void => void said.push(v);
skip(say);

const Corpus = suite('graph breaks: corpus of programs (compiled vs eager)');

Corpus('a break inside a switch', () => {
  check((a: Tensor, mode: string) => {
    let h = a.exp();
    switch (mode) {
      case 'log':
        say(mode);
        h = h.log();
        break;
      default:
        h = h.neg();
    }
    return h.sum(-1);
  }, [[x, 'log'], [x, 'other']]);
});

Corpus('a var declared after the break and hoisted', () => {
  check((a: Tensor) => {
    const h = a.add(1);
    say('v');
    var later = h.mul(2);
    return later.add(h);
  }, [[x]], { graphs: 2 });
});

Corpus('destructuring in the eagerly run statement', () => {
  check((a: Tensor) => {
    const h = a.add(1);
    const { rows, cols = 7 } = { rows: h.shape[0], ...(say('d'), {}) } as { rows: number; cols?: number };
    return h.mul(rows).add(cols);
  }, [[x], [y]]);
});

Corpus('a frame-built array crosses the break and is mutated after it', () => {
  check((a: Tensor) => {
    const acc: Tensor[] = [];
    acc.push(a.exp());
    say(acc.length);
    acc.push(a.neg());
    return acc;
  }, [[x]]);
});

Corpus('a data-dependent while loop runs eagerly, the rest resumes', () => {
  check((a: Tensor) => {
    let t = a.abs();
    while ((t.max().item() as number) > 0.5) t = t.mul(0.5);
    return t.add(1);
  }, [[x], [y]]);
});

Corpus('a for loop with a var index read after it', () => {
  check((a: Tensor) => {
    let h = a;
    for (var i = 0; i < 3; i++) {
      h = h.add(i);
      if (i === 1) say(i);
    }
    return h.mul(i);
  }, [[x]], { graphs: 1 });
});

Corpus('a labeled block with a break inside', () => {
  check((a: Tensor, n: number) => {
    let h = a.exp();
    outer: {
      say('in');
      if (n > 1) break outer;
      h = h.neg();
    }
    return h;
  }, [[x, 1], [x, 2]]);
});

Corpus('default and rest parameters cross the break', () => {
  check((a: Tensor, scale = 3, ...more: number[]) => {
    const h = a.mul(scale);
    say(more.length);
    return h.add(more.length);
  }, [[x], [x, 2, 5, 6]]);
});

Corpus('a method with this-state, a replayed effect and a break', () => {
  class Counter {
    calls = 0;
    w = k.full([4], 2);
    run(a: Tensor): Tensor {
      this.calls += 1;
      const h = a.mul(this.w);
      say(this.calls);
      return h.add(this.calls);
    }
  }
  const eager = new Counter();
  const compiledInstance = new Counter();
  const rec = new CompileRecorder();
  const f = compileWith(compiledInstance.run, {}, rec);
  for (let i = 0; i < 4; i++) assertSameValue(f.call(compiledInstance, x), eager.run(x), `call ${i}`);
  assert.is(compiledInstance.calls, eager.calls, 'the compiled method counted as often as eager');
  assert.ok(rec.graphCount >= 2);
});

Corpus('three breaks with new shapes each time', () => {
  check((a: Tensor) => {
    let h = a.relu();
    say(1);
    h = h.add(h.shape[0]);
    say(2);
    h = h.mul(2);
    say(3);
    return h.sum(0);
  }, [[x], [y], [k.ones([2, 4])], [x]]);
});

Corpus('a ternary on item() inside a declaration', () => {
  check((a: Tensor) => {
    const h = a.exp();
    const s = (h.sum().item() as number) > 10 ? 'big' : 'small';
    return s === 'big' ? h.neg() : h;
  }, [[x], [x.sub(3)]]);
});

Corpus.run();
