// Frames whose trace holds no tensor op: nothing is compiled (no graph, no kernels); the function runs
// eagerly under the trace's guards, as PT2 skips a frame with "no content in function call". Results always
// match eager, and inputs that make the frame hold ops (a branch) still compile.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { explain } from '../src/explain.js';
import { captureLogs, check } from './support/tracer.js';

const NoOps = suite('frames with no tensor ops');

const kinds = (r: ReturnType<typeof check>) => r.entries.map((e) => (e.entry.kind === 'eager' && e.entry.noOps ? 'no-ops' : e.entry.kind));

NoOps('a frame that only reads fields and passes tensors on builds no graph and runs eagerly under its guards', () => {
  const pick = (cfg: { scale: number; t: Tensor }, x: Tensor) => ({ x, t: cfg.t, s: cfg.scale * 2 });
  const o = { scale: 1.5, t: k.ones([2]) };
  const r = check(pick, [[o, k.ones([3])], [o, k.ones([3])]], { graphs: 0, fallbacks: 0, recompiles: 0 });
  assert.equal(kinds(r), ['no-ops']);
  const x = k.ones([3]);
  const e = explain(pick)(o, x);
  assert.is((e.result as { x: Tensor }).x, x, 'the eager run returns the input itself');
  assert.is(e.noOpFrames.length, 1);
  assert.match(e.noOpFrames[0]!, /^\[\d+\/0\] whole frame$/);
  assert.is(e.graphCount, 0);
  assert.is(e.breakCount, 0, 'not a graph break');
  assert.match(String(e), /No tensor ops, nothing compiled \(runs eagerly under its guards\): \[\d+\/0\] whole frame/);
  assert.ok(e.guards[0]!.includes("L['cfg'].scale === 1.5"), e.guards[0]!.join('\n'));
});

NoOps('a branch that holds ops compiles when taken; the other side stays eager; side effects happen once per call', () => {
  const seen: number[] = [];
  const maybe = (o: { flag: boolean; a: number }, x: Tensor) => {
    seen.push(o.a);
    return o.flag ? x.mul(o.a) : o.a;
  };
  const off = { flag: false, a: 2 };
  const on = { flag: true, a: 2 };
  const x = k.ones([2]);
  // check() calls eager then compiled for each call, then the last call again (a cache hit).
  const r = check(maybe, [[off, x], [on, x], [off, x], [on, x]], { graphs: 1, fallbacks: 0, recompiles: 1 });
  assert.equal(kinds(r), ['no-ops', 'graph']);
  assert.is(seen.length, 10, 'one push per call, compiled or eager (5 eager + 5 compiled)');
});

function logged(v: unknown): unknown {
  return v;
}
skip(logged);

NoOps("a resume function with no ops (after item()) runs eagerly; explain names it; results match eager", () => {
  function step(x: Tensor, lr: number) {
    const h = x.mul(2);
    const v = h.sum().item();
    logged(v);
    return (v as number) * lr;
  }
  // v changes every call (a float carried into the resume functions, see breaks-float-locals.test.ts).
  const calls = [1, 2, 3, 4].map((i) => [k.full([3], 0.35 * i), 0.5]);
  const r = check(step, calls);
  assert.ok(r.entries.some((e) => e.entry.kind === 'eager' && e.entry.noOps), kinds(r).join(', '));
  assert.is(r.graphCount, 1, 'only the graph before the item() holds an op');
  const lines = captureLogs('dynamo', () => void explain(step)(k.ones([3]), 0.5));
  assert.ok(lines.some((l) => /dynamo: skipping 'step_resume_\d+(_resume_\d+)?' \(.*\): no tensor ops in the frame/.test(l)), lines.join('\n'));
  const e = explain(step)(k.ones([3]), 0.5);
  assert.ok(e.noOpFrames.some((f) => /resume function 'step_resume_\d+_resume_\d+'/.test(f)), e.noOpFrames.join(', '));
  // The graph before the second break (the call to `logged`) holds no op: run by the interpreter, no kernels.
  const split = captureLogs('dynamo', () => void explain(step)(k.ones([3]), 0.5));
  assert.ok(split.some((l) => /compiled 'step_resume_\d+': 0 ops, .*backend eager \(0 kernels\)/.test(l)), split.join('\n'));
});

NoOps.run();
