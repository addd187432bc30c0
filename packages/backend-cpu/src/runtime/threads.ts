// Worker threads over a shared wasm memory. Each worker instantiates the same compiled modules on the same
// memory, so a kernel call can be split: the main thread runs one share and the workers the others, at
// the same time, on the same buffers. Dispatch is synchronous and allocation-free: arguments go through a
// small shared Int32Array and Atomics.wait/notify, never through postMessage (which needs an event loop
// turn). Modules do go by message, and a worker drains its port with receiveMessageOnPort before each share.
// Workers start at the first call large enough to split, not with the arena: a process that only runs small
// kernels never starts one.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { KilnError } from '@kiln/tensor';
import type { WasmMemory } from './wasm-api.js';
import { installThreadPool } from './arena.js';

const IDLE = 0, WORK = 1, DONE = 2, FAILED = 3;
const MAX_ARGS = 56;
/** Control-block slot the worker sets once it is running: until then its shares run on the caller. */
const READY = 62;

// Plain CommonJS, run with `eval: true`: a worker needs nothing but the memory, the control block and
// the port modules arrive on (`{ id, module, names }` to add one, `{ forget: id }` once it was collected).
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, port } = workerData;
const ctrl = new Int32Array(control);
const modules = new Map();
const take = (m) => {
  if (m.forget !== undefined) return void modules.delete(m.forget);
  const instance = new WebAssembly.Instance(m.module, { env: { memory } });
  modules.set(m.id, m.names.map((n) => instance.exports[n]));
};
Atomics.store(ctrl, ${READY}, 1);
for (;;) {
  Atomics.wait(ctrl, 0, ${IDLE});
  if (Atomics.load(ctrl, 0) !== ${WORK}) continue;
  let state = ${DONE};
  try {
    for (let m; (m = receiveMessageOnPort(port)); ) take(m.message);
    const id = ctrl[1];
    while (!modules.has(id)) {
      const m = receiveMessageOnPort(port);
      if (m) take(m.message);
      else Atomics.wait(ctrl, 63, 0, 1);
    }
    const args = Array.from(ctrl.subarray(4, 4 + ctrl[3]));
    modules.get(id)[ctrl[2]](...args);
  } catch (e) {
    state = ${FAILED};
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
  private readonly modules = new Map<number, RegisteredModule>();
  private nextModule = 1;
  private count: number;
  /** Why workers could not start, once that happened: the pool then runs everything on the caller. */
  unavailable: unknown;
  // A module's kernels dropped (its owner collected): the workers let their instance go too.
  private readonly collected = new FinalizationRegistry<number>((id) => this.forget(id));

  /** Shares run on workers, and shares a worker was not ready for (run by the caller instead). */
  readonly stats = { sentToWorkers: 0, runByCaller: 0 };

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
    for (const lane of this.lanes) lane.port.postMessage(entry);
    this.collected.register(owner, entry.id);
    return entry.id;
  }

  private forget(id: number): void {
    this.modules.delete(id);
    for (const lane of this.lanes) lane.port.postMessage({ forget: id });
  }

  /** Starts workers up to `threads - 1`; each gets every module registered so far. */
  private startWorkers(): void {
    while (this.lanes.length < this.count - 1) {
      const control = new Int32Array(new SharedArrayBuffer(64 * 4));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [], // plain JS: do not boot the parent's loaders (tsx, --import hooks) in the worker
        workerData: { memory: this.memory, control: control.buffer, port: port2 },
        transferList: [port2],
      });
      worker.unref(); // the pool never keeps the process alive
      port1.unref();
      for (const entry of this.modules.values()) port1.postMessage(entry);
      this.lanes.push({ worker, control, port: port1 });
    }
  }

  /**
   * Runs `shares[0]` on the calling thread and `shares[i]` on worker i - 1, and returns when all are done.
   * A worker still starting up (its first tens of milliseconds) does not hold the call up: the caller runs
   * that share itself. `runHere` runs a share on the calling thread.
   */
  run<S extends { exportIndex: number; args: readonly number[] }>(moduleId: number, shares: readonly S[], runHere: (share: S) => void): void {
    if (this.lanes.length < shares.length - 1 && !this.unavailable) {
      try {
        this.startWorkers();
      } catch (err) {
        // no workers here (a resource limit, a runtime without them): every share runs on the caller
        this.unavailable = err;
      }
    }
    const sent: Lane[] = [];
    const sentShares: S[] = [];
    const kept: S[] = [];
    shares.slice(1).forEach((share, i) => {
      const lane = this.lanes[i];
      if (!lane || Atomics.load(lane.control, READY) !== 1) return void kept.push(share);
      if (share.args.length > MAX_ARGS) throw new RangeError(`backend-cpu threads: ${share.args.length} arguments (max ${MAX_ARGS})`);
      const c = lane.control;
      c[1] = moduleId;
      c[2] = share.exportIndex;
      c[3] = share.args.length;
      c.set(share.args, 4);
      Atomics.store(c, 0, WORK);
      Atomics.notify(c, 0);
      sent.push(lane);
      sentShares.push(share);
    });
    this.stats.sentToWorkers += sent.length;
    this.stats.runByCaller += kept.length;
    const failed: S[] = [];
    try {
      runHere(shares[0]!);
      for (const share of kept) runHere(share);
    } finally {
      // Atomics.wait blocks this thread (allowed on Node's main thread) until the worker's share is done
      sent.forEach((lane, i) => {
        while (Atomics.load(lane.control, 0) === WORK) Atomics.wait(lane.control, 0, WORK);
        if (Atomics.load(lane.control, 0) === FAILED) failed.push(sentShares[i]!);
        Atomics.store(lane.control, 0, IDLE);
      });
    }
    // A share a worker could not run (it trapped, or could not instantiate the module) runs here: either it
    // succeeds, or the caller raises the error one thread would have.
    for (const share of failed) runHere(share);
  }

  /** Stops the workers (tests; a process with an idle pool exits anyway). The next split call starts new ones. */
  async close(): Promise<void> {
    const lanes = this.lanes.splice(0);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }
}

/** A thread count must be a whole number ≥ 1: anything else is a typed error naming where it came from. */
export function checkThreadCount(n: unknown, where: string): number {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256) return n;
  throw new KilnError(`backend-cpu: ${where} must be a whole number from 1 to 256, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`, 'e.g. threads: 1 runs every kernel on the calling thread; leave it out for one thread per core');
}

// The arena starts pools through this hook, so that it does not import node:worker_threads itself.
installThreadPool((memory, threads) => new ThreadPool(memory, threads));
