// A graph break inside a differentiated region: the graph before the break and the resume function after it
// are compiled with their own forward/backward graphs, and the eager tape carries across the break, so
// gradients equal eager ones — whatever the break reads (a logged value, a float item(), a branch on data).
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import type { Tensor } from 'kiln';
import { CompileRecorder, compileWith } from '@kiln/core';
import { maxRelDiff } from './support/training.js';

const Breaks = suite('compiled training: graph breaks inside the differentiated function');

/** Captures console.log while `fn` runs. */
function captureLog<T>(fn: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    return { result: fn(), lines };
  } finally {
    console.log = original;
  }
}

// Seeded: with fresh random inputs on every run, about 1 in 60 (weights, batch) draws put a gradient element
// near zero, where float32 rounding in the compiled graphs (≈ 5e-7 absolute) passes the relative bound of
// maxRelDiff (its floor is 1e-3): 15 of 900 draws in a scan of seeds 0–299 (a full test run failed so in session 14).
k.manualSeed(2026);
const w = k.randn([4, 4], { requiresGrad: true });

const CASES: [string, (x: Tensor) => Tensor][] = [
  [
    'console.log of a value computed from the parameters',
    (x) => {
      const h = x.matmul(w).tanh();
      console.log('mean activation', (h.mean().item() as number).toFixed(5));
      return h.matmul(w).sigmoid().sum();
    },
  ],
  [
    'a float item() used as a number afterwards (no gradient flows through it, as in eager)',
    (x) => {
      const h = x.matmul(w).tanh();
      const m = h.mean().item() as number;
      return h.mul(m).matmul(w).sigmoid().sum().add(h.sum().mul(m));
    },
  ],
  [
    'a branch on a value read from the graph',
    (x) => {
      const h = x.matmul(w).tanh();
      if ((h.sum().item() as number) > 0) return h.exp().sum();
      return h.pow(2).sum();
    },
  ],
];

for (const [name, f] of CASES) {
  Breaks(`${name}: gradients equal eager over calls at three batch sizes, through the compiled backward graphs`, () => {
    const recorder = new CompileRecorder();
    const fast = compileWith(f, {}, recorder);
    for (const batch of [3, 5, 8]) {
      const x = k.randn([batch, 4]);
      w.grad = null;
      const eager = captureLog(() => f(x).backward());
      const want = w.grad!;
      w.grad = null;
      const compiled = captureLog(() => {
        const loss = fast(x);
        // The tape node of the compiled resume function: its backward runs a compiled backward graph.
        assert.is(loss.gradFn?.name, 'CompiledFunctionBackward');
        loss.backward();
      });
      assert.ok(maxRelDiff(w.grad!, want) < 1e-4, `batch ${batch}: ${maxRelDiff(w.grad!, want)}`);
      assert.equal(compiled.lines, eager.lines, 'the break logs what eager code logs');
    }
    const report = recorder.report(undefined);
    assert.ok(report.breakCount >= 1, 'the function breaks');
    // Both sides of the break got a forward/backward pair (the graph before it and the resume function).
    assert.ok(new Set(report.training.map((t) => report.graphOrigins[t.graph]!.includes('resume'))).size === 2, report.graphOrigins.join('; '));
  });
}

Breaks('a break between two compiled functions of one loss: backward() crosses both compiled backward graphs', () => {
  const inner = k.compile((x: Tensor) => x.matmul(w).relu());
  const outer = (x: Tensor) => {
    const h = inner(x);
    const scale = h.max().item() as number;
    return inner(h.div(scale + 1)).sum();
  };
  const fast = k.compile(outer);
  for (const batch of [2, 6]) {
    const x = k.randn([batch, 4]);
    w.grad = null;
    outer(x).backward();
    const want = w.grad!;
    w.grad = null;
    fast(x).backward();
    assert.ok(maxRelDiff(w.grad!, want) < 1e-4, `batch ${batch}`);
  }
});

Breaks('explain of a step with backward() and an in-place update: forward and backward graphs with what they save, then the update graph with its writes', () => {
  const v = k.randn([4, 4], { requiresGrad: true });
  const make = () => k.zeros([4]);
  const step = (x: Tensor, running: Tensor) => {
    const loss = x.matmul(v).tanh().sum();
    loss.backward();
    running.mul_(0.9).add_(x.mean(0).mul(0.1));
    return loss;
  };
  const x = k.randn([3, 4]);
  const running = make();
  v.grad = null;
  const report = k.explain(step)(x, running);
  const fromCompiled = v.grad!;
  const eagerRunning = make();
  v.grad = null;
  step(x, eagerRunning);
  assert.ok(maxRelDiff(fromCompiled, v.grad!) < 1e-4);
  assert.ok(maxRelDiff(running, eagerRunning) < 1e-6, 'the update wrote what eager writes');
  assert.is(report.training.length, 1);
  assert.equal(report.training[0]!.savedValues.map((s) => `${s.type} ${s.op}`), ['f32[3, 4] matmul']);
  assert.equal(report.inPlaceWrites[0], []);
  assert.equal(report.inPlaceWrites[1], [`L[1] float32[4] at training-breaks.test.ts:${lineOf('running.mul_(0.9)')}`]);
  const text = String(report);
  assert.match(text, /saved for the backward, [\d.]+ KiB at the traced sizes: %\d+ f32\[3, 4\] \(matmul\)/);
  assert.match(text, /backward graph \(\d+ kernels?\):/);
  assert.match(text, /writes in place \(an update graph\): L\[1\] float32\[4\]/);
});

/** The line of this file that holds `text` (first occurrence). */
function lineOf(text: string): number {
  const src = readFileSync(new URL(import.meta.url), 'utf8');
  return src.slice(0, src.indexOf(text)).split('\n').length;
}

Breaks.run();
