// Kernels split across worker threads on a shared arena give the same bits as one thread: matmuls by output
// columns, pointwise kernels by elements (or outer rows), reductions (softmax) by rows. Small calls stay on
// the calling thread, and a pool whose workers cannot start runs every share on the caller.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Kernel, type MatmulKernel, type PointwiseKernel, loop, sizeParam } from '@kiln/lower';
import { ALTERNATE_FIRST, Arena, FIRST_CALLS, MAX_PROBE_EVERY, PROBE_EVERY, SPLIT_MARGIN, SplitChoice, THREADING_MIN_ELEMENTS, compileKernels, runOnArrays, type TypedArray } from '@kiln/backend-cpu';
import { runReference } from './reference.js';
import { assertClose, randomArray, softmaxKernel } from './helpers.js';

const { acc, add, contiguous, load, mul, unary } = loop;
const f32 = 'float32' as const;

function matmul(batch: number[], m: number, n: number, k: number, withEpilogue: boolean): MatmulKernel {
  const bs = (s: number) => (batch.length ? [s] : []);
  return {
    kind: 'extern', op: 'matmul', name: 'tmm', params: [],
    inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }, ...(withEpilogue ? [{ name: 'bias', dtype: f32 } as const] : [])],
    outputs: [{ name: 'c', dtype: f32 }], batch, m, n, k,
    a: { buffer: 'a', offset: 0, batchStrides: bs(m * k), rowStride: k, colStride: 1 },
    b: { buffer: 'b', offset: 0, batchStrides: bs(0), rowStride: 1, colStride: k }, // b stored transposed
    out: 'c',
    ...(withEpilogue ? { epilogue: unary('relu', add(acc(0), load('bias', { offset: 0, strides: [...bs(0), 0, 1] }))) } : {}),
  };
}

const n = sizeParam('n');
/** sqrt(a² + b²) over a symbolic n: one axis, split by elements. */
const hypot: PointwiseKernel = {
  kind: 'pointwise', name: 'hypot', params: ['n'], inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }],
  outputs: [{ name: 'out', dtype: f32 }], sizes: [n],
  stores: [{ buffer: 'out', access: contiguous([n]), value: unary('sqrt', add(mul(load('a', contiguous([n])), load('a', contiguous([n]))), mul(load('b', contiguous([n])), load('b', contiguous([n]))))) }],
};

/** exp of a transpose, rows × cols: two axes that do not merge, split by outer rows. */
function expTranspose(rows: number, cols: number): PointwiseKernel {
  return {
    kind: 'pointwise', name: 'expT', params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'y', dtype: f32 }],
    sizes: [rows, cols], stores: [{ buffer: 'y', access: contiguous([rows, cols]), value: unary('exp', load('x', { offset: 0, strides: [1, rows] })) }],
  };
}

const softmax = (rows: number, cols: number) => softmaxKernel(rows, cols);

const single = new Arena(1 << 20);
const threaded = new Arena(1 << 20, { threads: 2 });
const pool = threaded.threads!;
pool.adaptive = false; // split every large call: these tests check what a split computes

/** Runs `kernel` on both arenas; returns both outputs and whether the threaded call was split (1) or not (0). */
function onBoth(kernel: Kernel, inputs: Record<string, TypedArray>, out: string, numel: number, params: Record<string, number> = {}) {
  const one = new Float32Array(numel), two = new Float32Array(numel);
  runOnArrays(compileKernels([kernel], single).kernels.get(kernel.name)!, single, { inputs, outputs: { [out]: one }, params });
  const before = pool.stats.splitCalls;
  runOnArrays(compileKernels([kernel], threaded).kernels.get(kernel.name)!, threaded, { inputs, outputs: { [out]: two }, params });
  return { one, two, sent: pool.stats.splitCalls - before };
}

/** The first large call starts the worker; it boots in the background and needs a few event-loop turns. */
async function workersReady(): Promise<void> {
  if (pool.started === 0) onBoth(hypot, { a: new Float32Array(THREADING_MIN_ELEMENTS), b: new Float32Array(THREADING_MIN_ELEMENTS) }, 'out', THREADING_MIN_ELEMENTS, { n: THREADING_MIN_ELEMENTS });
  for (let i = 0; i < 500 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(pool.ready, 1, 'the worker started');
}

const Threads = suite('threads');

Threads('no worker starts with the arena: only a call large enough to split starts one', () => {
  const fresh = new Arena(1 << 16, { threads: 2 });
  const k = compileKernels([hypot], fresh).kernels.get('hypot')!;
  const small = { a: randomArray(f32, 1000), b: randomArray(f32, 1000) };
  const out = new Float32Array(1000);
  runOnArrays(k, fresh, { inputs: small, outputs: { out }, params: { n: 1000 } });
  assert.is(fresh.threads!.started, 0);
  assert.is(k.call({ a: 64, b: 64, out: 64 }, { n: 8 }), 1, 'an 8-element call runs on one thread');
});

Threads('pointwise by elements: the same bits as one thread, at sizes that do not divide evenly', async () => {
  await workersReady();
  for (const size of [THREADING_MIN_ELEMENTS + 13, (1 << 20) + 3, 3 * THREADING_MIN_ELEMENTS - 1]) {
    const inputs = { a: randomArray(f32, size), b: randomArray(f32, size) };
    const { one, two, sent } = onBoth(hypot, inputs, 'out', size, { n: size });
    assert.is(sent, 1, `hypot ${size} split between both threads`);
    assert.equal(two, one, `hypot ${size}`);
  }
  const { sent } = onBoth(hypot, { a: randomArray(f32, 4096), b: randomArray(f32, 4096) }, 'out', 4096, { n: 4096 });
  assert.is(sent, 0, 'a 4096-element call stays on the calling thread');
});

Threads('pointwise by outer rows (a transpose) and reductions by rows (softmax): the same bits', async () => {
  await workersReady();
  const x = randomArray(f32, 601 * 1000, -20, 20);
  /** onBoth, with the chunks the threaded call was cut into. */
  const split = (kernel: Kernel) => {
    const before = pool.stats.chunks;
    const r = onBoth(kernel, { x }, 'y', 601 * 1000);
    return { ...r, chunks: pool.stats.chunks - before };
  };
  const t = split(expTranspose(601, 1000));
  assert.is(t.sent, 1, 'the transpose split');
  assert.is(t.chunks, 8, 'a pointwise nest: 4 chunks per thread');
  assert.equal(t.two, t.one);
  const s = split(softmax(601, 1000));
  assert.is(s.sent, 1, 'softmax split');
  // rows cost alike: 16 small chunks per thread, so the thread that finishes first waits less at the join
  assert.is(s.chunks, 32, 'softmax rows: 16 chunks per thread');
  assert.equal(s.two, s.one);
  const want = new Float32Array(601 * 1000);
  runReference(softmax(601, 1000), { buffers: { x, y: want }, params: {} });
  assertClose(s.two, want, 1e-6, 1e-5, 'softmax vs the reference');
  const small = onBoth(softmax(8, 1000), { x: x.subarray(0, 8000) }, 'y', 8000);
  assert.is(small.sent, 0, 'an 8-row softmax stays on the calling thread');
});

Threads('column-split matmuls match the reference; small ones stay on the calling thread', async () => {
  await workersReady();
  const cases: [number[], number, number, number, boolean][] = [
    [[], 256, 256, 256, false], [[], 200, 264, 300, true], [[2], 130, 136, 260, true], [[], 256, 256, 0, true], [[], 8, 8, 8, false],
  ];
  for (const [batch, m, nn, k, epi] of cases) {
    const kern = matmul(batch, m, nn, k, epi);
    const B = batch.reduce((x, y) => x * y, 1);
    const inputs = { a: randomArray(f32, B * m * k), b: randomArray(f32, k * nn), ...(epi ? { bias: randomArray(f32, nn) } : {}) };
    const { one, two, sent } = onBoth(kern, inputs, 'c', B * m * nn);
    const want = new Float32Array(B * m * nn);
    runReference(kern, { buffers: { ...inputs, c: want }, params: {} });
    assertClose(two, want, 1e-4, 1e-4, `${batch} ${m}x${nn}x${k}`);
    assert.equal(two, one, `${m}x${nn}x${k}: the same bits as one thread`);
    const split = B * m * nn * k >= 1 << 22;
    assert.is(sent, split ? 1 : 0, `${m}x${nn}x${k} split: ${split}`);
  }
});

Threads('the worker takes chunks of split calls (calls repeated until the OS schedules it: the machine is shared)', async () => {
  await workersReady();
  const size = 1 << 22;
  const inputs = { a: randomArray(f32, size), b: randomArray(f32, size) };
  const k = compileKernels([hypot], threaded).kernels.get('hypot')!;
  const before = pool.stats.chunksByWorkers;
  const out = new Float32Array(size);
  for (let i = 0; i < 200 && pool.stats.chunksByWorkers === before; i++) {
    runOnArrays(k, threaded, { inputs, outputs: { out }, params: { n: size } });
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(pool.stats.chunksByWorkers > before, `no chunk ran on the worker in 200 calls (${JSON.stringify(pool.stats)})`);
  const want = new Float32Array(size);
  runOnArrays(compileKernels([hypot], single).kernels.get('hypot')!, single, { inputs, outputs: { out: want }, params: { n: size } });
  assert.equal(out, want);
});

Threads('a pool whose workers cannot start runs every chunk on the calling thread, correctly', () => {
  const arena = new Arena(1 << 16, { threads: 3 });
  arena.threads!.unavailable = new Error('no workers here'); // as if new Worker() had thrown
  const size = 2 * THREADING_MIN_ELEMENTS + 5;
  const inputs = { a: randomArray(f32, size), b: randomArray(f32, size) };
  const got = new Float32Array(size), want = new Float32Array(size);
  runOnArrays(compileKernels([hypot], arena).kernels.get('hypot')!, arena, { inputs, outputs: { out: got }, params: { n: size } });
  runOnArrays(compileKernels([hypot], single).kernels.get('hypot')!, single, { inputs, outputs: { out: want }, params: { n: size } });
  const { started, stats } = arena.threads!;
  assert.equal([started, stats.splitCalls, stats.offered, stats.chunksByWorkers], [0, 1, 0, 0]);
  assert.equal(got, want);
});

/**
 * Drives a SplitChoice for `calls` calls; `ms(split, call)` is each call's time. A split call finds the worker
 * spinning when the call before it split too, unless `spinning(call, previousSplit)` says otherwise (as the
 * pool reports it: ThreadPool.lastOfferSpinning). Answers how each call ran.
 */
function drive(choice: SplitChoice, calls: number, ms: (split: boolean, call: number) => number, spinning = (_call: number, previousSplit: boolean) => previousSplit): boolean[] {
  const ways: boolean[] = [];
  for (let i = 0; i < calls; i++) {
    const split = choice.next();
    choice.record(split, ms(split, i), 1 << 20, spinning(i, ways[i - 1] ?? false));
    ways.push(split);
  }
  return ways;
}

Threads('each kernel splits only where splitting measured faster, and tries the other way again now and then', () => {
  // a loaded machine: the split calls are slower
  const busy = drive(new SplitChoice(), 3 * PROBE_EVERY + 1, (split) => (split ? 8 : 2));
  assert.equal(busy.slice(0, ALTERNATE_FIRST), [...FIRST_CALLS], 'measures both ways first');
  assert.equal(FIRST_CALLS.filter((s) => !s).length >= 2 && FIRST_CALLS.filter(Boolean).length >= 4, true);
  // then one thread, with a split probe of two calls now and then: every PROBE_EVERY calls while splitting
  // is less than twice as slow, twice as far apart after each probe that measured it more than twice as slow
  const probeStarts = (ways: boolean[]) => ways.flatMap((s, i) => (i >= ALTERNATE_FIRST && s && !ways[i - 1] ? [i + 1] : []));
  assert.equal(probeStarts(busy), [PROBE_EVERY, 2 * PROBE_EVERY], 'split probes in 49 calls, 4× slower');
  assert.is(busy.filter(Boolean).length, FIRST_CALLS.filter(Boolean).length + 2 * 2, 'each probe is two split calls');
  const gaps = (starts: number[]) => starts.slice(1).map((s, i) => s - starts[i]!);
  assert.equal(gaps(probeStarts(drive(new SplitChoice(), 520, (split) => (split ? 8 : 2)))), [16, 32, 64, MAX_PROBE_EVERY, MAX_PROBE_EVERY, MAX_PROBE_EVERY], 'probes of a 4× slower split space out');
  assert.ok(gaps(probeStarts(drive(new SplitChoice(), 600, (split) => (split ? 3 : 2)))).every((g) => g === PROBE_EVERY), 'probes of a 1.5× slower split do not');
  // idle cores: split calls are faster
  const idle = drive(new SplitChoice(), 3 * PROBE_EVERY, (split) => (split ? 1 : 2));
  const singles = idle.slice(ALTERNATE_FIRST).filter((s) => !s).length;
  assert.is(singles, 3, 'split, with a one-thread probe every PROBE_EVERY calls');
  // the first split call also started the workers: not kept
  const warming = new SplitChoice();
  drive(warming, ALTERNATE_FIRST, (split, i) => (split ? (i === 0 ? 100 : 1) : 2));
  assert.ok(warming.next(), 'the workers\' start-up does not count against splitting');
});

Threads('splitting that measures only a little faster than one thread is not chosen (it has costs its timing does not see)', () => {
  // split 0.95 ms against 1 ms on one thread: within the margin, so one thread, splitting only to probe
  const close = drive(new SplitChoice(), 6 * PROBE_EVERY, (split) => (split ? 0.95 : 1));
  const late = close.slice(2 * PROBE_EVERY);
  assert.ok(late.filter(Boolean).length <= late.length / 4, `mostly one thread: ${late.map((s) => (s ? 'S' : '1')).join('')}`);
  // clearly faster (past the margin): split
  const clear = drive(new SplitChoice(), 6 * PROBE_EVERY, (split) => (split ? SPLIT_MARGIN - 0.05 : 1));
  assert.ok(clear.slice(2 * PROBE_EVERY).filter(Boolean).length >= 3 * PROBE_EVERY, 'splitting past the margin is chosen');
});

Threads('a kernel whose first split calls were not timed (the workers booting) still probes splitting later', () => {
  // the first 40 split calls find no worker ready (dispatch does not time them); then splitting measures
  // 1.5× slower than one thread, so the kernel runs on one thread and must still try splitting every
  // PROBE_EVERY calls (a probe missed while the split way had no timing was never made again)
  const choice = new SplitChoice();
  const ways: boolean[] = [];
  let untimed = 40;
  for (let i = 0; i < 200; i++) {
    const split = choice.next();
    ways.push(split);
    if (split && untimed > 0) untimed--;
    else choice.record(split, split ? 3 : 2, 1 << 20);
  }
  const late = ways.slice(100);
  assert.ok(late.filter(Boolean).length >= 2 * Math.floor(late.length / PROBE_EVERY) - 2, `split probes in the last 100 calls: ${late.map((s) => (s ? 'S' : '1')).join('')}`);
  assert.ok(late.filter((s) => !s).length > 80, 'mostly one thread');
});

Threads('one slow split call (a preempted worker) does not send a kernel to one thread', () => {
  // split 1 ms, one thread 2 ms; the 10th split call after the first calls took 8 ms (a moving average of
  // weight ½ then read 4.5 ms, worse than one thread, for the next PROBE_EVERY calls)
  let splitCalls = 0;
  const ways = drive(new SplitChoice(), 2 * PROBE_EVERY, (split) => (split ? (++splitCalls === 10 ? 8 : 1) : 2));
  // one-thread calls after the first calls: only the probes, one every PROBE_EVERY calls
  const singles = ways.slice(ALTERNATE_FIRST).filter((s) => !s).length;
  assert.is(singles, 2, `one thread only to probe: ${ways.map((s) => (s ? 'S' : '1')).join('')}`);
});

Threads('a split probe after one-thread calls is timed on its second call (the first wakes the worker)', () => {
  // one thread 2 ms; a split call 1 ms when the call before it split too (the worker spinning), 3 ms after a
  // one-thread call (the worker asleep: a wake-up). Splitting call after call is the faster way.
  const choice = new SplitChoice();
  let previous = false;
  const ways = drive(choice, 4 * PROBE_EVERY, (split) => {
    const ms = split ? (previous ? 1 : 3) : 2;
    previous = split;
    return ms;
  });
  const late = ways.slice(2 * PROBE_EVERY);
  assert.ok(late.filter(Boolean).length > late.length / 2, `most later calls split: ${late.map((s) => (s ? 'S' : '1')).join('')}`);
  assert.ok(choice.timings.split < choice.timings.single, 'the kept split timings are the warm ones');
  assert.is(choice.timings.cold, 3 / (1 << 20), 'the wake-up calls are kept apart');
});

Threads('calls in pairs after long gaps (the compiled bench\'s rounds) split when the second call of a pair splits faster', () => {
  // A round: this kernel twice, then the peers' calls for 15–20 ms. The first call of a round finds the
  // worker asleep (a split call then costs 2.5 ms: the wake-up), the second finds it spinning after a split
  // first call (1 ms); one thread takes 2 ms. Splitting both calls costs 3.5 ms a round, one thread 4. The
  // rule before (time a split call when the call before it split too) timed the first calls' wake-ups too
  // and kept the kernel on one thread for most of the rounds.
  const choice = new SplitChoice();
  const ways = drive(choice, 8 * PROBE_EVERY, (split, call) => (split ? (call % 2 === 0 ? 2.5 : 1) : 2), (call, previousSplit) => call % 2 === 1 && previousSplit);
  const late = ways.slice(2 * PROBE_EVERY);
  const shown = late.map((s) => (s ? 'S' : '1')).join('');
  assert.ok(late.filter(Boolean).length >= late.length * 0.85, `most later calls split: ${shown}`);
  assert.is(choice.timings.split, 1 / (1 << 20), 'what splitting costs: the spinning-worker calls');
  // calls that only ever find the worker asleep (far apart) are judged by their wake-up timings
  const far = new SplitChoice();
  const farWays = drive(far, 6 * PROBE_EVERY, (split) => (split ? 2.5 : 2), () => false);
  assert.ok(farWays.slice(2 * PROBE_EVERY).filter((s) => !s).length >= 3 * PROBE_EVERY, 'far-apart calls whose wake-up makes splitting slower stay on one thread');
});

Threads.after(() => pool.close());

Threads.run();
