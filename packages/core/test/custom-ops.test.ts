// Ops defined outside Kiln (defineOp) and user functions marked allowInGraph: each becomes ONE graph node,
// traced on fake tensors, decomposed or lowered where a rule exists and an eager step of the program where
// not; compiled results match eager.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { defineOp, Tensor } from '@kiln/tensor';
import { allowInGraph } from '@kiln/policy';
import { compile } from '../src/compile.js';
import { explain } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const T = (name: string) => ({ name, type: 'Tensor', hasDefault: false }) as const;

let softsignKernelCalls = 0;
const softsign = defineOp({
  name: 'test_softsign',
  category: 'pointwise',
  method: false,
  positional: [T('self')] as const,
  meta: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
  kernel: ([x]) => {
    softsignKernelCalls++;
    return (x as Tensor).div((x as Tensor).abs().add(1));
  },
});

let swishKernelCalls = 0;
const swish = defineOp({
  name: 'test_swish',
  category: 'pointwise',
  method: false,
  positional: [T('self'), { name: 'beta', type: 'float', hasDefault: true, default: 1 }] as const,
  meta: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
  kernel: ([x, beta]) => {
    swishKernelCalls++;
    return (x as Tensor).mul((x as Tensor).mul(beta as number).sigmoid());
  },
  decompose: ([x, beta]) => (x as Tensor).mul((x as Tensor).mul(beta as number).sigmoid()),
});

const x = k.tensor([[-2, -0.5, 0], [0.25, 1, 3]]);

/** Compiles `f`, warms it up, then counts what `count` reads across one more compiled call (checked against eager). */
function runsPerCompiledCall(f: (t: Tensor) => Tensor, count: () => number): number {
  const compiled = compile(f);
  compiled(x);
  const before = count();
  const got = compiled(x);
  const runs = count() - before;
  assertSameValue(got, f(x));
  return runs;
}

const Ops = suite('custom ops in the graph');

Ops('an op defined with defineOp and not allowed in the graph breaks it, with a hint to allow it', () => {
  const notAllowed = defineOp({
    name: 'test_not_allowed',
    category: 'pointwise',
    method: false,
    positional: [T('self')] as const,
    meta: ([t]) => ({ shape: [...t.shape], dtype: t.dtype }),
    kernel: ([t]) => (t as Tensor).neg(),
  });
  const f = (t: Tensor) => notAllowed(t.add(1)).mul(2);
  const r = explain(f)(x);
  assertSameValue(r.result, f(x));
  assert.ok(r.breakCount >= 1);
  assert.match(r.breaks[0]!.reason, /test_not_allowed/);
  assert.match(r.breaks[0]!.hint ?? '', /allowInGraph/);
});

Ops('an allowed custom op is one node, runs as one eager step of the compiled program, matches eager', () => {
  allowInGraph(softsign);
  const f = (t: Tensor) => softsign(t.add(1)).mul(3);
  const r = explain(f)(x);
  assert.is(r.graphCount, 1);
  assert.is(r.breakCount, 0);
  assert.is(r.opCounts.test_softsign, 1);
  assert.match(r.graphs[0]!, /= test_softsign\(%\d+\)/);
  assert.equal(r.backends[0]!.eagerSteps.map((s) => s.op), ['test_softsign']);
  assert.is(runsPerCompiledCall(f, () => softsignKernelCalls), 1, 'the eager kernel runs once per compiled call');
});

Ops('a custom op with a decomposition compiles to core ops: no eager step, its kernel never runs compiled', () => {
  allowInGraph(swish);
  const f = (t: Tensor) => swish(t, 0.5).add(1);
  const r = explain(f)(x);
  assert.is(r.breakCount, 0);
  assert.match(r.graphs[0]!, /test_swish\(%t, 0\.5\)/, 'the API graph holds the op as one node');
  assert.not.match(r.coreGraphs[0]!, /test_swish/, 'the core graph holds its decomposition');
  assert.match(r.coreGraphs[0]!, /sigmoid/);
  assert.equal(r.backends[0]!.eagerSteps, []);
  const compiled = compile(f);
  compiled(x);
  const before = swishKernelCalls;
  assertSameValue(compiled(x), f(x));
  assert.is(swishKernelCalls, before + 1, 'only the eager reference call ran the kernel');
});

Ops('a custom op with dynamic shapes: one compile serves two sizes', () => {
  const f = (t: Tensor) => softsign(t).sum(-1);
  const compiled = compile(f, { dynamic: true });
  for (const n of [3, 5]) {
    const t = k.randn([2, n]);
    assertSameValue(compiled(t), f(t));
  }
});

const Fns = suite('allowInGraph user functions');

let helperCalls = 0;
function helper(t: Tensor, scale: number) {
  helperCalls++;
  return t.exp().sum(-1).mul(scale);
}
allowInGraph(helper);

Fns('a user function marked allowInGraph is one opaque node, run once per call, matching eager', () => {
  const f = (t: Tensor) => helper(t.mul(2), 3).add(1);
  const r = explain(f)(x);
  assert.is(r.graphCount, 1);
  assert.is(r.breakCount, 0);
  assert.match(r.graphs[0]!, /: f32\[2\] = helper\(%\d+, 3\)/, 'one node with the shape from a fake-tensor run');
  assert.not.match(r.graphs[0]!, /exp|sum/, 'not inlined');
  assert.equal(r.backends[0]!.eagerSteps.map((s) => s.op), ['helper']);
  assert.is(runsPerCompiledCall(f, () => helperCalls), 1, 'the function runs once per compiled call');
});

Fns('a meta function given to allowInGraph replaces the fake-tensor run', () => {
  let calls = 0;
  function rowMax(t: Tensor) {
    calls++;
    return t.max(-1).values;
  }
  allowInGraph(rowMax, { meta: (t: Tensor) => ({ shape: t.shape.slice(0, -1), dtype: t.dtype }) });
  const f = (t: Tensor) => rowMax(t).neg();
  const compiled = compile(f);
  assertSameValue(compiled(x), f(x));
  assert.is(calls, 2, 'once compiled, once eager: tracing did not run it');
});

Fns('a result that is an input is copied, so the node never aliases its argument', () => {
  function same(t: Tensor) {
    return t;
  }
  allowInGraph(same);
  const f = (t: Tensor) => {
    const y = same(t);
    return y.add(1);
  };
  const input = x.clone();
  assertSameValue(compile(f)(input), f(x));
  assertSameValue(input, x);
});

Fns('an argument a node cannot take breaks the graph with the reason, and the result is still right', () => {
  function withOptions(t: Tensor, o: { scale: number }) {
    return t.mul(o.scale);
  }
  allowInGraph(withOptions);
  const f = (t: Tensor) => withOptions(t, { scale: 2 }).add(1);
  const r = explain(f)(x);
  assertSameValue(r.result, f(x));
  assert.ok(r.breakCount >= 1);
  assert.match(r.breaks[0]!.reason, /allowInGraph function 'withOptions': argument 1 is a plain object/);
});

Ops.run();
Fns.run();
