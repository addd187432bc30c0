import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compile, compileWith } from '../src/compile.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { copyStats } from '../src/trace/resume/skipped-copy.js';
import { calleeRedirect } from '../src/trace/resume/callees.js';
import { getDefaultCompiler } from '../src/compiler.js';
import { getLineInfo } from 'acorn';
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

class Head {
  w = 2;
  forward(t: Tensor): Tensor {
    return t.mul(this.w).relu().sum(-1);
  }
  // A skipped method: its copy keeps `this`, and its own method call is redirected.
  dump(t: Tensor): Tensor {
    const s = this.forward(t);
    show('head', s.shape[0]);
    return s;
  }
}
skip(Head.prototype.dump);

Callees('method calls inside a skipped function (and a skipped method) are compiled, `this` kept', () => {
  const head = new Head();
  function viaMethod(t: Tensor): Tensor {
    return head.forward(t).add(head.dump(t));
  }
  skip(viaMethod);
  const rec = check((a: Tensor) => {
    const h = a.exp();
    const s = viaMethod(h);
    return h.sum(-1).add(s);
  }, [[x], [y]]);
  const out = rec.report(undefined);
  assert.ok('relu' in out.opCounts, `Head.forward compiled: ${JSON.stringify(out.opCounts)}`);
  assert.ok(out.skippedCallees.some((c) => c.name === 'dump' && c.copied), JSON.stringify(out.skippedCallees));
  assert.is(Head.prototype.dump.name, 'dump');
  assert.not.ok(Object.hasOwn(head, 'dump') || Object.hasOwn(head, 'forward'), 'nothing installed on the object');
});

function depth(t: Tensor, n: number): Tensor {
  return n === 0 ? rowScores(t) : depth(t, n - 1).add(1);
}
skip(depth);

Callees('recursion: a self-call reaches the original binding and is redirected again', () => {
  const rec = check((a: Tensor) => {
    const h = a.exp();
    const d = depth(h, 3);
    return d.mul(2);
  }, [[x], [x]]);
  assert.ok('softmax' in rec.report(undefined).opCounts);
  assert.is(rec.report(undefined).skippedCallees.filter((c) => c.name === 'depth').length, 1);
});

Callees('repeated calls reuse the copy and the compiled callees (no new parse, no new compile)', () => {
  const rec = new CompileRecorder();
  const fn = (a: Tensor) => {
    const h = a.relu();
    return report(h).add(1);
  };
  const f = compileWith(fn, {}, rec);
  f(x);
  const generated = copyStats.generated;
  const entries = rec.entries.length;
  for (let i = 0; i < 5; i++) assertSameValue(f(x), fn(x));
  assert.is(copyStats.generated, generated, 'no copy generated again');
  assert.is(rec.entries.length, entries, 'no compile again');
});

function failing(t: Tensor): Tensor {
  const s = rowScores(t);
  if (s.shape[0] > 0) throw new RangeError(`too many rows: ${s.shape[0]}`);
  return s;
}
skip(failing);

const lineOf = (stack: string, name: string): string | undefined => new RegExp(`${name} \\(.*?breaks-skipped-callees\\.test\\.ts:(\\d+)`).exec(stack)?.[1];

Callees('a skipped function that throws: the same error as eager, its stack names the user line', () => {
  const fn = (a: Tensor) => {
    const h = a.exp();
    return failing(h);
  };
  let want: Error | undefined;
  try {
    fn(x);
  } catch (err) {
    want = err as Error;
  }
  let got: Error | undefined;
  try {
    compileWith(fn, {}, new CompileRecorder())(x);
  } catch (err) {
    got = err as Error;
  }
  assert.ok(got instanceof RangeError && want instanceof RangeError);
  assert.is(got.message, want.message);
  const line = lineOf(want.stack ?? '', 'failing');
  assert.ok(line, want.stack);
  assert.is(lineOf(got.stack ?? '', 'failing'), line, got.stack);
  assert.match(got.stack ?? '', /kiln: skipped, run with its callees compiled/);
});

Callees('native and node_modules callees are never swapped, even when skipped', () => {
  skip(getLineInfo);
  const compiler = getDefaultCompiler();
  const wrap = calleeRedirect({ compile: (f) => compile(f as (...a: unknown[]) => unknown, { compiler }), calls: compiler.calls, observer: undefined, tag: '[t]' });
  for (const f of [Math.max, JSON.stringify, getLineInfo, k.Tensor.prototype.toArray]) assert.is(wrap(f), f);
  assert.is.not(wrap(rowScores), rowScores, 'an inlined user function is compiled');
  assert.is.not(wrap(report), report, 'a skipped user function runs as a copy');
  function usesLibraries(t: Tensor): number {
    return Math.max(t.shape[0], getLineInfo('a\nb', 2).line) + JSON.stringify([1]).length;
  }
  skip(usesLibraries);
  check((a: Tensor) => {
    const h = a.exp();
    const n = usesLibraries(h);
    return h.mul(n);
  }, [[x]]);
});

Callees('KILN_LOGS=graph_breaks says once how a skipped function runs', () => {
  function logsOnce(t: Tensor): Tensor {
    return colScores(t);
  }
  skip(logsOnce);
  const lines = captureLogs('graph_breaks', () => {
    const f = compileWith((a: Tensor) => {
      const h = a.exp();
      return logsOnce(h).add(1);
    }, {}, undefined);
    f(x);
    f(x);
    f(y);
  });
  const about = lines.filter((l) => l.includes("skipped function 'logsOnce'"));
  assert.is(about.length, 1, lines.join('\n'));
  assert.match(about[0]!, /\[kiln\] \[\d+\/\d+\] graph_breaks: skipped function 'logsOnce' \(breaks-skipped-callees\.test\.ts:\d+\) runs eagerly as a copy/);
});

let scale = 2;
function readsReassigned(t: Tensor): Tensor {
  return colScores(t).mul(scale);
}
skip(readsReassigned);

Fallback('a binding the script reassigns keeps the original (a callee could change it mid-call)', () => {
  const fn = (a: Tensor) => {
    const h = a.exp();
    const r = readsReassigned(h);
    return r.add(1);
  };
  const rec = new CompileRecorder();
  const f = compileWith(fn, {}, rec);
  assertSameValue(f(x), fn(x));
  scale = 3;
  assertSameValue(f(x), fn(x));
  const why = rec.report(undefined).skippedCallees.find((c) => c.name === 'readsReassigned');
  assert.ok(why && !why.copied);
  assert.match(why.reason, /reads captured binding 'scale', which may be reassigned/);
});

Callees.run();
Fallback.run();
