// The code a worker thread of the pool runs (threads.ts explains the design): it waits for an offer in its
// control block, spinning first for as long as its adaptive bound says, then takes chunks of the offered
// call from the pool's chunk table until none are left, and reports back. The control block's layout and
// the spin's constants live here, beside the code that reads them.
import { BOUNDS_AT, takeChunk } from './chunk-ranges.js';
import { TRACE, traceMark } from './split-trace.js';

/** A control block's state (slot 0). */
export const IDLE = 0, OFFERED = 1, RUNNING = 2, DONE = 3, FAILED = 4;
/**
 * A call that will probably split is on its way (`ThreadPool.prewake`): an idle worker sets the state back to
 * IDLE and spins for PREWAKE_SPIN_MICROS, so that its wake-up overlaps the caller's own work before the offer.
 */
export const PREWAKE = 5;
/**
 * How long a prewoken worker spins for the offer: the caller's work from a compiled call's start to its first
 * kernel's offer takes tens of µs (guards, the arena's blocks, inputs bound), a wake-up 30–370 µs.
 */
export const PREWAKE_SPIN_MICROS = 500;
/** The most arguments a control block holds (slots 4–55). */
export const MAX_ARGS = 52;
/**
 * Control-block slots (CONTROL_SLOTS Int32s, 4–55 the arguments): the worker's chunk range, the base spin in µs (set
 * by the caller), the worker's count of sleeps in Atomics.wait, its count of offers that found it asleep,
 * the chunk a worker failed on (run again by the caller), the worker's current spin bound in µs, its
 * readiness, how long the caller's last split call took in µs, how many messages the caller has posted
 * to the worker's port, whether the worker is napping (NAP_MICROS: the caller then does not notify it), how
 * many offers found it napping, whether it is asleep in Atomics.wait (the caller's split choice keeps
 * the timings of offers that woke it apart), and whether the caller saw no core to spare (runtime/idle-core.ts:
 * the worker then sleeps after the call, neither spinning nor napping).
 */
export const RANGE = 56, SPIN = 57, SLEEPS = 58, WOKEN = 59, FAILED_CHUNK = 60, BUDGET = 61, READY = 62, LAST_CALL = 64, POSTED = 65, NAPPING = 66, NAPS = 67, SLEEPING = 68, NO_IDLE_CORE = 69;
export const CONTROL_SLOTS = 70;
/** The longest a worker spins after a call, whatever the gaps between calls (pthreadpool spins about as long). */
export const MAX_WORKER_SPIN_MICROS = 2000;
/** A worker spins at most this many times as long as the last split call took. */
export const SPIN_PER_WORK = 4;
/**
 * After its spin, a worker naps: it waits in Atomics.wait with this timeout, again and again, and looks at its
 * control block in between, until NAP_FOR_MICROS after its last call; only then does it sleep until notified.
 * The caller does not notify a napping worker (NAPPING): the worker sees the offer when its nap ends. Why:
 * a worker woken by the caller's Atomics.notify is placed by the OS scheduler, and when the other core is
 * busy (another process, V8's GC threads) it is put on the caller's core and preempts the caller there: the
 * caller sat in Atomics.notify for the whole kernel, 1.1–1.5 ms (median of 300 softmax 1024² calls, compiled
 * read loop beside tfjs, load average 5), while the worker ran all 32 chunks, so a split call cost one
 * thread's time plus the wake-up. A nap ends on a timer on the worker's own core, so the caller is never the
 * thread it preempts, and the caller runs its chunks meanwhile. A nap costs a wake-up of a few µs per
 * NAP_MICROS (a few % of a core) and delays the worker's first chunk by up to one nap plus the OS's timer
 * slack (traced: 130 µs after the offer against 80 µs for a notified worker).
 */
export const NAP_MICROS = 100;
/**
 * How long after its last call a worker naps, at most (see NAP_MICROS): about a frame at 60 Hz, and several
 * times the gaps of a read loop (a compiled call, its read and a peer's call: 2–5 ms). Then it sleeps.
 */
export const NAP_FOR_MICROS = 20_000;
/** A spin that saw the clock jump this far between two looks was preempted by the OS: the worker sleeps. */
export const PREEMPTED_MICROS = 100;
/**
 * The most offers after a preempted spin during which a worker spins only `spinMicros`: on a busy machine a
 * spin is preempted again soon, and each long spin there costs the other threads a slice (and the worker its
 * place in the OS's queue: a thread that burnt CPU is run later when it has work). The back-off escalates:
 * one offer after a first preempted spin, doubling with each further one up to this, halving with each long
 * spin the OS left alone. A single back-off of this length after any preemption (the rule before) kept the
 * worker asleep in compiled read loops on an otherwise idle 2-core machine: V8's own GC threads preempt a
 * spin about once in 35 calls there, so 32 of every 35 offers woke the worker (softmax 1024², 200 traced
 * calls: a spin bound of spinMicros in 150 of 163 offers).
 */
export const BACK_OFF_OFFERS = 32;

/**
 * Gaps between offers a worker remembers: its spin follows the shortest of them, so one long gap (a GC pause
 * in the caller's loop) neither stretches the spin nor ends it. With the last gap alone, a gap past the bound
 * (2–6 ms, every few calls in a compiled read loop) reset the spin to the base, and the next offer, after an
 * ordinary gap, woke the worker a second time. The shortest, not the median (the rule of sessions 11–12): calls in pairs
 * with the peers' calls between (the compiled bench's rounds: gaps short, long, short, …) made the median
 * long after the first call of a pair, so the worker spun only the base then and napped through the short
 * gap (the offers of 97 % of split calls found it napping), and spun after the second call, into the long gap.
 */
export const SPIN_GAPS = 3;

/** A worker's spin between offers (the state nextSpin updates after each offer). */
export interface SpinState {
  /** How long to spin after this offer, µs. */
  budget: number;
  /** Offers left during which it spins only the base. */
  backOff: number;
  /** How many offers the next back-off lasts. */
  backOffLength: number;
  /** The last SPIN_GAPS gaps between offers, µs, oldest first. */
  gaps: number[];
}

/**
 * The spin after an offer: twice the shortest of the last gaps between offers (`gap`: µs since the last),
 * within `bound`; only `base` when that gap is past the bound (calls far apart: each pays a wake-up, and
 * no core burns between them) or while backing off; none when `base` is 0. `preempted`: the OS took the
 * core away during the spin before this offer. Self-contained (no names from outside): the worker source
 * embeds its text, so the limits come as arguments.
 */
export function nextSpin(state: SpinState, base: number, gap: number, bound: number, preempted: boolean, maxBackOff: number, keepGaps: number): void {
  const spunLong = state.budget > base && state.backOff === 0;
  if (preempted) {
    state.backOff = state.backOffLength;
    state.backOffLength = Math.min(maxBackOff, 2 * state.backOffLength);
  } else if (state.backOff > 0) {
    state.backOff--;
  } else if (spunLong) {
    state.backOffLength = Math.max(1, state.backOffLength >> 1);
  }
  state.gaps.push(gap);
  if (state.gaps.length > keepGaps) state.gaps.shift();
  const typical = Math.min(...state.gaps);
  state.budget = base === 0 ? 0 : typical > bound || state.backOff > 0 ? base : Math.max(base, Math.min(bound, 2 * typical));
}

// Plain CommonJS, run with `eval: true`: a worker needs nothing but the memory, its control block, the
// pool's chunk table and the port modules arrive on (`{ id, module, names }`, `{ forget: id }` once the
// module's kernels were collected, `{ trace, region }` to record split-trace.ts's events, or stop).
export const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, chunks, port, active, pool } = workerData;
const ctrl = new Int32Array(control);
const table = new Int32Array(chunks);
const activePool = new Int32Array(active);
const modules = new Map();
const takeChunk = ${String(takeChunk)};
const traceMark = ${String(traceMark)};
const nextSpin = ${String(nextSpin)};
let trace = null, region = 0; // while a trace is on: its buffer, and where this worker's events go
const take = (m) => {
  if (m.forget !== undefined) return void modules.delete(m.forget);
  if (m.trace !== undefined) return void ((trace = m.trace && new Float64Array(m.trace)), (region = m.region));
  const instance = new WebAssembly.Instance(m.module, { env: { memory } });
  modules.set(m.id, m.names.map((n) => instance.exports[n]));
};
// The state once an offer came, or the last state seen once performance.now() passed until, another pool
// split a call, or the OS took the core away mid-spin (${PREEMPTED_MICROS} µs or more between two looks at the
// clock: the machine is busy, and a spin there takes a core from threads that have work).
let preempted = false;
let received = 0; // messages taken from the port (the caller counts those it posts)
const spin = { budget: ctrl[${BUDGET}], backOff: 0, backOffLength: 1, gaps: [] };
const spinForOffer = (until) => {
  let s = Atomics.load(ctrl, 0);
  for (let i = 1, last = performance.now(); s !== ${OFFERED}; i++) {
    if ((i & 15) === 0) {
      const now = performance.now();
      if (now - last > ${PREEMPTED_MICROS / 1000}) preempted = true;
      if (preempted || now >= until || Atomics.load(activePool, 0) !== pool) break;
      last = now;
    }
    s = Atomics.load(ctrl, 0);
  }
  return s;
};
Atomics.store(ctrl, ${READY}, 1);
for (;;) {
  const since = performance.now();
  const budget = ctrl[${BUDGET}];
  // no core to spare (the caller said, at the last offer): sleep at once, neither spin nor nap
  const quiet = ctrl[${NO_IDLE_CORE}] === 1;
  let until = quiet ? since : since + budget / 1000;
  let slept = false;
  preempted = false;
  const napEnd = since + ${NAP_FOR_MICROS / 1000};
  for (let s; (s = spinForOffer(until)) !== ${OFFERED}; ) {
    // prewoken: an offer is on its way, so spin for it instead of napping or sleeping (an offer stored
    // meanwhile makes the exchange fail, and the spin sees it)
    if (s === ${PREWAKE}) {
      Atomics.compareExchange(ctrl, 0, ${PREWAKE}, ${IDLE});
      until = performance.now() + ${PREWAKE_SPIN_MICROS / 1000};
      preempted = false;
      continue;
    }
    // Nap (NAP_MICROS) until NAP_FOR_MICROS after the last call, unless spinning is off or another pool is
    // the active one; an offer withdrawn before this worker took it (the caller ran every chunk) leaves it
    // napping. NAPPING is cleared before the state is looked at again, and the caller stores an offer
    // before it reads NAPPING (both sequentially consistent), so an offer made as the nap ends is either
    // seen here or notified.
    if (ctrl[${SPIN}] > 0 && !quiet && performance.now() < napEnd && Atomics.load(activePool, 0) === pool) {
      Atomics.store(ctrl, ${NAPPING}, 1);
      while ((s = Atomics.load(ctrl, 0)) !== ${OFFERED} && s !== ${PREWAKE} && performance.now() < napEnd && Atomics.load(activePool, 0) === pool) Atomics.wait(ctrl, 0, s, ${NAP_MICROS / 1000});
      Atomics.store(ctrl, ${NAPPING}, 0);
      continue;
    }
    // Sleep on the state seen (idle, or a result the caller has not taken back yet): an offer changes it and
    // notifies, so no offer is missed and no state keeps this thread polling.
    ctrl[${SLEEPS}]++;
    slept = true;
    Atomics.store(ctrl, ${SLEEPING}, 1);
    Atomics.wait(ctrl, 0, s);
    Atomics.store(ctrl, ${SLEEPING}, 0);
  }
  if (slept) ctrl[${WOKEN}]++;
  // the next spin (nextSpin): twice as long as this gap, within the bounds
  const gap = (performance.now() - since) * 1000;
  spin.budget = budget;
  nextSpin(spin, ctrl[${SPIN}], gap, Math.min(${MAX_WORKER_SPIN_MICROS}, ${SPIN_PER_WORK} * ctrl[${LAST_CALL}]), preempted, ${BACK_OFF_OFFERS}, ${SPIN_GAPS});
  ctrl[${BUDGET}] = spin.budget;
  // the caller may have withdrawn the offer (it ran every chunk itself): then nothing to do
  if (Atomics.compareExchange(ctrl, 0, ${OFFERED}, ${RUNNING}) !== ${OFFERED}) continue;
  let state = ${DONE};
  let chunk = -1;
  try {
    // drain the port only when the caller posted something: receiveMessageOnPort on an empty port costs
    // 3–4 µs per call (traced: an offer to the first chunk 5–6.6 µs, 1.5–2.7 µs without it)
    if (received !== Atomics.load(ctrl, ${POSTED})) for (let m; (m = receiveMessageOnPort(port)); received++) take(m.message);
    const id = ctrl[1];
    while (!modules.has(id)) {
      const m = receiveMessageOnPort(port);
      if (m) take(m.message), received++;
      else Atomics.wait(ctrl, 63, 0, 1);
    }
    const fn = modules.get(id)[ctrl[2]];
    const args = Array.from(ctrl.subarray(4, 4 + ctrl[3]));
    const own = ctrl[${RANGE}];
    if (trace) traceMark(trace, region, ${TRACE.TAKEN}, slept ? 1 : 0);
    while ((chunk = takeChunk(table, own)) >= 0) {
      const begin = table[${BOUNDS_AT} + chunk], end = table[${BOUNDS_AT + 1} + chunk];
      if (trace) traceMark(trace, region, ${TRACE.CHUNK_START}, end - begin);
      fn(...args, begin, end);
      if (trace) traceMark(trace, region, ${TRACE.CHUNK_END}, end - begin);
    }
  } catch (e) {
    state = ${FAILED};
    ctrl[${FAILED_CHUNK}] = chunk;
  }
  Atomics.store(ctrl, 0, state);
  Atomics.notify(ctrl, 0);
}
`;
