// Issue #18 item 2: sizes past the int32 range of the wasm kernels never wrap. The kernels count and index
// in i32; the runner checks every size of a kernel before it runs (iteration spaces, size arithmetic,
// parameters) and hands calls out of range to the eager kernels. Expand views cost no memory, so a
// 46341 × 46341 iteration space needs only a 46341-element input to describe it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from 'kiln';
import { traceOps } from '@kiln/graph';
import { lowerGraph } from '@kiln/lower';
import type { Size } from '@kiln/shapes';
import { ProgramRunner, compileKernels, cpuArena, KernelSizeLimitError, KERNEL_INT32_LIMIT } from '@kiln/backend-cpu';
import { assertTensorClose } from './lowering-check.js';

type Fn = (...args: k.Tensor[]) => k.Tensor;
const mul = (a: Size, b: Size): Size => (typeof a === 'number' ? (typeof b === 'number' ? a * b : b.mul(a)) : a.mul(b));

/**
 * Lowers `fn` once with symbolic sizes and runs the program through a ProgramRunner whose eager path is a
 * spy: a call it hands to eager returns the marker, so a test sees the choice without paying for eager
 * code over 2³¹ elements (about 70 s here).
 */
function spiedRunner(fn: Fn, example: k.Tensor[]) {
  const { coreGraph } = traceOps(fn, example, { dynamic: true });
  const program = lowerGraph(coreGraph);
  const kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
  const eagerCalls: unknown[][] = [];
  const runner = new ProgramRunner(program, compileKernels(kernels, cpuArena()), cpuArena(), (inputs) => {
    eagerCalls.push([...inputs]);
    return ['eager'];
  });
  return { runner, eagerCalls, program };
}

/** A tensor whose only use is its length: the symbolic size n of the program. */
const sized = (n: number) => k.zeros([n]);

const BIG = [46341, 50000]; // 46341² = 2,147,488,281 just past 2³¹; 50000² wraps to a positive int32

const cases: [string, Fn, (n: number) => k.Tensor[]][] = [
  ['sum of an expand view (the issue repro)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).sum(), (n) => [k.ones([1]), sized(n)]],
  ['row sums (reduction with outer axes)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).sum(1), (n) => [k.randn([1]), sized(n)]],
  ['column max (reduction across the outer axis)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).amax(0), (n) => [k.randn([1]), sized(n)]],
  ['argmax over the flattened view (flat index)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).argmax(), (n) => [k.randn([1]), sized(n)]],
  ['mean (the element count n·n as a size value)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).mean(), (n) => [k.randn([1]), sized(n)]],
  ['a size value in a pointwise kernel', (t, m) => t.expand([m.shape[0]!]).mul(mul(m.shape[0]!, m.shape[0]!) as number), (n) => [k.randn([1]), sized(n)]],
  ['pointwise over an expand view (the output does not fit: the arena refuses)', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).add(1), (n) => [k.randn([1]), sized(n)]],
  ['cumsum along a broadcast row', (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).cumsum(1).amax(), (n) => [k.ones([1]), sized(n)]],
  ['matmul with k past 2³¹', (t, m) => {
    const n = m.shape[0]!;
    return t.expand([1, mul(n, n)]).matmul(t.expand([mul(n, n), 1]));
  }, (n) => [k.ones([1]), sized(n)]],
  ['gather through an expanded index', (t, m) => {
    const n = m.shape[0]!;
    return t.indexSelect(0, k.zeros([1], { dtype: 'int32' }).expand([mul(n, n)])).sum();
  }, (n) => [k.randn([3]), sized(n)]],
];

const limits = suite('int32 range of the kernels: never a wrap');

for (const [what, fn, inputs] of cases) {
  limits(what, () => {
    const { runner, eagerCalls, program } = spiedRunner(fn, inputs(8));
    assert.ok(program.steps.some((s) => s.kind === 'kernel'), 'lowered to kernels');
    for (const n of [8, 37]) {
      const args = inputs(n);
      const [got] = runner.run(args) as k.Tensor[];
      assert.is(eagerCalls.length, 0, `n = ${n} should run compiled`);
      assertTensorClose(got!, fn(...args), 1e-5, `${what}, n = ${n}`);
    }
    for (const n of BIG) {
      const [got] = runner.run(inputs(n));
      assert.is(got, 'eager', `n = ${n}: the kernels ran past 2³¹ and returned ${String(got)}`);
    }
    assert.is(eagerCalls.length, BIG.length);
    assert.is(runner.stats.eagerCalls, BIG.length);
  });
}

limits('without an eager path the runner raises KernelSizeLimitError naming the size and the limit', () => {
  const fn: Fn = (t, m) => t.expand([m.shape[0]!, m.shape[0]!]).sum();
  const { program } = spiedRunner(fn, [k.ones([1]), sized(8)]);
  const kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
  const runner = new ProgramRunner(program, compileKernels(kernels, cpuArena()), cpuArena());
  try {
    runner.run([k.ones([1]), sized(46341)]);
    assert.unreachable('should have raised');
  } catch (e) {
    assert.ok(e instanceof KernelSizeLimitError, String(e));
    assert.match((e as Error).message, '2147488281');
    assert.match((e as Error).message, String(KERNEL_INT32_LIMIT));
  }
});

limits('an int scalar past int32 given to a compiled function is computed as eager does', () => {
  const f = k.compile((t: k.Tensor, n: number) => t.add(n), { dynamic: true });
  const t = k.zeros([4]);
  assert.equal(Array.from(f(t, 3).toTypedArray()), [3, 3, 3, 3]);
  const big = 3_000_000_000;
  assertTensorClose(f(t, big), t.add(big), 1e-6, 'n = 3e9');
});

limits('float32 sums of many values of one sign stay within float32 rounding of eager (blocked accumulation)', () => {
  // 12000² = 1.44e8 ones: past 2²⁷, where eight float32 lanes each stop growing at 2²⁴ (the sum was
  // 134217728 before blocking); 1.44e8 is exactly representable in float32, as eager's float64 sum rounds it.
  const f = k.compile((t: k.Tensor, n: number) => t.expand([n, n]).sum());
  assert.is(f(k.ones([1]), 12000).item(), 144_000_000);
  const g = k.compile((t: k.Tensor, n: number) => t.expand([n, n]).sum(1));
  const rows = g(k.full([1], 0.5), 4096).toTypedArray();
  assert.ok(rows.every((v) => v === 2048), 'row sums of 0.5');
});

// The repro end to end: eager code sums 2³¹ elements in about 70 s here, too slow for every test run.
const LONG = process.env.KILN_LONG === '1';
limits('issue repro end to end through compile(): same sum as eager (set KILN_LONG=1; ≈ 2 min)', () => {
  if (!LONG) {
    console.log('  skipped: the end-to-end repro sums 2^31 elements eagerly (≈ 70 s); KILN_LONG=1 runs it');
    return;
  }
  const f = k.compile((t: k.Tensor, n: number) => t.expand([n, n]).sum());
  const n = 46341;
  // Eager sums float32 inputs in float64 and rounds once: 2,147,488,281 → 2147488256 in float32.
  assert.is(f(k.ones([1]), n).item(), Math.fround(n * n));
});

limits.run();
