// A worker between its spin and its sleep naps (thread-worker.ts, NAP_MICROS): offers made while it naps
// reach it without Atomics.notify (a notified worker can be put on the caller's core and preempt the
// caller there), it takes their chunks, a nap is not a spin in disguise, and after NAP_FOR_MICROS without
// a call it sleeps until notified. Counts, not timings: gaps only set which phase an offer meets.
import { availableParallelism } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, IDLE_CORE_PERIOD_MS, IdleCoreMonitor, SPIN_MICROS, busySeconds } from '@kiln/backend-cpu';
import { NAP_FOR_MICROS } from '../src/runtime/thread-worker.js';
import { LOOP_MODULE, SCHEDSTAT, busyFor, processCpuMs, threadCpuMs } from './thread-modules.js';

const arena = new Arena(1 << 16, { threads: 2 });
const pool = arena.threads!;
const busy = pool.register(LOOP_MODULE, ['f'], pool); // the pool owns the module (see threads-wake)
// These tests are about the spin and the naps: the pool must not see another process's load as a reason to
// skip them (runtime/idle-core.ts), as it would on a busy CI machine.
pool.idleCore = new IdleCoreMonitor(2, () => undefined);
const BOUNDS = Array.from({ length: 9 }, (_, i) => i * 200); // a worker's chunk ≈ 30 µs

/** One split call whose caller-side chunks take `callerMs` each; answers the chunks each side ran. */
function call(callerMs: number): { here: number; byWorker: number } {
  const before = pool.stats.chunksByWorkers;
  let here = 0;
  pool.run(busy, 0, () => [], BOUNDS, () => (here++, busyFor(callerMs)));
  return { here, byWorker: pool.stats.chunksByWorkers - before };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `gapMs` apart (the caller busy meanwhile, as a loop reading its results is); answers per offer the share of naps and wakes. */
function callsApart(calls: number, gapMs: number) {
  const naps0 = pool.workerNaps, wakes0 = pool.workerWakes;
  let byWorker = 0, spinning = 0;
  for (let i = 0; i < calls; i++) {
    const napsBefore = pool.workerNaps;
    const s = call(0.1);
    assert.is(s.here + s.byWorker, 8, 'every chunk ran once');
    // what the split choice is told (runtime/split-choice.ts): an offer to a napping worker paid a wake-up
    if (pool.workerNaps > napsBefore) assert.is(pool.lastOfferSpinning, false, 'an offer that found the worker napping is not a spinning-worker call');
    if (pool.lastOfferSpinning) spinning++;
    byWorker += s.byWorker;
    busyFor(gapMs);
  }
  return { naps: (pool.workerNaps - naps0) / calls, wakes: (pool.workerWakes - wakes0) / calls, spinning: spinning / calls, byWorker };
}

const Nap = suite('threads: naps');

Nap.before(async () => {
  call(0); // starts the worker
  for (let i = 0; i < 500 && pool.ready < 1; i++) await sleep(10);
  assert.is(pool.ready, 1, 'the worker started');
  for (let i = 0; i < 200 && call(0.1).byWorker === 0; i++) await sleep(1); // it has the module
});

Nap('calls 4 ms apart (past the spin) find the worker napping: offered without a notify, and it takes chunks', () => {
  // The spin ends within 2 ms (MAX_WORKER_SPIN_MICROS); the nap lasts NAP_FOR_MICROS (20 ms) after a call.
  // Without naps every one of these offers woke the worker with Atomics.notify. Best of 3 runs of 40 calls:
  // on a busy machine the worker may not have been run at all between two calls.
  const runs = [0, 1, 2].map(() => callsApart(40, 4));
  const best = runs.reduce((a, b) => (b.naps > a.naps ? b : a));
  assert.ok(best.naps >= 0.5, `${(100 * best.naps).toFixed(0)} % of offers 4 ms apart found the worker napping (best of 3 runs of 40)`);
  assert.ok(best.wakes <= 0.5, `${(100 * best.wakes).toFixed(0)} % of them woke it from its sleep`);
  assert.ok(runs.some((r) => r.byWorker > 0), 'the napping worker took chunks of the offers');
  // back to back, the offers find the worker still spinning from the call before (best of 3 runs of 40),
  // unless another process kept the other core busy meanwhile: the OS then preempts the spin, and the
  // worker backs off (measured over at least IDLE_CORE_PERIOD_MS with the pool's own monitor)
  const machine = new IdleCoreMonitor(availableParallelism());
  const t0 = performance.now();
  machine.busy(t0);
  const close = Math.max(...[0, 1, 2].map(() => callsApart(40, 0.05).spinning));
  busyFor(Math.max(0, t0 + IDLE_CORE_PERIOD_MS - performance.now()));
  if (close < 0.5 && machine.busy(performance.now())) {
    console.log(`  skipped the spinning check: ${(100 * close).toFixed(0)} % of offers found the worker spinning while other processes kept the other core busy`);
    return;
  }
  assert.ok(close >= 0.5, `${(100 * close).toFixed(0)} % of offers 50 µs apart found the worker spinning`);
});

Nap('a nap is not a spin: the napping worker uses little CPU, and sleeps once NAP_FOR_MICROS have passed', async () => {
  if (threadCpuMs() === undefined) {
    console.log(`  skipped: needs ${SCHEDSTAT} (Linux) to tell the worker's CPU time from the caller's`);
    return;
  }
  // From 3 ms after the last call (its spin is over, at most MAX_WORKER_SPIN_MICROS) to just before the nap
  // ends, the worker only wakes every NAP_MICROS to look: a few % of a core. A nap that spun would use the
  // whole window. Least of 3 windows (V8's own threads run too).
  const shares: number[] = [];
  let sleeps0 = 0;
  for (let run = 0; run < 3; run++) {
    callsApart(5, 1);
    sleeps0 = pool.workerSleeps;
    busyFor(3);
    const window = NAP_FOR_MICROS / 1000 - 6;
    const thread0 = threadCpuMs()!, process0 = processCpuMs();
    await sleep(window);
    shares.push((processCpuMs() - process0 - (threadCpuMs()! - thread0)) / window);
  }
  assert.ok(Math.min(...shares) < 0.25, `the napping worker used ${(100 * Math.min(...shares)).toFixed(0)} % of a core (least of 3 windows)`);
  // past NAP_FOR_MICROS it sleeps, and the next offer notifies it
  // (polled for up to a second: on a busy machine the OS may not run the worker for a while)
  for (let waited = 0; waited < 1000 && pool.workerSleeps === sleeps0; waited += 10) await sleep(10);
  assert.ok(pool.workerSleeps > sleeps0, 'the worker went to sleep after its nap');
  const wakes0 = pool.workerWakes;
  const naps0 = pool.workerNaps;
  call(2); // long caller chunks: the worker wakes up and takes part
  for (let i = 0; i < 100 && pool.workerWakes === wakes0; i++) await sleep(2);
  assert.is(pool.workerNaps, naps0, 'the offer after the nap was not made to a napping worker');
  assert.is(pool.lastOfferSpinning, false, 'nor counted as one that found the worker spinning');
  assert.is(pool.workerWakes, wakes0 + 1, 'it woke the sleeping worker');
});

Nap('offers around the end of a nap are each taken or withdrawn, never lost', async () => {
  // The worker clears NAPPING before it looks at the state for the last time; the caller stores the offer
  // before it reads NAPPING. Either the worker sees the offer or the caller notifies: every call completes.
  for (let i = 0; i < 12; i++) {
    await sleep(NAP_FOR_MICROS / 1000 - 3 + (i % 6));
    const s = call(0.3);
    assert.is(s.here + s.byWorker, 8, 'every chunk ran once');
  }
});

Nap('spinMicros 0: no nap either, every offer after the calls stop notifies the worker', () => {
  pool.spinMicros = 0;
  try {
    callsApart(3, 4); // the worker's current nap (from before) ends; from now on it sleeps at once
    const r = callsApart(20, 4);
    assert.is(r.naps, 0, 'no offer found the worker napping');
  } finally {
    pool.spinMicros = SPIN_MICROS;
  }
});

Nap('with no core to spare (other processes busy on it), a worker sleeps after a call instead of spinning and napping', () => {
  // A monitor that reads a machine whose other core is always busy: the worker, told so with each offer,
  // sleeps after the call, and the next offer (4 ms later) wakes it instead of finding it napping. Beside a
  // busy-loop process on 2 vCPUs its naps, which end on time by preempting someone every 165 µs, made a
  // compiled softmax 1024² read loop 15–35 % slower than one thread (runtime/idle-core.ts).
  const idle = pool.idleCore;
  let ticks = 0;
  pool.idleCore = new IdleCoreMonitor(2, () => `cpu  ${(ticks += 100)} 0 0 0 0 0 0 0\n`, () => 0);
  try {
    callsApart(30, 4); // 120 ms: the monitor has measured a period (IDLE_CORE_PERIOD_MS) and says so to the worker
    const wakes0 = pool.workerWakes;
    const r = callsApart(20, 4);
    assert.is(pool.lastNoIdleCore, true, 'the monitor saw no core to spare');
    assert.ok(r.naps <= 0.2, `${(100 * r.naps).toFixed(0)} % of offers found the worker napping`);
    assert.ok(pool.workerWakes > wakes0, 'offers woke the sleeping worker');
  } finally {
    pool.idleCore = idle;
  }
});

Nap('prewake: a sleeping worker told that a call is coming is spinning when its offer comes; with no core to spare, nothing', async () => {
  const asleep = async () => {
    const sleeps0 = pool.workerSleeps;
    for (let waited = 0; waited < 1000 && pool.workerSleeps === sleeps0; waited += 10) await sleep(10);
    assert.ok(pool.workerSleeps > sleeps0, 'the worker went to sleep after its nap');
  };
  // Each try: the worker asleep, prewoken, then the caller's own work before the offer (guards, the arena's
  // blocks, inputs: 0.2 ms, within the prewoken spin), then the offer. Without the prewake every such offer
  // finds the worker asleep; with it the first try does unless the OS runs the woken worker late.
  let spinningOffers = 0;
  for (let attempt = 0; attempt < 5 && spinningOffers === 0; attempt++) {
    call(0.1);
    await asleep();
    const prewakes0 = pool.stats.prewakes;
    pool.prewake();
    busyFor(0.2);
    const s = call(0.1);
    assert.is(s.here + s.byWorker, 8, 'every chunk ran once');
    assert.is(pool.stats.prewakes, prewakes0 + 1, 'the sleeping worker was prewoken');
    if (pool.lastOfferSpinning) spinningOffers++;
  }
  assert.is(spinningOffers, 1, 'an offer found the prewoken worker spinning, not asleep');
  // prewoken with no offer after all: it spins for a while, then sleeps again
  await asleep();
  pool.prewake();
  await asleep();
  // with no core to spare the woken worker would take the caller's: no prewake
  const idle = pool.idleCore;
  pool.idleCore = { busy: () => true } as unknown as IdleCoreMonitor;
  try {
    const before = pool.stats.prewakes;
    pool.prewake();
    assert.is(pool.stats.prewakes, before, 'not prewoken on a busy machine');
  } finally {
    pool.idleCore = idle;
  }
});

Nap('the idle-core monitor: other processes\' CPU from /proc/stat less this process\'s, over a period', () => {
  assert.is(busySeconds('cpu  100 0 50 9000 0 0 0 10 0 0\ncpu0 1 2 3\n'), 1.6, 'user + nice + system + irq + softirq + steal, in 10 ms ticks');
  assert.is(busySeconds('intr 1 2 3'), undefined, 'not /proc/stat');
  assert.is(busySeconds(undefined), undefined, 'no /proc/stat (not Linux)');
  // 2 cores; each read adds `busy` ticks of all processes, of which `own` seconds are this process's
  let ticks = 0, own = 0;
  const monitor = (busy: number, mine: number) => new IdleCoreMonitor(2, () => `cpu  ${(ticks += busy)} 0 0 0 0 0 0 0\n`, () => (own += mine));
  const verdicts = (m: IdleCoreMonitor) => [0, IDLE_CORE_PERIOD_MS, 2 * IDLE_CORE_PERIOD_MS].map((t) => m.busy(t));
  // per period of 0.1 s: others busy 0.8 core (8 ticks beyond this process's 0.1 s) → no core to spare
  assert.equal(verdicts(monitor(18, 0.1)), [false, true, true], 'others on 80 % of the other core: busy');
  assert.equal(verdicts(monitor(12, 0.1)), [false, false, false], 'others on 20 % of it: a core to spare');
  assert.equal(verdicts(monitor(20, 0.2)), [false, false, false], 'this process\'s own threads (its workers, V8\'s) do not count');
  const one = new IdleCoreMonitor(1, () => `cpu  ${(ticks += 100)} 0 0 0 0 0 0 0\n`, () => 0);
  assert.equal(verdicts(one), [false, false, false], 'one core: never (there is no worker to spare a core for)');
  let reads = 0;
  const missing = new IdleCoreMonitor(2, () => (reads++, undefined));
  assert.equal(verdicts(missing), [false, false, false], 'no /proc/stat: never');
  assert.is(reads, 1, 'and it is not looked for again');
  // between two measurements the last verdict stands (a read costs more than a call's bookkeeping)
  const m = monitor(18, 0.1);
  m.busy(0);
  assert.is(m.busy(IDLE_CORE_PERIOD_MS), true);
  assert.is(m.busy(IDLE_CORE_PERIOD_MS + 1), true, 'within the period: the same verdict, not read again');
});

Nap.after(() => pool.close());

Nap.run();
