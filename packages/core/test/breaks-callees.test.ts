import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compile, compileWith } from '../src/compile.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue, captureLogs, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const y = k.arange(0, 20).reshape([5, 4]).div(7).sub(1);
const printed: string[] = [];
const show = (...parts: unknown[]): void => void printed.push(parts.map(String).join(' '));
skip(show);


const Callees = suite('compiled callees of eager statements');

const scaleRows = (t: Tensor): Tensor => t.mul(2).add(1).sum(-1);
const opaque = (t: Tensor): Tensor => t.neg();
skip(opaque);

Callees('a user function called from the eager statement is compiled itself', () => {
  const rec = check((a: Tensor) => {
    const h = a.exp();
    show('rows', scaleRows(h).shape[0]);
    return h.add(1);
  }, [[x]], { graphs: 3 });
  const ops = rec.report(undefined).opCounts;
  assert.ok((ops.sum ?? 0) >= 1, 'the callee scaleRows has a graph of its own');
});

Callees('a callee the policy skips runs as it is', () => {
  const rec = check((a: Tensor) => {
    const h = a.exp();
    show('neg', opaque(h).shape[0]);
    return h.add(1);
  }, [[x]], { graphs: 2 });
  assert.ok(!('neg' in rec.report(undefined).opCounts));
});

Callees('a function value that is not only called keeps its identity', () => {
  const seen: unknown[] = [];
  const keep = (f: unknown): void => void seen.push(f);
  skip(keep);
  check((a: Tensor) => {
    const h = a.exp();
    keep(scaleRows), show(scaleRows(h).shape[0]);
    return h;
  }, [[x]], { graphs: 1 });
  assert.ok(seen.length > 0 && seen.every((f) => f === scaleRows), 'passed as a value: not swapped for a compiled wrapper');
});

const Logs = suite('graph_breaks logs and resume frames');

Logs('KILN_LOGS=graph_breaks prints each break once per code location', () => {
  function logged(a: Tensor): Tensor {
    const h = a.relu();
    show('shape', h.shape[0]);
    return h.exp();
  }
  const lines = captureLogs('graph_breaks', () => {
    const f = compile(logged);
    f(x);
    f(x);
    f(y);
    f(k.ones([9, 4]));
  });
  assert.is(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^\[kiln\] \[\d+\/0\] graph_breaks: graph break in 'logged' .*show.* at breaks-callees\.test\.ts:\d+; runs the statement \(line \d+\) eagerly, resumes in 'logged_resume_2'/);
});

Logs('resume functions are frames of their own: own frame id, own compiles', () => {
  function twoGraphs(a: Tensor): Tensor {
    const h = a.relu();
    show('x');
    return h.exp();
  }
  const lines = captureLogs('graph', () => {
    const f = compile(twoGraphs);
    f(x);
  });
  const tags = new Set(lines.map((l) => /^\[kiln\] (\[\d+\/\d+\])/.exec(l)?.[1]));
  assert.is(tags.size, 2, lines.join('\n'));
});

Logs('the resume path survives recompiles of the root with new shapes', () => {
  const rec = new CompileRecorder();
  const fn = (a: Tensor, n: number) => {
    const h = a.relu().mul(n);
    show('n', n);
    return h.sum(0).add(n);
  };
  const f = compileWith(fn, {}, rec);
  for (const [a, n] of [[x, 1], [y, 1], [x, 2], [k.ones([6, 4]), 3], [y, 1]] as [Tensor, number][]) assertSameValue(f(a, n), fn(a, n));
  assert.ok(rec.entries.some((e) => e.reason !== undefined), 'recompiles happened');
});

Callees.run();
Logs.run();

const Concise = suite('a concise arrow body splits like a block body');

class TwoStage {
  constructor(readonly w: Tensor) {}
  forward(t: Tensor): Tensor {
    const h = t.matmul(this.w).relu();
    show('mid', h.sum().item());
    return h.exp().sum(-1);
  }
}
const model = new TwoStage(k.arange(0, 16).reshape([4, 4]).div(10));

Concise('(x) => model.forward(x) with a break in forward compiles forward around its break', () => {
  const concise = check((a: Tensor) => model.forward(a), [[x], [x.mul(2)]]);
  const block = check((a: Tensor) => {
    return model.forward(a);
  }, [[x], [x.mul(2)]]);
  assert.ok(concise.graphCount >= 2, `forward's graphs before and after its break (got ${concise.graphCount})`);
  assert.is(concise.graphCount, block.graphCount, 'as many graphs as the block body');
  assert.equal(Object.keys(concise.report(undefined).opCounts).sort(), Object.keys(block.report(undefined).opCounts).sort());
});

Concise('a break in the concise body itself runs it eagerly and returns its value', () => {
  const rec = check((a: Tensor) => a.exp().add(a.sum().item()), [[x], [y]]);
  assert.is(rec.breaks.length > 0, true);
});

Concise('a concise body that uses its captures and a callee after the break gets the same values', () => {
  const shift = 0.5; // a number: the WebGPU replay of this corpus moves only the inputs to the device
  check((a: Tensor) => scaleRows(model.forward(a).add(shift).reshape([-1, 1]).expand([-1, 4])).neg(), [[x], [y]]);
});

Concise.run();
