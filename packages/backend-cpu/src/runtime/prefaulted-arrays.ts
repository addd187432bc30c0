// Fresh JS arrays for large reads, with their pages already mapped by a helper thread.
//
// A read (`toTypedArray()`) or a copy out of wasm memory must land in a *new* ArrayBuffer: the caller owns
// it, and a tensor's values must survive whatever the caller writes to it. A new 4 MB buffer is fresh pages
// from the allocator in most calls of a loop (glibc gives the top of its heap back to the OS once the GC
// frees a few such arrays at once), and the first write to each of its 1,024 pages faults: 0.5–1 ms on a
// quiet machine, 10 ms and more where page faults are dear (a VM whose host backs guest memory lazily),
// several times the 0.15 ms that copying 4 MB into mapped pages takes. The peers pay it too (one fresh
// array per `dataSync()`).
//
// Here a helper worker allocates buffers of the sizes recently read and touches one byte per page, then
// *transfers* them (no copy: the backing store changes owner) to this thread, which takes them with
// `receiveMessageOnPort` — synchronously, so a loop that never yields still gets them. A read takes a
// mapped buffer when one of its size is ready and asks for a replacement; otherwise it allocates as before.
// The page faults move to the helper, on another core; a taken buffer is an ordinary, unshared ArrayBuffer
// that nothing else references. Only where the process runs threads (more than one core; `configureThreads`):
// on one core the helper's faults would take the caller's own time.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { setFreshArraySource, type TypedArray } from '@kiln/tensor';

/** Reads smaller than this allocate as before: few pages, and the allocator mostly reuses them. */
export const PREFAULT_MIN_BYTES = 1 << 20;
/** Reads larger than this allocate as before: the helper would hold too much memory for them. */
export const PREFAULT_MAX_BYTES = 32 << 20;
/** Buffers of one size kept ready or asked for: a read and a copy out of wasm memory per call, in a loop. */
const PER_SIZE = 2;
/** Bytes of buffers ready or asked for, all sizes together; a new size pushes the oldest sizes out. */
export const PREFAULT_MAX_HELD_BYTES = 64 << 20;
/** Buffers ready are let go once no read took one for this long: a process that stopped reading holds none. */
export const PREFAULT_IDLE_MS = 2000;

// Plain CommonJS, run with `eval: true`. Writing a zero to a fresh page still maps it (a private page,
// not the shared zero page that a read would map).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
workerData.port.on('message', (bytes) => {
  const buffer = new ArrayBuffer(bytes);
  const view = new Uint8Array(buffer);
  for (let i = 0; i < bytes; i += 4096) view[i] = 0;
  workerData.port.postMessage(buffer, [buffer]);
});
`;

export interface PrefaultStats {
  /** Reads that took a mapped buffer. */
  taken: number;
  /** Reads within the sizes served that found none ready (the helper had not caught up) and allocated. */
  missed: number;
  /** Buffers the helper was asked for. */
  asked: number;
}

/** The helper thread and the buffers it made, by byte length. */
export class PrefaultedArrays {
  readonly stats: PrefaultStats = { taken: 0, missed: 0, asked: 0 };
  private port: MessagePort | undefined;
  private failed = false;
  /** Byte length → buffers ready, and → buffers asked for and not yet received; Map order is recency. */
  private readonly ready = new Map<number, ArrayBuffer[]>();
  private readonly pending = new Map<number, number>();
  private held = 0;
  private lastTake = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** How long after the last take the buffers ready are let go (checked every PREFAULT_IDLE_MS at most). */
  idleMs = PREFAULT_IDLE_MS;

  /** A mapped, zeroed buffer of exactly `bytes`, or undefined (allocate one as usual); asks for the next. */
  take(bytes: number): ArrayBuffer | undefined {
    if (this.failed || bytes < PREFAULT_MIN_BYTES || bytes > PREFAULT_MAX_BYTES) return undefined;
    this.receive();
    this.lastTake = performance.now();
    this.idleTimer ??= this.releaseWhenIdle();
    const buffers = this.ready.get(bytes);
    const buffer = buffers?.pop();
    if (buffer) {
      this.held -= bytes;
      this.stats.taken++;
    } else {
      this.stats.missed++;
    }
    this.ask(bytes);
    return buffer;
  }

  /** Bytes of buffers ready or asked for (at most PREFAULT_MAX_HELD_BYTES). */
  get heldBytes(): number {
    this.receive();
    return this.held;
  }

  /** Bytes of buffers ready now (received, not yet taken). */
  get readyBytes(): number {
    this.receive();
    let n = 0;
    for (const [bytes, buffers] of this.ready) n += bytes * buffers.length;
    return n;
  }

  /** Drops every buffer ready and forgets the sizes asked for (buffers still coming are dropped as they arrive). */
  clear(): void {
    this.receive();
    for (const [bytes, buffers] of this.ready) this.held -= bytes * buffers.length;
    this.ready.clear();
  }

  /** An unref'd timer that drops the buffers ready once reads stopped for `idleMs`. */
  private releaseWhenIdle(): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      if (performance.now() - this.lastTake >= this.idleMs) {
        this.idleTimer = undefined;
        this.clear();
      } else {
        this.idleTimer = this.releaseWhenIdle();
      }
    }, Math.min(this.idleMs, PREFAULT_IDLE_MS));
    timer.unref();
    return timer;
  }

  private receive(): void {
    if (!this.port) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const buffer = m.message as ArrayBuffer;
      const bytes = buffer.byteLength;
      this.pending.set(bytes, (this.pending.get(bytes) ?? 1) - 1);
      const buffers = this.ready.get(bytes);
      if (buffers) buffers.push(buffer);
      else this.held -= bytes; // its size was pushed out meanwhile: let it go
    }
  }

  /** Asks for buffers of `bytes` up to PER_SIZE ready or coming, pushing the least recent sizes out. */
  private ask(bytes: number): void {
    let buffers = this.ready.get(bytes);
    if (buffers) this.ready.delete(bytes); // re-inserted last: the most recent size
    this.ready.set(bytes, (buffers ??= []));
    let wanted = PER_SIZE - buffers.length - (this.pending.get(bytes) ?? 0);
    if (wanted <= 0) return;
    for (const [other, stale] of this.ready) {
      if (this.held + wanted * bytes <= PREFAULT_MAX_HELD_BYTES || other === bytes) break;
      this.held -= other * stale.length;
      this.ready.delete(other);
    }
    const port = this.helperPort();
    if (!port) return;
    for (; wanted > 0 && this.held + bytes <= PREFAULT_MAX_HELD_BYTES; wanted--) {
      port.postMessage(bytes);
      this.pending.set(bytes, (this.pending.get(bytes) ?? 0) + 1);
      this.held += bytes;
      this.stats.asked++;
    }
  }

  private helperPort(): MessagePort | undefined {
    if (this.port || this.failed) return this.port;
    try {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(HELPER_SOURCE, { eval: true, execArgv: [], workerData: { port: port2 }, transferList: [port2] });
      worker.unref(); // never keeps the process alive
      port1.unref();
      worker.on('error', () => this.stop());
      this.port = port1;
    } catch {
      this.stop(); // no worker here (a resource limit): reads allocate as before
    }
    return this.port;
  }

  private stop(): void {
    this.failed = true;
    this.port = undefined;
    this.ready.clear();
    this.pending.clear();
    this.held = 0;
  }
}
