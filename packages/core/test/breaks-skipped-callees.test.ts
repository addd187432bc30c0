import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compileWith } from '../src/compile.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { copyStats } from '../src/trace/resume/skipped-copy.js';
import { assertSameValue, captureLogs, check } from './support/tracer.js';

const x = k.arange(0, 12).reshape([3, 4]).div(5).sub(1);
const y = k.arange(0, 20).reshape([5, 4]).div(7).sub(1);
const printed: string[] = [];
const show = (...parts: unknown[]): void => void printed.push(parts.map(String).join(' '));
skip(show);

// A user function doing tensor work (inlined by the policy), called from inside skipped helpers below.
function rowScores(t: Tensor): Tensor {
  return t.mul(2).add(1).softmax(-1).sum(-1);
}

function report(t: Tensor): Tensor {
  const s = rowScores(t);
  show('rows', s.shape[0]);
  return s;
}
skip(report);

const Callees = suite('skipped user functions: their callees are compiled');

Callees('a skipped helper runs eagerly, the user function it calls is compiled', () => {
  const rec = check((a: Tensor) => {
    const h = a.exp();
    const s = report(h);
    return h.sum(-1).add(s);
  }, [[x], [x], [y]]);
  const out = rec.report(undefined);
  assert.ok((out.opCounts.softmax ?? 0) >= 1, `rowScores has a graph of its own: ${JSON.stringify(out.opCounts)}`);
  assert.ok(out.skippedCallees.some((c) => c.name === 'report' && c.copied), JSON.stringify(out.skippedCallees));
  assert.match(String(out), /Skipped function 'report' \(breaks-skipped-callees\.test\.ts:\d+\) runs eagerly as a copy/);
});

Callees('compile(skippedFn) runs the skipped function with its callees compiled', () => {
  const rec = check(report, [[x], [y]]);
  assert.ok((rec.report(undefined).opCounts.softmax ?? 0) >= 1);
  assert.match(rec.breaks[0]?.reason ?? '', /skip/);
});

// A second tensor-doing callee, so tests can tell which helper got compiled.
function colScores(t: Tensor): Tensor {
  return t.neg().exp().sum(0);
}

let counted = 0;
function countingReport(t: Tensor): Tensor {
  counted++;
  return colScores(t);
}
skip(countingReport);

const Fallback = suite('skipped user functions that run as they are');

Fallback('a skipped helper that writes a closure variable runs the original; the counter stays right', () => {
  counted = 0;
  const fn = (a: Tensor) => {
    const h = a.exp();
    const c = countingReport(h);
    return h.sum(0).add(c);
  };
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  for (const a of [x, x, x]) assertSameValue(f(a), fn(a));
  assert.is(counted, 6, 'three compiled and three eager calls, each counted once');
  const out = rec.report(undefined);
  assert.not.ok('neg' in out.opCounts, 'colScores ran inside the original, uncompiled');
  assert.match(String(out), /Skipped function 'countingReport' .* runs eagerly as it is: its callees cannot be compiled: it assigns captured binding 'counted'/);
});

function defineInside(t: Tensor): Tensor {
  const inner = (u: Tensor): Tensor => colScores(u);
  return inner(t);
}
skip(defineInside);

Fallback('nested functions, `this` in arrows and recursive skips keep the original, with the reason', () => {
  const thisArrow = (t: Tensor): Tensor => colScores(t);
  skip(thisArrow, { recursive: true });
  const rec = check((a: Tensor) => {
    const h = a.exp();
    show(defineInside(h).shape[0], thisArrow(h).shape[0]);
    return h;
  }, [[x], [x]]);
  const out = rec.report(undefined);
  assert.not.ok('neg' in out.opCounts);
  const why = Object.fromEntries(out.skippedCallees.map((c) => [c.name, c.reason]));
  assert.match(why.defineInside ?? '', /defines a nested function/);
  assert.match(why.thisArrow ?? '', /recursive: true/);
});

Callees.run();
Fallback.run();
