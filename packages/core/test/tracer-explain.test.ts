// Line numbers of the programs below appear in the assertions: keep them in place when editing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile } from '../src/compile.js';
import { explain } from '../src/explain.js';
import { captureLogs } from './support/tracer.js';

const W = k.ones([4, 4]).div(4);
function block(x: Tensor, scale = 2) {
  let h = x.matmul(W).relu();
  if (h.shape[0]! > 1) h = h.mul(scale);
  for (const b of [1, 2]) h = h.add(b);
  return { out: h.softmax(-1), rows: h.shape[0] };
}
function breaking(x: Tensor) {
  const h = x.exp();
  JSON.stringify(h.ndim);
  return h;
}


const Explain = suite('explain and logs');

Explain('explain reports graphs, guards, op counts and compile times', () => {
  const e = explain(block)(k.ones([8, 4]));
  assert.is(e.graphCount, 1);
  assert.is(e.breakCount, 0);
  assert.match(e.graphs[0]!, /matmul\(%x, %W\)\s+# tracer-explain\.test\.ts:12/);
  assert.match(e.graphs[0]!, /softmax/);
  assert.equal(e.opCounts, { matmul: 1, relu: 1, mul: 1, add: 2, softmax: 1 });
  assert.ok(e.guards[0]!.some((g) => g.includes("L['x'].shape[0] == 8")));
  assert.is(e.compileTimesMs.length, 1);
  const onEager = explain(block, { backend: 'eager' })(k.ones([8, 4]));
  const phases = onEager.compilePhasesMs[0]!;
  assert.equal(Object.keys(phases), ['trace', 'passes', 'backend'], 'the eager backend reports no phases of its own');
  const sum = Object.values(phases).reduce((a, b) => a + b, 0);
  assert.ok(Object.values(phases).every((ms) => ms >= 0) && sum <= onEager.compileTimesMs[0]! + 0.01, `phases ${JSON.stringify(phases)}`);
  assert.match(String(e), /Compile times: [\d.]+ ms \(trace [\d.]+, passes [\d.]+, /);
  assert.is((e.result as { rows: number }).rows, 8);
  assert.match(String(e), /Graph count: 1/);
});

Explain('explain reports a break with its reason, user line and hint', () => {
  const e = explain(breaking)(k.ones([2, 2]));
  assert.is(e.graphCount, 1, 'the graph before the break (the rest has no ops)');
  assert.is(e.breakCount, 1);
  assert.match(e.breaks[0]!.reason, /stringify/);
  assert.is(e.breaks[0]!.location, 'tracer-explain.test.ts:19');
  assert.match(String(e), /Break 1 \[\d+\/0\]/);
});

Explain('KILN_LOGS=graph,guards prints with [frame/compile] markers', () => {
  const lines = captureLogs('graph,guards', () => {
    const f = compile((x: Tensor) => x.add(1));
    f(k.ones([3]));
  });
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => /^\[kiln\] \[\d+\/0\] (graph|guards): /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('add(%x, 1)')));
});

Explain('KILN_LOGS=recompiles names the failing guard', () => {
  const lines = captureLogs('recompiles', () => {
    const f = compile((x: Tensor, n: number) => x.mul(n));
    f(k.ones([3]), 2);
    f(k.ones([3]), 3);
  });
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /\[\d+\/1\] recompiles: .*L\['n'\] === 2: expected 2, got 3/);
});

Explain('KILN_LOGS=graph_breaks shows the reason and the line', () => {
  const lines = captureLogs('graph_breaks', () => compile(breaking)(k.ones([2])));
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /graph_breaks: graph break in 'breaking' .*stringify.* at tracer-explain\.test\.ts:19; runs the statement \(line 19\) eagerly, resumes in 'breaking_resume_2'/);
});

Explain('no KILN_LOGS, no output', () => {
  const lines = captureLogs('', () => compile((x: Tensor) => x.neg())(k.ones([2])));
  assert.is(lines.length, 0);
});

Explain.run();
