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
// for as long as the gaps between the calls it was offered lately (adaptive: twice the shortest of the last
// SPIN_GAPS gaps, at least `spinMicros`), bounded by MAX_WORKER_SPIN_MICROS and by a few times as long as
// the last split call took, so the CPU a spin burns stays proportional to the work split. Gaps longer than
// the bound (all of the last SPIN_GAPS: one GC pause in the caller's loop is not enough) reset the spin to
// `spinMicros`: calls far apart each pay a wake-up, and an idle worker always ends up asleep in
// Atomics.wait, whatever state the caller left it in. Only the workers of the pool that split the latest
// call spin (ACTIVE_POOL): two arenas' workers spinning on two cores would take them from the one that is
// running. A worker whose spin the OS preempted (PREEMPTED_MICROS) sleeps at once and spins only
// `spinMicros` for its next offers, one after a first preempted spin, twice as many after each further one,
// up to BACK_OFF_OFFERS (thread-worker.ts, nextSpin): the machine has more runnable threads than cores, and a
// spin there takes CPU from threads with work (at load average 7 on the 2 vCPUs, always splitting softmax
// 1024² measured 0.64× one thread with the spin kept; at load 11, backing off for one offer only, 4.0 ms
// per split call against 1.2 ms for a worker that never spins). Between its spin and its sleep a worker
// naps (NAP_MICROS, thread-worker.ts): timed waits of 100 µs for up to 20 ms after its last call, during
// which the caller offers without Atomics.notify. A notified worker is placed by the OS, and on a busy
// machine it was put on the caller's core and preempted the caller for the whole kernel; a nap ends on the
// worker's own core. The caller, at the join, spins up to JOIN_SPIN_MICROS on a worker still
// running its last chunk (about two softmax chunks) before it sleeps: sleeping there cost a wake-up
// (≈ 26 µs) in 40 % of softmax calls.
// While other processes keep every core but the caller's busy (runtime/idle-core.ts, measured every 100 ms
// at most), the caller tells its workers so with each offer, and they sleep after the call instead of
// spinning and napping: there, a nap's wake-up every 100 µs preempts the caller or the other process.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { KilnError } from '@kiln/tensor';
import type { WasmMemory } from './wasm-api.js';
import { installThreadPool } from './arena.js';
import { assignRanges, BOUNDS_AT, MAX_CHUNKS, TABLE_SLOTS, takeChunk } from './chunk-ranges.js';
import {
  BUDGET, CONTROL_SLOTS, FAILED, FAILED_CHUNK, IDLE, LAST_CALL, MAX_ARGS, MAX_WORKER_SPIN_MICROS, NAPPING, NAPS, OFFERED, POSTED, NO_IDLE_CORE, PREWAKE, RANGE, READY, RUNNING, SLEEPING, SLEEPS, SPIN, WOKEN, WORKER_SOURCE,
} from './thread-worker.js';
import { IdleCoreMonitor } from './idle-core.js';
import { CALLER_REGION, newTraceBuffer, regionOf, regionsOf, summarizeSplitTrace, TRACE, traceMark, type SplitTraceSummary } from './split-trace.js';

/** Which pool of this process split the latest call (its id), shared with every worker. */
const ACTIVE_POOL = new Int32Array(new SharedArrayBuffer(4));
let poolIds = 0;
export { MAX_WORKER_SPIN_MICROS };
/** How long a thread spins on the shared state before it sleeps in Atomics.wait, at least (see above). */
export const SPIN_MICROS = 5;
/** The most a pool's `spinMicros` may be set to. */
export const MAX_SPIN_MICROS = 50;
/** How long the caller spins on a worker still running a chunk before it sleeps in Atomics.wait. */
export const JOIN_SPIN_MICROS = 60;

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
  readonly stats = { splitCalls: 0, chunks: 0, offered: 0, taken: 0, chunksByWorkers: 0, joinWaits: 0, joinSleeps: 0, prewakes: 0 };
  private spin = SPIN_MICROS;
  /**
   * Whether every offer of the latest split call found its worker spinning (none napping or asleep): then
   * the call's time is what splitting costs call after call, not a wake-up (runtime/split-choice.ts).
   */
  lastOfferSpinning = false;
  /**
   * Whether the machine has a core to spare for the workers between calls (runtime/idle-core.ts); while it
   * has none, workers sleep after each call instead of spinning and napping. Tests replace the monitor.
   */
  idleCore = new IdleCoreMonitor(availableParallelism());
  /** Whether the latest split call's offers told the workers there was no core to spare. */
  lastNoIdleCore = false;
  /** While a trace is on (startTrace): its buffer, region 0 the caller's, region i worker i's. */
  private trace: Float64Array | null = null;
  private readonly id = ++poolIds;

  constructor(private readonly memory: WasmMemory, threads: number) {
    this.count = checkThreadCount(threads, 'threads');
  }

  /**
   * Tells napping or sleeping workers that a call which will probably split is on its way (a compiled
   * program whose last call split a kernel says so as the call starts): each wakes now and spins for the
   * offer (PREWAKE_SPIN_MICROS), so its wake-up overlaps the caller's guards, allocations and input binding
   * instead of the kernel's first chunks. Nothing while the machine has no core to spare (the woken worker
   * would take the caller's), or while spinning is off.
   */
  prewake(): void {
    if (this.spin === 0 || this.count < 2 || this.lanes.length === 0 || this.idleCore.busy(performance.now())) return;
    Atomics.store(ACTIVE_POOL, 0, this.id);
    for (const lane of this.lanes) {
      const c = lane.control;
      if (Atomics.load(c, SLEEPING) !== 1 && Atomics.load(c, NAPPING) !== 1) continue; // spinning, or busy
      if (Atomics.compareExchange(c, 0, IDLE, PREWAKE) !== IDLE) continue;
      this.stats.prewakes++;
      Atomics.notify(c, 0);
    }
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
   * spins, neither a worker nor the caller at the join, and a worker does not nap either (every offer then
   * wakes it with Atomics.notify). Benches and tests compare the two.
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

  /** Offers that found their worker napping (not notified: it takes the offer when its nap ends). */
  get workerNaps(): number {
    return this.lanes.reduce((n, l) => n + l.control[NAPS]!, 0);
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
      if (this.trace && regionsOf(this.trace) > this.lanes.length + 1) post(lane, { trace: this.trace.buffer, region: regionOf(this.trace, this.lanes.length + 1) });
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
    const trace = this.trace;
    if (trace) traceMark(trace, CALLER_REGION, TRACE.CALL, 0);
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
    if (trace) traceMark(trace, CALLER_REGION, TRACE.OFFERING, 0);
    const quiet = (this.lastNoIdleCore = this.idleCore.busy(start)) ? 1 : 0;
    let spinning = true;
    for (const lane of offered) {
      lane.control[NO_IDLE_CORE] = quiet;
      Atomics.store(lane.control, 0, OFFERED);
      // a napping worker sees the offer when its nap ends; a notify could put it on this thread's core
      if (Atomics.load(lane.control, NAPPING) === 1) {
        lane.control[NAPS]++;
        spinning = false;
        continue;
      }
      if (Atomics.load(lane.control, SLEEPING) === 1) spinning = false;
      Atomics.notify(lane.control, 0);
    }
    this.lastOfferSpinning = spinning;
    if (trace) traceMark(trace, CALLER_REGION, TRACE.OFFERED, 0);
    this.stats.splitCalls++;
    this.stats.chunks += count;
    this.stats.offered += offered.length;
    let here = 0;
    const failed: number[] = [];
    try {
      for (let c; (c = takeChunk(table, 0)) >= 0; here++) {
        if (trace) traceMark(trace, CALLER_REGION, TRACE.CHUNK_START, bounds[c + 1]! - bounds[c]!);
        runHere(bounds[c]!, bounds[c + 1]!);
        if (trace) traceMark(trace, CALLER_REGION, TRACE.CHUNK_END, bounds[c + 1]! - bounds[c]!);
      }
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
    if (trace) traceMark(trace, CALLER_REGION, TRACE.JOINED, 0);
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

  /**
   * Starts recording where split calls' time goes (runtime/split-trace.ts): up to `events` events per thread
   * (a call of n chunks takes about 2n + 3). Until stopTrace, a chunk costs two more clock reads.
   */
  startTrace(events = 1 << 16): void {
    this.trace = newTraceBuffer(Math.max(this.count, this.lanes.length + 1), events);
    this.lanes.forEach((lane, i) => i + 1 < regionsOf(this.trace!) && post(lane, { trace: this.trace!.buffer, region: regionOf(this.trace!, i + 1) }));
  }

  /** Stops the trace and answers what it recorded (medians per call; null when none was started). */
  stopTrace(): SplitTraceSummary | null {
    const trace = this.trace;
    if (!trace) return null;
    this.trace = null;
    for (const lane of this.lanes) post(lane, { trace: null, region: 0 });
    return summarizeSplitTrace(trace, regionsOf(trace));
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
