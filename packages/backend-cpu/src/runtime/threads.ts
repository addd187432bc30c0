// Worker threads over a shared wasm memory. Each worker instantiates the same compiled modules on the same
// memory, so a kernel call can be split: its range is cut into chunks, and the calling thread and the
// workers take chunks (runtime/chunk-ranges.ts: each its own range first, then the others') until none are
// left, on the same buffers. Dispatch is synchronous: arguments go through small shared Int32Arrays and
// Atomics.wait/notify, never through postMessage (which needs an event loop turn). Modules do go by message,
// and a worker drains its port with receiveMessageOnPort before each call.
// Chunks, not one fixed share per thread, because the machine may be busy: a worker the OS has not
// scheduled yet must not hold the caller up. The caller takes every chunk left, then withdraws the offer
// from a worker that has not started (compare-and-swap), and waits only for workers already running one.
// Workers start at the first call large enough to split, not with the arena: a process that only runs
// small kernels never starts one.
//
// Waking a worker asleep in Atomics.wait is the largest fixed cost of a split call. Measured on the 2-vCPU
// VM this was tuned on (300 softmax 1024² calls, timestamps in shared memory): the caller's Atomics.notify
// takes 12–27 µs, and a worker that slept 2 ms or more starts its first chunk 30–45 µs after that, against
// ≈ 1 µs for a worker still spinning. So after a call a worker spins on the shared state before it sleeps,
// for as long as the gaps between the calls it was offered lately (adaptive: twice the last gap, at least
// `spinMicros`), bounded by MAX_WORKER_SPIN_MICROS and by a few times as long as the last split call took,
// so the CPU a spin burns stays proportional to the work split. A gap longer than the bound resets the spin
// to `spinMicros`: calls far apart each pay a wake-up, and an idle worker always ends up asleep in
// Atomics.wait, whatever state the caller left it in. Only the workers of the pool that split the latest
// call spin (ACTIVE_POOL): two arenas' workers spinning on two cores would take them from the one that is
// running. A worker whose spin the OS preempted (PREEMPTED_MICROS) sleeps at once and spins only
// `spinMicros` for its next BACK_OFF_OFFERS offers: the machine has more runnable threads than cores, and a
// spin there takes CPU from threads with work (at load average 7 on the 2 vCPUs, always splitting softmax
// 1024² measured 0.64× one thread with the spin kept; at load 11, backing off for one offer only, 4.0 ms
// per split call against 1.2 ms for a worker that never spins). The caller, at the join, spins up to JOIN_SPIN_MICROS on a worker still
// running its last chunk (about two softmax chunks) before it sleeps: sleeping there cost a wake-up
// (≈ 26 µs) in 40 % of softmax calls.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { KilnError } from '@kiln/tensor';
import type { WasmMemory } from './wasm-api.js';
import { installThreadPool } from './arena.js';
import { assignRanges, BOUNDS_AT, MAX_CHUNKS, TABLE_SLOTS, takeChunk } from './chunk-ranges.js';

const IDLE = 0, OFFERED = 1, RUNNING = 2, DONE = 3, FAILED = 4;
const MAX_ARGS = 52;
/**
 * Control-block slots (CONTROL_SLOTS Int32s, 4–55 the arguments): the worker's chunk range, the base spin in µs (set
 * by the caller), the worker's count of sleeps in Atomics.wait, its count of offers that found it asleep,
 * the chunk a worker failed on (run again by the caller), the worker's current spin bound in µs, its
 * readiness, how long the caller's last split call took in µs, and how many messages the caller has posted
 * to the worker's port.
 */
const RANGE = 56, SPIN = 57, SLEEPS = 58, WOKEN = 59, FAILED_CHUNK = 60, BUDGET = 61, READY = 62, LAST_CALL = 64, POSTED = 65;
const CONTROL_SLOTS = 66;
/** Which pool of this process split the latest call (its id), shared with every worker. */
const ACTIVE_POOL = new Int32Array(new SharedArrayBuffer(4));
let poolIds = 0;
/** How long a thread spins on the shared state before it sleeps in Atomics.wait, at least (see above). */
export const SPIN_MICROS = 5;
/** The most a pool's `spinMicros` may be set to. */
export const MAX_SPIN_MICROS = 50;
/** The longest a worker spins after a call, whatever the gaps between calls (pthreadpool spins about as long). */
export const MAX_WORKER_SPIN_MICROS = 2000;
/** A worker spins at most this many times as long as the last split call took. */
const SPIN_PER_WORK = 4;
/** A spin that saw the clock jump this far between two looks was preempted by the OS: the worker sleeps. */
const PREEMPTED_MICROS = 100;
/**
 * Offers after a preempted spin during which a worker spins only `spinMicros`: on a busy machine a spin is
 * preempted again soon, and each long spin there costs the other threads a slice (and the worker its place
 * in the OS's queue: a thread that burnt CPU is run later when it has work).
 */
const BACK_OFF_OFFERS = 32;
/** How long the caller spins on a worker still running a chunk before it sleeps in Atomics.wait. */
export const JOIN_SPIN_MICROS = 60;

// Plain CommonJS, run with `eval: true`: a worker needs nothing but the memory, its control block, the
// pool's chunk table and the port modules arrive on (`{ id, module, names }`, or `{ forget: id }` once the
// module's kernels were collected).
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, chunks, port, active, pool } = workerData;
const ctrl = new Int32Array(control);
const table = new Int32Array(chunks);
const activePool = new Int32Array(active);
const modules = new Map();
const takeChunk = ${String(takeChunk)};
const take = (m) => {
  if (m.forget !== undefined) return void modules.delete(m.forget);
  const instance = new WebAssembly.Instance(m.module, { env: { memory } });
  modules.set(m.id, m.names.map((n) => instance.exports[n]));
};
// The state once an offer came, or the last state seen once performance.now() passed until, another pool
// split a call, or the OS took the core away mid-spin (${PREEMPTED_MICROS} µs or more between two looks at the
// clock: the machine is busy, and a spin there takes a core from threads that have work).
let preempted = false;
let received = 0; // messages taken from the port (the caller counts those it posts)
let backOff = 0; // offers left before this worker spins longer than spinMicros again
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
  const until = since + budget / 1000;
  let slept = false;
  preempted = false;
  for (let s; (s = spinForOffer(until)) !== ${OFFERED}; ) {
    // Sleep on the state seen (idle, or a result the caller has not taken back yet): an offer changes it and
    // notifies, so no offer is missed and no state keeps this thread polling.
    ctrl[${SLEEPS}]++;
    slept = true;
    Atomics.wait(ctrl, 0, s);
  }
  if (slept) ctrl[${WOKEN}]++;
  // the next spin: twice as long as this gap, within the bounds (none when spinMicros is 0, only spinMicros
  // for the next BACK_OFF_OFFERS offers after a spin the OS preempted)
  const base = ctrl[${SPIN}], gap = (performance.now() - since) * 1000;
  const bound = Math.min(${MAX_WORKER_SPIN_MICROS}, ${SPIN_PER_WORK} * ctrl[${LAST_CALL}]);
  backOff = preempted ? ${BACK_OFF_OFFERS} : Math.max(0, backOff - 1);
  ctrl[${BUDGET}] = base === 0 ? 0 : gap > bound || backOff > 0 ? base : Math.max(base, Math.min(bound, 2 * gap));
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
    while ((chunk = takeChunk(table, own)) >= 0) fn(...args, table[${BOUNDS_AT} + chunk], table[${BOUNDS_AT + 1} + chunk]);
  } catch (e) {
    state = ${FAILED};
    ctrl[${FAILED_CHUNK}] = chunk;
  }
  Atomics.store(ctrl, 0, state);
  Atomics.notify(ctrl, 0);
}
`;

interface Lane {
  readonly worker: Worker;
  readonly control: Int32Array;
  readonly port: MessagePort;
}

interface RegisteredModule {
  readonly id: number;
  readonly module: object;
  readonly names: readonly string[];
}

export class ThreadPool {
  private readonly lanes: Lane[] = [];
  /** Shared with every worker: who takes which chunk, and the chunks' bounds (runtime/chunk-ranges.ts). */
  private readonly table = new Int32Array(new SharedArrayBuffer(TABLE_SLOTS * 4));
  private readonly modules = new Map<number, RegisteredModule>();
  private nextModule = 1;
  private count: number;
  /**
   * Whether each kernel splits its large calls only when that measured faster (runtime/split-choice.ts);
   * false splits every large call (tests that must see a split).
   */
  adaptive = true;
  /** Why workers could not start, once that happened: the pool then runs everything on the caller. */
  unavailable: unknown;
  // A module's kernels dropped (its owner collected): the workers let their instance go too.
  private readonly collected = new FinalizationRegistry<number>((id) => this.forget(id));

  /**
   * Calls split and the chunks they were cut into, offers to workers, offers a worker took up (the others
   * were withdrawn: the caller had run every chunk before that worker was scheduled), and chunks the workers
   * ran. At the join: how often a worker was still running a chunk when the caller had none left
   * (`joinWaits`), and how often of those the caller's spin ran out and it slept in Atomics.wait (`joinSleeps`).
   */
  readonly stats = { splitCalls: 0, chunks: 0, offered: 0, taken: 0, chunksByWorkers: 0, joinWaits: 0, joinSleeps: 0 };
  private spin = SPIN_MICROS;
  private readonly id = ++poolIds;

  constructor(private readonly memory: WasmMemory, threads: number) {
    this.count = checkThreadCount(threads, 'threads');
  }

  /** Threads a large call is split between, the caller's included; 1 runs every kernel on the caller. */
  get threads(): number {
    return this.count;
  }

  set threads(n: number) {
    this.count = checkThreadCount(n, 'threads');
  }

  /**
   * How many µs a worker spins on the shared state after a call before it sleeps in Atomics.wait, at least
   * (default SPIN_MICROS; calls that follow each other closely make it spin longer, see above); 0 never
   * spins, neither a worker nor the caller at the join. Benches and tests compare the two.
   */
  get spinMicros(): number {
    return this.spin;
  }

  set spinMicros(micros: number) {
    if (!Number.isInteger(micros) || micros < 0 || micros > MAX_SPIN_MICROS) throw new KilnError(`backend-cpu threads: spinMicros must be a whole number from 0 to ${MAX_SPIN_MICROS}, got ${String(micros)}`, 'a spin longer than a wake-up only burns a core');
    this.spin = micros;
    // the adaptive bound starts again from the new base: otherwise a worker whose offers the caller kept
    // withdrawing (it ran every chunk before the worker woke) would spin its old bound once more
    for (const lane of this.lanes) Atomics.store(lane.control, SPIN, micros), Atomics.store(lane.control, BUDGET, micros);
  }

  /** How many times the workers went to sleep in Atomics.wait, all together (an idle worker always does). */
  get workerSleeps(): number {
    return this.lanes.reduce((n, l) => n + l.control[SLEEPS]!, 0);
  }

  /** Offers that found their worker asleep, all together: each cost the caller a wake-up (see above). */
  get workerWakes(): number {
    return this.lanes.reduce((n, l) => n + l.control[WOKEN]!, 0);
  }

  /** Each worker's current spin bound after a call, in µs (adaptive: see above). */
  get workerSpins(): number[] {
    return this.lanes.map((l) => Atomics.load(l.control, BUDGET));
  }

  /** Workers that have started (a worker takes some tens of milliseconds to boot). */
  get ready(): number {
    return this.lanes.filter((l) => Atomics.load(l.control, READY) === 1).length;
  }

  /** Workers started so far (they start at the first split call). */
  get started(): number {
    return this.lanes.length;
  }

  /**
   * Makes a compiled module known to the workers; `exports` are the names `run` refers to by index. The
   * pool keeps it for workers that start later, until `owner` (what holds the module's kernels) is collected.
   */
  register(module: object, exports: readonly string[], owner: object): number {
    const entry = { id: this.nextModule++, module, names: exports };
    this.modules.set(entry.id, entry);
    for (const lane of this.lanes) post(lane, entry);
    this.collected.register(owner, entry.id);
    return entry.id;
  }

  private forget(id: number): void {
    this.modules.delete(id);
    for (const lane of this.lanes) post(lane, { forget: id });
  }

  /** Starts workers up to `threads - 1`; each gets every module registered so far. */
  private startWorkers(): void {
    while (this.lanes.length < this.count - 1) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
      control[SPIN] = this.spin;
      control[BUDGET] = this.spin;
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [], // plain JS: do not boot the parent's loaders (tsx, --import hooks) in the worker
        workerData: { memory: this.memory, control: control.buffer, chunks: this.table.buffer, port: port2, active: ACTIVE_POOL.buffer, pool: this.id },
        transferList: [port2],
      });
      worker.unref(); // the pool never keeps the process alive
      port1.unref();
      const lane = { worker, control, port: port1 };
      for (const entry of this.modules.values()) post(lane, entry);
      this.lanes.push(lane);
    }
  }

  /**
   * Runs `fn(args, begin, end)` for every chunk [bounds[c], bounds[c + 1]) on the calling thread and on up
   * to `threads - 1` workers, and returns when all chunks are done. `argsFor(t)` are thread t's arguments
   * before the range (a matmul's differ in their scratch pointer); `runHere` runs a chunk on this thread.
   * Answers how many workers were offered chunks (0 while they boot: the caller then ran every chunk).
   */
  run(moduleId: number, exportIndex: number, argsFor: (thread: number) => readonly number[], bounds: readonly number[], runHere: (begin: number, end: number) => void): number {
    const start = performance.now();
    Atomics.store(ACTIVE_POOL, 0, this.id);
    const count = bounds.length - 1;
    if (count > MAX_CHUNKS) throw new RangeError(`backend-cpu threads: ${count} chunks (max ${MAX_CHUNKS})`);
    // A module the workers were told to forget (its owner was collected) would never arrive: a worker offered
    // it would wait for it, and the caller for the worker. Its chunks run here instead.
    const workers = this.modules.has(moduleId) ? Math.min(this.count - 1, count - 1) : 0;
    if (this.lanes.length < workers && !this.unavailable) {
      try {
        this.startWorkers();
      } catch (err) {
        // no workers here (a resource limit, a runtime without them): every chunk runs on the caller
        this.unavailable = err;
      }
    }
    const offered: Lane[] = [];
    for (let i = 0; i < workers; i++) {
      const lane = this.lanes[i];
      if (!lane || Atomics.load(lane.control, READY) !== 1) continue;
      const args = argsFor(i + 1);
      if (args.length > MAX_ARGS) break; // more than a control block holds: the caller runs every chunk
      const c = lane.control;
      c[1] = moduleId;
      c[2] = exportIndex;
      c[3] = args.length;
      c.set(args, 4);
      c[RANGE] = offered.length + 1;
      offered.push(lane);
    }
    // every range is in place before any worker may take a chunk
    const table = this.table;
    table.set(bounds, BOUNDS_AT);
    assignRanges(table, count, offered.length + 1);
    for (const lane of offered) {
      Atomics.store(lane.control, 0, OFFERED);
      Atomics.notify(lane.control, 0);
    }
    this.stats.splitCalls++;
    this.stats.chunks += count;
    this.stats.offered += offered.length;
    let here = 0;
    const failed: number[] = [];
    try {
      for (let c; (c = takeChunk(table, 0)) >= 0; here++) runHere(bounds[c]!, bounds[c + 1]!);
    } finally {
      for (const lane of offered) {
        // a worker not yet running gets no chunk: withdraw the offer instead of waiting for the OS to run it
        if (Atomics.compareExchange(lane.control, 0, OFFERED, IDLE) === OFFERED) continue;
        this.stats.taken++;
        if (Atomics.load(lane.control, 0) === RUNNING && this.joinSpin(lane.control)) {
          // Atomics.wait blocks this thread (allowed on Node's main thread) until the worker's chunk is done
          this.stats.joinSleeps++;
          while (Atomics.load(lane.control, 0) === RUNNING) Atomics.wait(lane.control, 0, RUNNING);
        }
        if (Atomics.load(lane.control, 0) === FAILED && lane.control[FAILED_CHUNK]! >= 0) failed.push(lane.control[FAILED_CHUNK]!);
        Atomics.store(lane.control, 0, IDLE);
      }
    }
    // what bounds the workers' next spin (SPIN_PER_WORK)
    const took = Math.round((performance.now() - start) * 1000);
    for (const lane of offered) lane.control[LAST_CALL] = took;
    this.stats.chunksByWorkers += count - here - failed.length;
    // A chunk a worker could not run (it trapped, or could not instantiate the module) runs here: either it
    // succeeds, or the caller raises the error one thread would have.
    for (const c of failed) runHere(bounds[c]!, bounds[c + 1]!);
    return offered.length;
  }

  /**
   * Spins up to JOIN_SPIN_MICROS (none when `spinMicros` is 0) on a running worker's state; answers whether it
   * is still running after that.
   */
  private joinSpin(control: Int32Array): boolean {
    this.stats.joinWaits++;
    if (this.spin === 0) return true;
    const until = performance.now() + JOIN_SPIN_MICROS / 1000;
    for (let i = 1; Atomics.load(control, 0) === RUNNING; i++) if ((i & 15) === 0 && performance.now() > until) return true;
    return false;
  }

  /** Stops the workers (tests; a process with an idle pool exits anyway). The next split call starts new ones. */
  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }
}

/** Sends a worker a message and counts it in its control block (the worker drains its port when the count moved). */
function post(lane: Lane, message: object): void {
  lane.port.postMessage(message);
  Atomics.add(lane.control, POSTED, 1);
}

/** A thread count must be a whole number ≥ 1: anything else is a typed error naming where it came from. */
export function checkThreadCount(n: unknown, where: string): number {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256) return n;
  throw new KilnError(`backend-cpu: ${where} must be a whole number from 1 to 256, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`, 'e.g. threads: 1 runs every kernel on the calling thread; leave it out for one thread per core');
}

// The arena starts pools through this hook, so that it does not import node:worker_threads itself.
installThreadPool((memory, threads) => new ThreadPool(memory, threads));
