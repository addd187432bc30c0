import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { ONE_GRAPH, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5);
const W = k.arange(0, 20).reshape([4, 5]).div(10);
const BIAS = k.ones([5]).mul(0.25);
const SCALE = 3;

function helper(t: Tensor): Tensor {
  return t.mul(SCALE).add(1);
}
function twice(f: (t: Tensor) => Tensor, t: Tensor): Tensor {
  return f(f(t));
}
const arrowHelper = (t: Tensor, s = 2) => t.sub(s);
function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}
function makeScaler(s: number) {
  return (t: Tensor) => t.mul(s);
}
const config = { hidden: 5, act: 'gelu', nested: { eps: 1e-5 } };

const Functions = suite('tracer: functions and closures');

Functions('module-level helper is inlined (one graph)', () => {
  const rec = check((a: Tensor) => helper(a).relu(), [[x]], ONE_GRAPH);
  assert.ok(rec.entries[0]!.entry.decisions.some((d) => d.callee === 'helper' && d.kind === 'inline'));
});

Functions('captured module tensors become graph inputs', () => {
  check((a: Tensor) => a.matmul(W).add(BIAS), [[x]], ONE_GRAPH);
});

Functions('captured module constants and objects', () => {
  check((a: Tensor) => {
    const h = a.matmul(W);
    const act = config.act === 'gelu' ? h.gelu() : h.relu();
    return act.add(config.nested.eps).mul(config.hidden);
  }, [[x]], ONE_GRAPH);
});

Functions('higher-order functions and callbacks', () => {
  check((a: Tensor) => twice(helper, a), [[x]], ONE_GRAPH);
});

Functions('arrow functions with default parameters', () => {
  check((a: Tensor) => arrowHelper(a).add(arrowHelper(a, 5)), [[x]], ONE_GRAPH);
});

Functions('functions defined inside the traced code', () => {
  check((a: Tensor) => {
    function inner(t: Tensor) {
      return t.exp();
    }
    const arrow = (t: Tensor) => inner(t).add(1);
    return arrow(a);
  }, [[x]], ONE_GRAPH);
});

Functions('function declarations are hoisted', () => {
  check((a: Tensor) => {
    const out = later(a);
    function later(t: Tensor) {
      return t.neg();
    }
    return out;
  }, [[x]], ONE_GRAPH);
});

Functions('closures over frame locals', () => {
  check((a: Tensor) => {
    let count = 0;
    const bump = () => {
      count += 1;
      return count;
    };
    bump();
    bump();
    return a.mul(bump());
  }, [[x]], ONE_GRAPH);
});

Functions('recursion on trace-time values is unrolled', () => {
  check((a: Tensor) => a.mul(factorial(4)), [[x]], ONE_GRAPH);
});

Functions('closure factories captured from outside', () => {
  const byThree = makeScaler(3);
  check((a: Tensor) => byThree(a).add(makeScaler(2)(a)), [[x]], ONE_GRAPH);
});

Functions('closures of the compiled function itself', () => {
  function build(bias: Tensor, scale: number) {
    return (t: Tensor) => t.mul(scale).add(bias);
  }
  check(build(BIAS, 2), [[k.ones([2, 5])]], ONE_GRAPH);
  check(build(BIAS.neg(), 7), [[k.ones([2, 5])]], ONE_GRAPH);
});

Functions('Function.prototype.call and apply', () => {
  function scaled(this: { s: number }, t: Tensor, u: number) {
    return t.mul(this.s).add(u);
  }
  check((a: Tensor) => scaled.call({ s: 4 }, a, 1).add(scaled.apply({ s: 2 }, [a, 3])), [[x]], ONE_GRAPH);
});

Functions('arguments object', () => {
  check(function (this: unknown, a: Tensor, b: Tensor) {
    // eslint-disable-next-line prefer-rest-params
    return arguments.length === 2 ? a.add(b) : a;
  }, [[x, x]], ONE_GRAPH);
});

Functions('immediately invoked function expressions', () => {
  check((a: Tensor) => ((t: Tensor) => t.sigmoid())(a), [[x]], ONE_GRAPH);
});

Functions('spread arguments to user functions', () => {
  const add3 = (p: Tensor, q: Tensor, r: Tensor) => p.add(q).add(r);
  check((a: Tensor) => add3(...[a, a.neg(), a.mul(2)]), [[x]], ONE_GRAPH);
});

Functions('objects with function-valued fields', () => {
  const ops = { act: (t: Tensor) => t.tanh(), norm: (t: Tensor) => t.softmax(-1) };
  check((a: Tensor) => ops.norm(ops.act(a)), [[x]], ONE_GRAPH);
});

Functions.run();
