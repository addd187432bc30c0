// Inputs copied into the arena stay there as their tensor's storage (`keepInputs`), so the next call with
// the same tensor reads it in place. What a user could notice: values never change, lazy clones taken
// before keep theirs, eager ops and in-place writes keep working, and only whole contiguous JS tensors move.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { ResidentConfigError, compileGraphForCpu, configureResident } from '@kiln/backend-cpu';
import { allocations, drainPool, isResident, js, withSettings } from './resident-support.js';

type Fn = (...args: k.Tensor[]) => k.Tensor;
k.manualSeed(5);
const N = 64 * 64;
const values = (t: k.Tensor) => Array.from(t.toTypedArray());

function program(fn: Fn, args: k.Tensor[]) {
  const compiled = compileGraphForCpu(traceOps(fn, args).coreGraph);
  return { run: (...inputs: k.Tensor[]) => (compiled.run(inputs) as k.Tensor[])[0]!, arena: compiled.runner!.arena };
}

const hypot: Fn = (x, y) => x.mul(x).add(y.mul(y)).sqrt();
const test = suite('resident inputs: a copied-in input stays in the arena');
test.before(drainPool);

test('the second call with the same JS tensors copies nothing in', () => {
  const x = k.randn([64, 64]);
  const y = k.randn([64, 64]);
  const want = hypot(js(x), js(y));
  const p = program(hypot, [x, y]);
  const first = allocations(p.arena, () => assert.equal(values(p.run(x, y)), values(want)));
  assert.equal(first, [N * 4, N * 4, N * 4], 'first call: both inputs copied in, the output allocated');
  assert.ok(isResident(x) && isResident(y), 'the inputs now live in the arena');
  const second = allocations(p.arena, () => assert.equal(values(p.run(x, y)), values(want)));
  assert.equal(second, [N * 4], 'second call: only the output');
});

test('values, eager ops, views and in-place writes are unchanged by the move', () => {
  const x = k.randn([64, 64]);
  const before = js(x);
  const clone = x.clone(); // a lazy copy sharing x's JS array
  const view = x.narrow(0, 3, 5); // shares x's Storage object
  compile(hypot, { backend: 'cpu' })(x, x);
  assert.ok(isResident(x));
  assert.not.ok(isResident(clone), 'a lazy clone keeps the JS array');
  assert.equal(values(clone), values(before));
  assert.equal(values(x), values(before));
  assert.equal(values(view), values(before.narrow(0, 3, 5)), 'a view follows its storage into the arena');
  assert.equal(values(x.softmax(-1)), values(before.softmax(-1)));
  x.mul_(2);
  assert.equal(values(x), values(before.mul(2)), 'an in-place write goes into the arena block');
  assert.equal(values(clone), values(before), 'and not into the clone');
});

test('a view, a strided tensor or a part of a bigger storage is copied, not moved', () => {
  const big = k.randn([64, 128]);
  const part = big.narrow(1, 0, 64);
  const transposed = k.randn([64, 64]).transpose(0, 1);
  const rows = k.randn([128, 64]).narrow(0, 0, 64);
  const p = program(hypot, [part, transposed]);
  assert.equal(values(p.run(part, transposed)), values(hypot(js(part), js(transposed))));
  assert.equal(values(p.run(rows, rows)), values(hypot(js(rows), js(rows))));
  for (const t of [big, part, transposed, rows]) assert.not.ok(isResident(t));
});

test('inputs in a compiled function that writes them in place stay correct', () => {
  const f = compile((x: k.Tensor, y: k.Tensor) => {
    x.add_(y);
    return x.mul(y);
  }, { backend: 'cpu' });
  const x = k.randn([64, 64]);
  const y = k.randn([64, 64]);
  const ex = js(x);
  const ey = js(y);
  for (let i = 0; i < 3; i++) {
    const got = f(x, y);
    const want = ex.add_(ey).mul(ey);
    assert.equal(values(got), values(want), `call ${i}`);
    assert.equal(values(x), values(ex), `x after call ${i}`);
  }
});

test('kept inputs and outputs have a burst allowance each: a synchronous loop keeps its inputs and its outputs resident', async () => {
  await drainPool();
  await new Promise((r) => setTimeout(r, 1)); // a fresh burst: earlier tests' calls ran in this same turn
  // A synchronous loop of hypot, its inputs fresh JS arrays: the first call keeps both inputs. With one
  // allowance for all (2 blocks here, as 8 MiB is for 1M-element hypot) the inputs took it, and every output
  // of the loop, even disposed ones, was copied out; now the outputs have their own.
  withSettings({ burstBytes: 2 * N * 4 }, () => {
    const x = k.randn([64, 64]);
    const y = k.randn([64, 64]);
    const want = hypot(js(x), js(y));
    const p = program(hypot, [x, y]);
    const out = p.run(x, y);
    assert.equal(values(out), values(want));
    assert.ok(isResident(x) && isResident(y), 'both inputs kept');
    assert.ok(isResident(out), 'the output resident too');
    assert.equal(allocations(p.arena, () => assert.equal(values(p.run(x, y)), values(want))), [N * 4], 'the next call allocates only its output');
    for (let i = 0; i < 6; i++) {
      const again = p.run(x, y);
      assert.ok(isResident(again), `call ${i}: resident`);
      again.dispose();
    }
  });
});

test('keepInputs: false copies inputs in on every call', () => {
  withSettings({ keepInputs: false }, () => {
    const x = k.randn([64, 64]);
    const p = program(hypot, [x, x]);
    p.run(x, x);
    assert.not.ok(isResident(x));
    assert.equal(allocations(p.arena, () => p.run(x, x)).length, 3);
  });
  assert.throws(() => configureResident({ keepInputs: 1 as unknown as boolean }), (e: unknown) => e instanceof ResidentConfigError && /true or false/.test(e.message));
});

test('small inputs (below minBytes) stay in JS memory', () => {
  const x = k.randn([4, 4]);
  compile(hypot, { backend: 'cpu' })(x, x);
  assert.not.ok(isResident(x));
});

test.run();
