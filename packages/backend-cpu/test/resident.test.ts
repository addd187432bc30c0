// Resident outputs: compiled programs hand back tensors over their arena blocks. Everything that reads
// tensors must see the right values through them, writes must follow copy-on-write, and a resident tensor
// fed to a program must be read in place (no copy) when it is contiguous.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { compileGraphForCpu, cpuArena, residentPool } from '@kiln/backend-cpu';
import { allocations, drainPool, isResident, js } from './resident-support.js';

type Fn = (...args: k.Tensor[]) => k.Tensor;

k.manualSeed(7);
const N = 4096; // 16 KB of float32: the default minimum for a resident output
const values = (t: k.Tensor) => Array.from(t.toTypedArray());

function close(got: k.Tensor, want: k.Tensor, what = '') {
  assert.equal(got.shape, want.shape, `shape ${what}`);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `${what} element ${i}: ${a[i]} vs ${b[i]}`);
}

/** Compiles `fn` for `args` straight through the CPU backend (one program, its runner visible). */
function program(fn: Fn, args: k.Tensor[]) {
  const compiled = compileGraphForCpu(traceOps(fn, args).coreGraph);
  return { run: (...inputs: k.Tensor[]) => (compiled.run(inputs) as k.Tensor[])[0]!, runner: compiled.runner! };
}

const hypot: Fn = (x, y) => x.mul(x).add(y.mul(y)).sqrt();
const a = k.randn([64, 64]);
const b = k.randn([64, 64]);

const Out = suite('resident outputs: read by everything that reads tensors');
Out.before(drainPool);

Out('a compiled output lives in the arena and reads like any tensor', () => {
  const y = program(hypot, [a, b]).run(a, b);
  assert.ok(isResident(y));
  close(y, hypot(a, b));
  assert.equal(y.toArray(), hypot(a, b).toArray());
  assert.is(y.sum().item(), hypot(a, b).sum().item());
  assert.ok(y.toTypedArray().buffer instanceof ArrayBuffer, 'toTypedArray copies out to a JS array');
});

Out('eager ops, reductions and views of a resident output', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const want = hypot(a, b);
  close(y.add(1).mul(y), want.add(1).mul(want), 'pointwise');
  close(y.transpose(0, 1).matmul(y), want.transpose(0, 1).matmul(want), 'matmul of a view');
  close(y.slice(1, 3, 40, 2).softmax(-1), want.slice(1, 3, 40, 2).softmax(-1), 'strided slice');
  close(y.reshape([4096]).narrow(0, 100, 50), want.reshape([4096]).narrow(0, 100, 50), 'reshape + narrow');
  const view = y.select(0, 5);
  assert.ok(view.storage === y.storage, 'views share the resident storage');
  close(view, want.select(0, 5));
});

Out('in-place ops write the only owner in place, and copy-on-write into JS once shared', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const want = js(y);
  y.add_(1);
  assert.ok(isResident(y), 'sole owner: written in the arena, stays resident');
  close(y, want.add(1));
  const c = y.clone();
  assert.ok(c.storage.sharesBufferWith(y.storage), 'clone is lazy');
  c.mul_(2);
  assert.ok(isResident(y), 'the source keeps the block');
  assert.not.ok(isResident(c), 'the writer copied into a JS array');
  close(y, want.add(1), 'source unchanged by the clone');
  close(c, want.add(1).mul(2), 'clone');
  const d = y.clone();
  y.fill_(3);
  assert.not.ok(isResident(y), 'the source wrote first: it copies, the clone keeps the block');
  assert.ok(isResident(d));
  close(d, want.add(1), 'clone unchanged by the source');
  assert.equal(values(y), new Array(N).fill(3));
});

Out('in-place write through a view aliases the whole resident storage', () => {
  const y = program(hypot, [a, b]).run(a, b);
  y.select(0, 2).zero_();
  assert.equal(values(y.select(0, 2)), new Array(64).fill(0));
  assert.ok(isResident(y));
});

Out('a tensor returned twice is one resident object, as in eager code', () => {
  const both = compile((x: k.Tensor) => {
    const h = x.exp();
    return [h, h];
  }, { backend: 'cpu' });
  const [p, q] = both(a) as [k.Tensor, k.Tensor];
  assert.ok(isResident(p));
  assert.is(p, q, 'eager returns the same tensor twice');
  p.mul_(0);
  assert.equal(values(q), new Array(N).fill(0), 'a write through one holder shows through the other');
});

Out('a view of an output, returned with it, shares its resident block', () => {
  const both = compile((x: k.Tensor) => {
    const h = x.exp();
    return [h, h.transpose(0, 1)];
  }, { backend: 'cpu' });
  const [h, t] = both(a) as [k.Tensor, k.Tensor];
  assert.ok(isResident(h));
  assert.is(t.storage, h.storage, 'the view shares the storage, as eager views do');
  h.select(0, 1).zero_();
  assert.equal(values(t.select(1, 1)), new Array(h.shape[1]).fill(0));
});

Out('pytree outputs (objects and lists) are resident', () => {
  const f = compile((x: k.Tensor) => ({ e: x.exp(), parts: [x.abs(), x.sum()] }), { backend: 'cpu' });
  const r = f(a) as { e: k.Tensor; parts: [k.Tensor, k.Tensor] };
  assert.ok(isResident(r.e) && isResident(r.parts[0]));
  assert.not.ok(isResident(r.parts[1]), 'a 0-dim output is below the minimum: copied');
  close(r.e, a.exp());
  close(r.parts[0], a.abs());
  close(r.parts[1], a.sum());
});

Out.run();

const In = suite('resident inputs: read in place when contiguous');
In.before(drainPool);

In('a resident output fed back into the same program is not copied', () => {
  const p = program(hypot, [a, b]);
  const y = p.run(a, b);
  const sizes = allocations(p.runner.arena, () => p.run(y, y));
  assert.equal(sizes, [N * 4], 'only the output is allocated');
  close(p.run(y, y), hypot(js(y), js(y)));
});

In('a resident output feeds a different program (and compile() with guards)', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const g = (x: k.Tensor) => x.softmax(-1).mul(x);
  const fast = compile(g, { backend: 'cpu' });
  close(fast(y), g(js(y)));
  close(fast(y.add(0)), g(js(y)), 'and a JS tensor through the same cache entry');
  const z = fast(y);
  assert.ok(isResident(z));
  close(fast(z), g(g(js(y))), 'chained resident outputs');
});

In('contiguous views with an offset are passed by pointer; strided views are copied', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const row = (x: k.Tensor) => x.mul(2).add(1);
  const q = program(row, [y.narrow(0, 8, 16)]);
  const sizes = allocations(q.runner.arena, () => close(q.run(y.narrow(0, 8, 16)), row(js(y).narrow(0, 8, 16)), 'offset view'));
  assert.equal(sizes, [16 * 64 * 4], 'rows 8..23 read in place (offset included)');
  const t = program(row, [y.transpose(0, 1)]);
  const copied = allocations(t.runner.arena, () => close(t.run(y.transpose(0, 1)), row(js(y).transpose(0, 1)), 'transposed'));
  assert.equal(copied.length, 2, 'a transposed input is copied in, as before');
});

In('eager fallback steps and whole-graph fallbacks read resident inputs', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const withFallback = (x: k.Tensor) => x.exp().cumsum(1, { dtype: 'int32' }).mul(2);
  const p = compileGraphForCpu(traceOps(withFallback, [y]).coreGraph);
  assert.equal(p.report.eagerSteps.map((f) => f.op), ['cumsum']);
  close((p.run([y]) as k.Tensor[])[0]!, withFallback(js(y)));
  const dataDependent = (x: k.Tensor) => x.gt(1).nonzero();
  const q = compileGraphForCpu(traceOps(dataDependent, [y]).coreGraph);
  close((q.run([y]) as k.Tensor[])[0]!, dataDependent(js(y)));
});

In('an in-place write to a resident input after a call is seen by the next call', () => {
  const p = program(hypot, [a, b]);
  const y = p.run(a, b);
  const first = js(p.run(y, y));
  y.mul_(0);
  assert.ok(isResident(y));
  assert.equal(values(p.run(y, y)), new Array(N).fill(0));
  assert.not.equal(values(first), new Array(N).fill(0));
});

In('an in-place op inside a compiled function updates a resident input (written back by copy_)', () => {
  const y = program(hypot, [a, b]).run(a, b);
  const want = js(y);
  const f = compile((x: k.Tensor) => {
    x.add_(1);
    return x.mul(2);
  }, { backend: 'cpu' });
  const r = f(y);
  close(y, want.add(1), 'the input was written');
  close(r, want.add(1).mul(2), 'the result');
  const c = y.clone();
  f(y);
  close(c, want.add(1), 'a lazy clone taken before the call keeps its values');
  close(y, want.add(2));
});

In('the shared arena is the one compile() uses', () => {
  assert.ok(residentPool(cpuArena()).blocks > 0);
});

In.run();
