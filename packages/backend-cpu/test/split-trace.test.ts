// Where a split call's time goes (runtime/split-trace.ts): the summary of a hand-written trace is the
// arithmetic of its timestamps, and a live pool's trace covers every call and chunk it ran, from both
// threads, without changing what runs where.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, compileKernels, runOnArrays } from '@kiln/backend-cpu';
import { newTraceBuffer, regionOf, summarizeSplitTrace, TRACE } from '../src/runtime/split-trace.js';
import { randomArray, softmaxKernel } from './helpers.js';

const Trace = suite('split trace');

/** Writes events [kind, size, time in ms] into thread `thread`'s region. */
function write(buf: Float64Array, thread: number, events: [number, number, number][]): void {
  const region = regionOf(buf, thread);
  events.forEach(([kind, size, t], i) => buf.set([kind, size, t], region + 1 + 3 * i));
  buf[region] = events.length;
}

Trace('a hand-written trace: the hand-off, the chunks, their speed and the join, as medians per call', () => {
  const buf = newTraceBuffer(2, 64);
  const { CALL, OFFERING, OFFERED, JOINED, CHUNK_START: S, CHUNK_END: E, TAKEN } = TRACE;
  // call 1 at t = 0 ms: offer at 2 µs, notified at 22 µs, the caller runs 10 rows (40 µs), the worker (asleep:
  // woken) starts at 12 µs and runs 10 rows in 50 µs, the join at 83 µs. Call 2 at 1 ms: the worker never
  // takes the offer. Call 3 at 2 ms: offer at 4 µs, notified at 5 µs, the caller 20 rows in 80 µs, the
  // worker (spinning) 10 rows from 6 to 56 µs, the join at 85 µs.
  write(buf, 0, [
    [CALL, 0, 0], [OFFERING, 0, 0.002], [OFFERED, 0, 0.022], [S, 10, 0.022], [E, 10, 0.062], [JOINED, 0, 0.083],
    [CALL, 0, 1], [OFFERING, 0, 1.001], [OFFERED, 0, 1.001], [S, 20, 1.001], [E, 20, 1.05], [JOINED, 0, 1.051],
    [CALL, 0, 2], [OFFERING, 0, 2.004], [OFFERED, 0, 2.005], [S, 20, 2.005], [E, 20, 2.085], [JOINED, 0, 2.086],
  ]);
  write(buf, 1, [
    [TAKEN, 1, 0.01], [S, 10, 0.012], [E, 10, 0.062],
    [TAKEN, 0, 2.005], [S, 10, 2.006], [E, 10, 2.056],
  ]);
  const t = summarizeSplitTrace(buf, 2);
  assert.is(t.calls, 3);
  assert.is(t.taken, 2, 'call 2 was never taken up');
  assert.is(t.wokeWorker, 1);
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a}, expected ${b}`);
  // medians of two values take the upper one (index 1 of 2)
  near(t.offer, 4, 'offer');
  near(t.notify, 20, 'notify');
  near(t.workerStart, 10, 'worker start');
  near(t.callerNsPerUnit, (120 * 1000) / 30, 'caller ns per row (call 2 ran no worker: not counted)');
  near(t.workerNsPerUnit, (100 * 1000) / 20, 'worker ns per row');
  near(t.joinWait, 21, 'join wait');
  near(t.call, 83, 'call (median of 83, 51, 86 µs)');
  assert.is(t.callerChunks, 1);
  assert.is(t.workerChunks, 1);
});

Trace('a live trace of split softmax calls: every call recorded, both threads, the same bits as untraced', async () => {
  const arena = new Arena(1 << 20, { threads: 2 });
  const pool = arena.threads!;
  pool.adaptive = false;
  const kernel = compileKernels([softmaxKernel(512, 1024)], arena).kernels.get('softmax')!;
  const x = randomArray('float32', 512 * 1024);
  const run = () => {
    const y = new Float32Array(512 * 1024);
    runOnArrays(kernel, arena, { inputs: { x }, outputs: { y } });
    return y;
  };
  const untraced = run();
  for (let i = 0; i < 500 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(pool.ready, 1, 'the worker started');
  assert.is(pool.stopTrace(), null, 'no trace started: nothing to stop');
  pool.startTrace();
  const calls0 = pool.stats.splitCalls, taken0 = pool.stats.taken, chunks0 = pool.stats.chunks;
  let same = true;
  for (let i = 0; i < 30; i++) same = run().every((v, j) => Object.is(v, untraced[j])) && same;
  const t = pool.stopTrace()!;
  assert.ok(same, 'traced calls compute the same bits');
  assert.is(t.calls, pool.stats.splitCalls - calls0, 'every split call recorded');
  assert.is(t.taken, pool.stats.taken - taken0, 'every offer the worker took recorded');
  assert.is(pool.stats.chunks - chunks0, 30 * 32, '32 chunks a call');
  if (t.taken > 0) {
    assert.ok(t.workerNsPerUnit > 0 && t.callerNsPerUnit > 0, `both threads' chunks timed: ${JSON.stringify(t)}`);
    assert.ok(t.callerChunks + t.workerChunks >= 16 && t.callerChunks + t.workerChunks <= 48, `about 32 chunks between them: ${JSON.stringify(t)}`);
  } else {
    console.log('  the worker took none of the 30 offers (a busy machine): only the caller\'s side checked');
  }
  assert.ok(t.call > 0 && t.offer >= 0, JSON.stringify(t));
  // traced again after a stop: a fresh buffer, the worker told again
  pool.startTrace();
  run();
  assert.is(pool.stopTrace()!.calls, 1);
  await pool.close();
});

Trace.run();
