// Float locals carried across a graph break (a decayed learning rate, a running loss): the resume function
// takes them as runtime numbers (scalar graph inputs where a tensor op uses them) from its first compile, so a
// value that changes every call recompiles only the frame that reads it first, not every resume in the chain.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { captureLogs, check } from './support/tracer.js';

const Floats = suite('float locals across graph breaks');

function report(v: unknown): unknown {
  return v;
}
skip(report);

/** Compiles caused by a failing guard (first compiles of resume functions are not recompiles). */
const recompiled = (r: ReturnType<typeof check>): string[] => r.entries.flatMap((e) => (e.reason ? [`${e.tag} ${e.reason}`] : []));

Floats('a decaying rate through two breaks: one recompile (the frame itself), results as eager', () => {
  function step(x: Tensor, lr: number) {
    const a = x.mul(lr);
    report(a);
    const b = a.mul(lr * 2);
    report(b);
    return b.add(lr);
  }
  const calls = [0.3, 0.279, 0.25947, 0.2413071, 0.5, 1, 0.125].map((lr, i) => [k.ones([3]).mul(i + 1), lr]);
  const r = check(step, calls);
  // The frame specializes lr at first and recompiles once (automatic dynamic); both resume functions took it
  // as a float input from the start. lr = 1 (an integer) is a new class for the scalar input: one more each.
  const reasons = recompiled(r);
  assert.equal(reasons.filter((x) => /=== 0\.3\b/.test(x)).length, 1, reasons.join('\n'));
  assert.ok(reasons.length <= 4, reasons.join('\n'));
  const lines = captureLogs('guards', () => void check(step, calls.slice(0, 1)));
  assert.ok(lines.some((l) => /L\['lr'\] is a number \(a float local carried across a graph break\)/.test(l)), lines.join('\n'));
});

Floats('a running loss from item(): the resume returns it and scales by it without recompiling per value', () => {
  function train(x: Tensor, w: Tensor) {
    const pred = x.mul(w);
    const loss = pred.sum().item();
    const running = (loss as number) * 0.9 + 0.05;
    return { loss: running, out: pred.mul(running) };
  }
  const calls = [0.3, 0.55, 0.85, 1.15, 1.45].map((v) => [k.full([4], v), k.ones([4])]);
  const r = check(train, calls);
  assert.equal(recompiled(r), [], 'no recompile: the float is an input of the resume');
});

const SHIFT = 0.125;

Floats('integers stay specialized in resume functions (sizes, counters), so do captured constants; a float in a branch specializes', () => {
  function grow(x: Tensor, n: number, t: number) {
    const h = x.add(1);
    report(h);
    const y = h.reshape([n, -1]).add(SHIFT);
    return t > 0.5 ? y.mul(t) : y.sub(t);
  }
  const r = check(grow, [[k.ones([4]), 2, 0.75], [k.ones([4]), 2, 0.25], [k.ones([4]), 4, 0.75], [k.ones([4]), 2, 0.8]]);
  const reasons = recompiled(r);
  assert.ok(reasons.some((x) => /L\['n'\] === 2: expected 2, got 4/.test(x)), reasons.join('\n'));
  assert.ok(reasons.some((x) => /L\['t'\] === 0\.75: expected 0\.75, got 0\.25/.test(x)), reasons.join('\n'));
  // A captured constant reaches the resume function as a parameter too, but it is not a carried local.
  assert.ok(r.entries.some((e) => e.entry.guards.some((g) => g.text === "L['SHIFT'] === 0.125")), 'the constant stays a constant');
});

Floats.run();
