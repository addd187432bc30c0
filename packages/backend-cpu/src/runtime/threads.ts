// Worker threads over a shared wasm memory. Each worker instantiates the same compiled modules on the same
// memory, so a kernel call can be split: the main thread runs one share and the workers the others, at
// the same time, on the same buffers. Dispatch is synchronous and allocation-free: arguments go through a
// small shared Int32Array and Atomics.wait/notify, never through postMessage (which needs an event loop
// turn). Modules do go by message, and a worker that finds one missing pulls it with receiveMessageOnPort.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { WasmMemory } from './wasm-api.js';
import { installThreadPool } from './arena.js';

const IDLE = 0, WORK = 1, DONE = 2, FAILED = 3;
const MAX_ARGS = 56;
/** Control-block slot the worker sets once it is running: until then its shares run on the caller. */
const READY = 62;

// Plain CommonJS, run with `eval: true`: a worker needs nothing but the memory, the control block and
// the port modules arrive on.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, port } = workerData;
const ctrl = new Int32Array(control);
const modules = new Map();
Atomics.store(ctrl, ${READY}, 1);
for (;;) {
  Atomics.wait(ctrl, 0, ${IDLE});
  if (Atomics.load(ctrl, 0) !== ${WORK}) continue;
  let state = ${DONE};
  try {
    const id = ctrl[1];
    while (!modules.has(id)) {
      const m = receiveMessageOnPort(port);
      if (!m) { Atomics.wait(ctrl, 63, 0, 1); continue; }
      const instance = new WebAssembly.Instance(m.message.module, { env: { memory } });
      modules.set(m.message.id, m.message.names.map((n) => instance.exports[n]));
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

export class ThreadPool {
  private readonly lanes: Lane[];
  private nextModule = 1;

  constructor(memory: WasmMemory, workers: number) {
    this.lanes = Array.from({ length: workers }, () => {
      const control = new Int32Array(new SharedArrayBuffer(64 * 4));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [], // plain JS: do not boot the parent's loaders (tsx, --import hooks) in the worker
        workerData: { memory, control: control.buffer, port: port2 },
        transferList: [port2],
      });
      worker.unref(); // an idle pool never keeps the process alive
      port1.unref();
      return { worker, control, port: port1 };
    });
  }

  /** Shares run on workers, and shares a worker was not ready for (run by the caller instead). */
  readonly stats = { sentToWorkers: 0, runByCaller: 0 };

  /** Workers that have started (a worker takes some tens of milliseconds and an event-loop turn to boot). */
  get ready(): number {
    return this.lanes.filter((l) => Atomics.load(l.control, READY) === 1).length;
  }

  /** Threads that can run a share at once, the caller's included. */
  get size(): number {
    return this.lanes.length + 1;
  }

  /** Sends a compiled module to every worker; `exports` are the names `run` refers to by index. */
  register(module: object, exports: readonly string[]): number {
    const id = this.nextModule++;
    for (const lane of this.lanes) lane.port.postMessage({ id, module, names: exports });
    return id;
  }

  /**
   * Runs `shares[0]` on the calling thread and `shares[i]` on worker i - 1, and returns when all are done.
   * A worker still starting up (its first tens of milliseconds) does not hold the call up: the caller runs
   * that share itself. `runHere` runs a share on the calling thread.
   */
  run<S extends { exportIndex: number; args: readonly number[] }>(moduleId: number, shares: readonly S[], runHere: (share: S) => void): void {
    const sent: Lane[] = [];
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
    });
    this.stats.sentToWorkers += sent.length;
    this.stats.runByCaller += kept.length;
    let failed = false;
    try {
      runHere(shares[0]!);
      for (const share of kept) runHere(share);
    } finally {
      for (const lane of sent) {
        while (Atomics.load(lane.control, 0) === WORK) Atomics.wait(lane.control, 0, WORK);
        failed ||= Atomics.load(lane.control, 0) === FAILED;
        Atomics.store(lane.control, 0, IDLE);
      }
    }
    if (failed) throw new Error('backend-cpu: a worker thread failed while running its share of a kernel');
  }

  /** Stops the workers (tests; a process with an idle pool exits anyway). */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }
}

// The arena starts pools through this hook, so that it does not import node:worker_threads itself.
installThreadPool((memory, workers) => new ThreadPool(memory, workers));
