// Small programs with static sizes run with one fixed layout (runtime/fixed-call.ts): one arena block per call
// for all their buffers, given back after the call, instead of a block per buffer. What a user could notice:
// the results are eager's bit for bit whatever the inputs look like (views, offsets, resident tensors, int
// and bool dtypes, captured constants, an output returned twice), wrong inputs raise a typed error, the
// arena is left as it was, and larger or dynamic programs keep the general path.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { KilnError } from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { FIXED_LAYOUT_MAX_BYTES, compileGraphForCpu, cpuArena } from '@kiln/backend-cpu';
import { allocations, drainPool, isResident } from './resident-support.js';
import { assertTensorClose } from './lowering-check.js';

type Fn = (...args: k.Tensor[]) => k.Tensor | k.Tensor[];
k.manualSeed(11);

function program(fn: Fn, args: k.Tensor[]) {
  const compiled = compileGraphForCpu(traceOps(fn, args, { dynamic: false }).coreGraph);
  return { run: (...inputs: k.Tensor[]) => compiled.run(inputs) as k.Tensor[], runner: compiled.runner! };
}
const bits = (t: k.Tensor) => Array.from(t.toTypedArray());
/** Eager's results as a list (a function may return one tensor or several). */
const eager = (fn: Fn, args: k.Tensor[]) => [fn(...args)].flat();

const test = suite('fixed layout: small static programs');
test.before(drainPool);

test('a tiny call takes one arena block for all its buffers and gives it back', () => {
  const fn: Fn = (x) => x.mul(2).add(1).exp();
  const x = k.randn([8]);
  const p = program(fn, [x]);
  assert.ok(p.runner.fixedLayout, 'an 8-element pointwise program takes the fixed layout');
  const before = cpuArena().bytesInUse;
  let got: k.Tensor[] = [];
  const sizes = allocations(cpuArena(), () => (got = p.run(x)));
  assert.is(sizes.length, 1, `one block per call, got ${sizes.length} (${sizes.join(', ')})`);
  assert.is(cpuArena().bytesInUse, before, 'the block went back to the arena');
  const general = program(fn, [x]);
  general.runner.timeSteps(); // the executor's path, as before the fixed layout
  assert.equal(bits(got[0]!), bits(general.run(x)[0]!), 'the general path\'s result, bit for bit');
  assertTensorClose(got[0]!, eager(fn, [x])[0]!, 1e-6, 'eager'); // exp: within an ulp of eager's
  assert.not.ok(isResident(got[0]!), 'an output this small is a JS array, as on the general path');
});

test('views, offsets, int32, bool, constants, a doubled output: the general path\'s results bit for bit', () => {
  const w = k.randn([4, 4]);
  const cases: [string, Fn, k.Tensor[]][] = [
    ['transposed input', (x) => x.add(1).mul(x), [k.randn([4, 3]).transpose(0, 1)]],
    ['input with an offset', (x) => x.sqrt(), [k.rand([10]).slice(0, 3, 9)]],
    ['captured constant', (x) => x.matmul(w).relu(), [k.randn([2, 4])]],
    ['int32 and a bool output', (a, b) => [a.add(b), a.gt(b)], [k.tensor([1, -2, 3, 7], { dtype: 'int32' }), k.tensor([0, 5, 3, -1], { dtype: 'int32' })]],
    ['reduction', (x) => x.softmax(-1), [k.randn([3, 5])]],
    ['one output returned twice', (x) => { const y = x.neg(); return [y, y]; }, [k.randn([6])]],
  ];
  for (const [what, fn, args] of cases) {
    const p = program(fn, args);
    assert.ok(p.runner.fixedLayout, `${what}: fixed layout`);
    const general = program(fn, args);
    general.runner.timeSteps(); // the executor's path, as before the fixed layout
    const want = general.run(...args);
    const reference = eager(fn, args);
    for (let call = 0; call < 3; call++) {
      const got = p.run(...args);
      assert.is(got.length, want.length, what);
      got.forEach((g, i) => {
        assert.equal(g.shape, want[i]!.shape, `${what}: shape of output ${i}`);
        assert.is(g.dtype, want[i]!.dtype, `${what}: dtype of output ${i}`);
        assert.equal(bits(g), bits(want[i]!), `${what}: output ${i}, call ${call}`);
        assertTensorClose(g, reference[i]!, 1e-5, `${what}: output ${i} against eager`);
      });
    }
  }
});

test('a resident input is read in place; writing the output never touches it', () => {
  const big = k.randn([64, 64]);
  const resident = program((x) => x.mul(3), [big]).run(big)[0]!; // 16 KiB: stays in the arena
  assert.ok(isResident(resident), 'precondition: a resident tensor');
  const row = resident.slice(0, 5, 6).reshape([64]); // its 6th row, in place in the arena
  const fn: Fn = (x) => x.add(0.5);
  const p = program(fn, [row]);
  assert.ok(p.runner.fixedLayout);
  const before = bits(resident);
  assert.equal(bits(p.run(row)[0]!), bits(fn(k.Tensor.fromData(row.toTypedArray(), row.shape, row.dtype)) as k.Tensor));
  assert.equal(bits(resident), before, 'the resident input is unchanged');
});

test('a kernel that flags an input it cannot compute as eager does: the call answers with the eager kernels', () => {
  const fn: Fn = (x) => x.mul(1e6).cos().add(1);
  const p = program(fn, [k.randn([4])]);
  assert.ok(p.runner.fixedLayout);
  const inRange = k.tensor([1e-3, -2e-2, 0, 1e-4]);
  p.run(inRange);
  assert.is(p.runner.stats.recomputed, 0, 'arguments in the fast range: the kernel results stand');
  const large = k.tensor([0.5, -3, 100, 7]); // × 1e6 leaves the fast range
  assertTensorClose(p.run(large)[0]!, fn(large) as k.Tensor, 1e-6, 'recomputed');
  assert.is(p.runner.stats.recomputed, 1);
});

test('an input of the wrong shape or dtype raises a typed error naming the input', () => {
  const p = program((x) => x.mul(2), [k.randn([8])]);
  for (const bad of [k.randn([9]), k.randn([2, 4]), k.ones([8], { dtype: 'int32' })]) {
    try {
      p.run(bad);
      assert.unreachable('should have raised');
    } catch (err) {
      assert.instance(err, KilnError);
      assert.match((err as Error).message, 'input 0 must be a float32 tensor of shape [8]');
    }
  }
  assert.equal(bits(p.run(k.ones([8]))[0]!), [2, 2, 2, 2, 2, 2, 2, 2], 'later calls still run');
});

test('larger, dynamic and eager-step programs keep the general path', () => {
  const n = FIXED_LAYOUT_MAX_BYTES / 4; // one float32 buffer this size, plus the output: past the limit
  assert.not.ok(program((x) => x.add(1), [k.randn([n])]).runner.fixedLayout, 'past the size limit');
  const x = k.randn([5, 3]);
  const dynamic = compileGraphForCpu(traceOps((t: k.Tensor) => t.sum(0), [x], { dynamic: true }).coreGraph);
  assert.not.ok(dynamic.runner!.fixedLayout, 'symbolic sizes');
  const timed = program((t) => t.exp(), [k.randn([4])]);
  timed.runner.timeSteps();
  assert.not.ok(timed.runner.fixedLayout, 'steps timed by a profiler go through the executor');
  assert.equal(bits(timed.run(k.zeros([4]))[0]!), [1, 1, 1, 1]);
});

test.run();
