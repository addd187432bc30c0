// The thread pool's hand-offs: a worker with nothing left to do sleeps (even while the caller is still
// running chunks of the same call), spins are bounded and configurable, and results do not depend on them.
// Each thread runs its own range of chunks first; a worker offered calls in quick succession stays awake
// between them, and one offered calls far apart, or none, goes back to sleep.
import { cpus, loadavg } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KilnError } from '@kiln/tensor';
import { Arena, IdleCoreMonitor, MAX_SPIN_MICROS, MAX_WORKER_SPIN_MICROS, SPIN_MICROS } from '@kiln/backend-cpu';
import { BACK_OFF_OFFERS, SPIN_GAPS, nextSpin } from '../src/runtime/thread-worker.js';
import { LOOP_MODULE, NOP_MODULE, SCHEDSTAT, busyFor, processCpuMs, threadCpuMs } from './thread-modules.js';

const arena = new Arena(1 << 16, { threads: 2 });
const pool = arena.threads!;
// The pool itself owns the module: a module-scope object no closure reads could be collected mid-file, and
// its module forgotten while a call still names it (a full test run hung so: the worker waited for the module).
const nop = pool.register(NOP_MODULE, ['f'], pool);
const BOUNDS = Array.from({ length: 9 }, (_, i) => i * 100);
const busy = pool.register(LOOP_MODULE, ['f'], pool);
// These tests are about the spin and the naps: the pool must not see another process's load as a reason to
// skip them (runtime/idle-core.ts), as it would on a busy CI machine.
pool.idleCore = new IdleCoreMonitor(2, () => undefined);

/** Runs one split call whose caller-side chunks each take `callerMs`; answers the stats it added. */
function splitCall(callerMs: number) {
  const before = { ...pool.stats };
  let here = 0;
  pool.run(nop, 0, () => [], BOUNDS, () => {
    here++;
    busyFor(callerMs);
  });
  return { taken: pool.stats.taken - before.taken, byWorker: pool.stats.chunksByWorkers - before.chunksByWorkers, here, joinWaits: pool.stats.joinWaits - before.joinWaits, joinSleeps: pool.stats.joinSleeps - before.joinSleeps };
}

async function workerReady(): Promise<void> {
  splitCall(0); // starts the worker
  for (let i = 0; i < 500 && pool.ready < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(pool.ready, 1, 'the worker started');
}

const Wake = suite('threads: wake and join');

Wake('a worker done with its chunks sleeps while the caller still runs its own (no core burnt waiting)', async () => {
  if (threadCpuMs() === undefined) {
    console.log(`  skipped: needs ${SCHEDSTAT} (Linux) to tell the worker's CPU time from the caller's`);
    return;
  }
  await workerReady();
  // the worker's first offer taken (it instantiates the module then) and the caller's JIT warm first
  for (let i = 0; i < 200 && splitCall(1).byWorker === 0; i++) await new Promise((r) => setTimeout(r, 1));
  // The caller takes the first chunk and spends 200 ms in it; the worker, once the OS runs it, takes the
  // other (empty) chunks and is done at once. A worker that polled instead of sleeping would use about as
  // much CPU as the caller. Least of three calls where both took part and the caller got 20 ms of CPU or
  // more (the machine is shared, and V8's own threads still compile and collect after the start).
  const ratios: number[] = [];
  for (let attempt = 0; attempt < 30 && ratios.length < 3; attempt++) {
    await new Promise((r) => setTimeout(r, 2)); // the worker asleep, so the caller takes the first chunk
    const thread0 = threadCpuMs()!, process0 = processCpuMs();
    const s = splitCall(200);
    const callerCpu = threadCpuMs()! - thread0, othersCpu = processCpuMs() - process0 - callerCpu;
    assert.is(s.here + s.byWorker, 8, 'every chunk ran once');
    if (s.byWorker > 0 && s.here > 0 && callerCpu >= 20) ratios.push(othersCpu / callerCpu);
  }
  if (ratios.length === 3) {
    const least = Math.min(...ratios);
    assert.ok(least < 0.25, `threads other than the caller used ${(100 * least).toFixed(0)} % of the caller's CPU time while it ran its 200 ms chunk (least of 3): an idle worker must sleep`);
    return;
  }
  console.log('  skipped: the worker and the caller did not both run in 3 of 30 calls of 200 ms (a very busy machine)');
});

Wake('with no spin the caller sleeps on every running worker; a spin is bounded and set only in range', async () => {
  await workerReady();
  assert.is(pool.spinMicros, SPIN_MICROS);
  pool.spinMicros = 0;
  let waits = 0, sleeps = 0;
  for (let i = 0; i < 50; i++) {
    const s = splitCall(0);
    waits += s.joinWaits;
    sleeps += s.joinSleeps;
  }
  assert.is(sleeps, waits, 'spinMicros 0: every join wait sleeps at once');
  pool.spinMicros = MAX_SPIN_MICROS;
  for (const bad of [-1, 1.5, MAX_SPIN_MICROS + 1, Number.NaN]) {
    try {
      pool.spinMicros = bad;
      assert.unreachable(`spinMicros = ${bad} was accepted`);
    } catch (err) {
      assert.instance(err, KilnError);
      assert.match((err as Error).message, /spinMicros must be a whole number from 0 to 50/);
    }
  }
  assert.is(pool.spinMicros, MAX_SPIN_MICROS, 'a refused value leaves the spin as it was');
  pool.spinMicros = SPIN_MICROS;
});

Wake('a call naming a module the workers forgot (its owner collected) runs on the caller instead of hanging', async () => {
  await workerReady();
  const forgotten = pool.register(NOP_MODULE, ['f'], {});
  // what the pool does when the owner is collected (a FinalizationRegistry callback, not reachable on demand)
  (pool as unknown as { forget(id: number): void }).forget(forgotten);
  const before = pool.stats.chunksByWorkers;
  let here = 0;
  const offered = pool.run(forgotten, 0, () => [], BOUNDS, () => here++);
  assert.is(offered, 0, 'no worker offered the forgotten module');
  assert.is(here, 8, 'every chunk ran on the caller');
  assert.is(pool.stats.chunksByWorkers, before, 'no chunk by a worker');
  // the pool still hands chunks of a module it knows to the worker
  let workerRan = false;
  for (let i = 0; i < 500 && !workerRan; i++) {
    workerRan = splitCall(0).byWorker > 0;
    if (!workerRan) await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(workerRan, 'a known module still runs chunks on the worker');
});

Wake('each thread runs its own range of chunks from the front, then takes from the back of the others', async () => {
  await workerReady();
  // 16 chunks that take the worker about 75 µs each, and the caller as long: the caller owns chunks 0–7
  const bounds = Array.from({ length: 17 }, (_, i) => i * 500);
  const call = () => {
    const mine: number[] = [];
    pool.run(busy, 0, () => [], bounds, (begin) => {
      mine.push(begin / 500);
      busyFor(0.075);
    });
    return mine;
  };
  for (let i = 0; i < 20; i++) call(); // the worker's code optimised
  let shared = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const mine = call();
    // its own range's front in order, then whatever it took from the back of the worker's range (15, 14, …)
    const own = mine.findIndex((c, i) => c !== i);
    const front = own < 0 ? mine.length : own;
    assert.ok(front <= 8, `the caller's own chunks are 0–7, ran ${mine.join(', ')}`);
    mine.slice(front).forEach((c, i) => assert.is(c, 15 - i, `after its own, the caller takes from the back of the worker's range: ${mine.join(', ')}`));
    if (mine.length < 16) shared++;
  }
  assert.ok(shared > 0, 'the worker ran chunks in some of the 20 calls');
});

/** The worker's CPU time in ms while `during` runs (the process's, less the calling thread's), Linux only. */
async function othersCpuMs(during: () => Promise<void>): Promise<number> {
  const thread0 = threadCpuMs()!, process0 = processCpuMs();
  await during();
  return processCpuMs() - process0 - (threadCpuMs()! - thread0);
}

/** The workers' spin bounds once they equal `want` or half a second has passed, whichever comes first. */
async function settledSpins(want: number[]): Promise<number[]> {
  for (const end = performance.now() + 500; performance.now() < end; await new Promise((r) => setTimeout(r, 5))) {
    if (pool.workerSpins.every((s, i) => s === want[i])) break;
  }
  return pool.workerSpins;
}

Wake('a worker offered calls in quick succession stays awake between them; idle, it sleeps', async () => {
  if (threadCpuMs() === undefined) {
    console.log(`  skipped: needs ${SCHEDSTAT} (Linux) to tell the worker's CPU time from the caller's`);
    return;
  }
  await workerReady();
  const bounds = Array.from({ length: 9 }, (_, i) => i * 200); // about 30 µs per chunk
  const call = () => pool.run(busy, 0, () => [], bounds, () => busyFor(0.03));
  // Calls 0.2 ms apart (what separates the kernels of a model's forward pass, or a bench's contenders): a
  // worker that slept after each (the spin of SPIN_MICROS alone) is woken by every offer. Least of 3 runs:
  // a busy machine may preempt the worker mid-spin.
  const shares: number[] = [];
  const spins: number[] = [];
  for (let run = 0; run < 3; run++) {
    for (let i = 0; i < 10; i++) (call(), busyFor(0.2));
    const wakes0 = pool.workerWakes;
    for (let i = 0; i < 100; i++) (call(), busyFor(0.2), spins.push(...pool.workerSpins));
    shares.push((pool.workerWakes - wakes0) / 100);
  }
  const least = Math.min(...shares);
  // on a machine with more runnable threads than cores the OS preempts the spin, and the worker then backs
  // off (sleeps, spins only spinMicros for 32 offers): what it must do there, so no verdict on the spin
  const [load] = loadavg();
  if (least >= 0.5 && load > 1.5 * cpus().length) {
    console.log(`  skipped the spin check: ${(100 * least).toFixed(0)} % of offers woke the worker at load average ${load.toFixed(1)} on ${cpus().length} cores (a busy machine: spins back off)`);
    return;
  }
  assert.ok(least < 0.5, `${(100 * least).toFixed(0)} % of calls 0.2 ms apart found the worker asleep (least of 3 runs of 100): it should have spun through the gap`);
  assert.ok(Math.max(...spins) > SPIN_MICROS && Math.max(...spins) <= MAX_WORKER_SPIN_MICROS, `the spin grew within its bound: at most ${Math.max(...spins)} µs`);
  // Once the calls stop, the worker spins out its bound at most once, then sleeps: over 100 ms it uses
  // about that bound of CPU, not 100 ms. Least of 3 windows (V8's own threads also run after a burst).
  const idle: number[] = [];
  for (let run = 0; run < 3; run++) {
    for (let i = 0; i < 20; i++) (call(), busyFor(0.2));
    idle.push(await othersCpuMs(() => new Promise((r) => setTimeout(r, 100))));
  }
  assert.ok(Math.min(...idle) < MAX_WORKER_SPIN_MICROS / 1000 + 3, `threads other than the caller used ${Math.min(...idle).toFixed(1)} ms of CPU in 100 ms with no call (least of 3)`);
  // calls far apart: the spin falls back to spinMicros (each such call pays a wake-up, but no core burns)
  // (the worker sets its next spin only once it has woken and taken an offer: a caller that ran every chunk
  // before the worker woke withdraws it. So this call's own chunks take 2 ms each on the caller, long enough
  // for the wake-up, and the check waits for the worker, up to half a second, with no further call between.)
  // (the worker follows the shortest of its last SPIN_GAPS gaps, so one long gap alone does not end the spin)
  for (let i = 0; i < SPIN_GAPS; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pool.run(busy, 0, () => [], bounds, () => busyFor(2));
  }
  assert.equal(await settledSpins([SPIN_MICROS]), [SPIN_MICROS], 'after 20 ms gaps the worker spins only spinMicros');
  pool.spinMicros = 0;
  for (let i = 0; i < 10; i++) (call(), busyFor(0.2));
  assert.equal(await settledSpins([0]), [0], 'spinMicros 0: the worker never spins');
  pool.spinMicros = SPIN_MICROS;
});

Wake('a preempted spin backs the worker off briefly; preempted spins in a row back it off longer, up to BACK_OFF_OFFERS', () => {
  const state = { budget: SPIN_MICROS, backOff: 0, backOffLength: 1, gaps: [] as number[] };
  /** The spin after an offer that came `gap` µs after the last (bound 2 ms); `preempted`: during the last spin. */
  const offer = (preempted: boolean, gap = 500) => {
    nextSpin(state, SPIN_MICROS, gap, MAX_WORKER_SPIN_MICROS, preempted, BACK_OFF_OFFERS, SPIN_GAPS);
    return state.budget;
  };
  assert.is(offer(false), 1000, 'calls 0.5 ms apart: the worker spins twice the gap');
  // One preemption among calls that otherwise find the worker spinning (V8's GC threads take a slice about
  // once in 35 compiled calls on 2 cores): one offer at the base spin, then the long spin again. (It was 32
  // offers: the worker slept through most of a compiled read loop.)
  assert.is(offer(true), SPIN_MICROS, 'right after the preempted spin: the base');
  assert.is(offer(false), 1000, 'one offer later: the long spin again');
  for (let i = 0; i < 40; i++) offer(false);
  // A busy machine: every long spin is preempted. The back-offs grow 1, 2, 4, … up to BACK_OFF_OFFERS.
  const runs: number[] = [];
  let run = 0;
  for (let i = 0, long = true; i < 400; i++) {
    long = offer(long) > SPIN_MICROS; // a short spin is over before the OS takes the core
    if (long) (run > 0 && runs.push(run), (run = 0));
    else run++;
  }
  assert.equal(runs.slice(0, 7), [1, 2, 4, 8, 16, 32, 32], 'back-offs in a row double up to BACK_OFF_OFFERS');
  // the load gone, each long spin the OS leaves alone halves the next back-off
  for (let i = 0; i < BACK_OFF_OFFERS + 10; i++) offer(false);
  assert.is(state.backOffLength, 1, 'back to a back-off of one offer');
  // One gap past the bound (a GC pause in the caller's loop) leaves the spin as it was: with the last gap
  // alone it fell to the base, and the next ordinary gap woke the worker a second time. Gaps past the bound
  // in a row (calls far apart) bring it to the base.
  assert.is(offer(false, 5000), 1000, 'one gap longer than the bound: the spin stays');
  assert.is(offer(false, 5000), 1000, 'two in a row: still (the shortest of the last three gaps)');
  assert.is(offer(false, 5000), SPIN_MICROS, 'three in a row (calls far apart): the base spin');
  assert.is(offer(false, 500), 1000, 'one ordinary gap after them: the long spin again');
  // Calls in pairs with other work between the pairs (the compiled bench's rounds: this kernel twice, then
  // the peers' calls): gaps short, long, short, … Every spin must cover the short gap, the one after the
  // first call of a pair above all; with the median of the last three gaps that spin was the base, and the
  // second call of each pair found the worker napping.
  for (let i = 0; i < 6; i++) offer(false, i % 2 ? 300 : 15000);
  for (let i = 0; i < 6; i++) assert.ok(offer(false, i % 2 ? 300 : 15000) >= 600, `the spin after a ${i % 2 ? 'short' : 'long'} gap covers the short one`);
  nextSpin(state, 0, 500, MAX_WORKER_SPIN_MICROS, false, BACK_OFF_OFFERS, SPIN_GAPS);
  assert.is(state.budget, 0, 'spinMicros 0: no spin');
});

Wake.after(() => pool.close());

Wake.run();
