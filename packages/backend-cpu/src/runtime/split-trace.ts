// Where a split call's time goes: timestamps in shared memory from the caller and each worker (the offer, a
// worker taking it, each chunk's start and end, the join), recorded only while a trace is on
// (`ThreadPool.startTrace`), and what they add up to over many calls (`summarizeSplitTrace`). This is how
// the pool was tuned (README "Where a split softmax call's time goes"); the threads bench prints it.
//
// Layout (Float64Array): [events per region, then one region per thread: count, then events of three
// numbers: kind, chunk size (elements, rows or columns of the split axis; 1 for a taken offer that found the
// worker asleep), time (ms since the epoch: every thread's clock on one scale)].

/**
 * Event kinds. The caller: a call's start, its offer about to be made (arguments and chunk table written),
 * the offer made (every worker notified), the join done; a worker: the offer taken; every thread: a chunk's
 * start and end.
 */
export const TRACE = { CALL: 0, OFFERING: 6, OFFERED: 1, JOINED: 2, CHUNK_START: 3, CHUNK_END: 4, TAKEN: 5 } as const;

/** A trace buffer for `threads` threads of up to `events` events each. */
export function newTraceBuffer(threads: number, events: number): Float64Array {
  const buf = new Float64Array(new SharedArrayBuffer(8 * (1 + threads * (1 + 3 * events))));
  buf[0] = events;
  return buf;
}

/** Where thread `thread`'s region starts. */
export const regionOf = (buf: Float64Array, thread: number) => 1 + thread * (1 + 3 * buf[0]!);
/** The caller's region (thread 0's): regionOf(buf, 0) for every buffer. */
export const CALLER_REGION = 1;
/** How many threads a buffer has regions for. */
export const regionsOf = (buf: Float64Array) => (buf.length - 1) / (1 + 3 * buf[0]!);

/**
 * Records one event in a region (dropped once it is full). Self-contained (no names from outside): the
 * worker source embeds its text.
 */
export function traceMark(buf: Float64Array, region: number, kind: number, size: number): void {
  const n = buf[region]!;
  if (n >= buf[0]!) return;
  const at = region + 1 + 3 * n;
  buf[at] = kind;
  buf[at + 1] = size;
  buf[at + 2] = performance.timeOrigin + performance.now();
  buf[region] = n + 1;
}

/** Medians over the traced calls a worker took part in (µs unless named otherwise). */
export interface SplitTraceSummary {
  readonly calls: number;
  /** Calls whose offer some worker took (the others it never saw: the caller ran every chunk first). */
  readonly taken: number;
  /** Of those, how many found the worker asleep in Atomics.wait (a wake-up). */
  readonly wokeWorker: number;
  /** The caller's time from the call's start to its offer (arguments, chunk table). */
  readonly offer: number;
  /**
   * The caller's time in Atomics.notify (µs when the worker spins; a wake-up when it sleeps, and on a machine
   * whose other core is busy, as long as the woken worker runs on the caller's core instead of it).
   */
  readonly notify: number;
  /** From the offer to the worker's first chunk. */
  readonly workerStart: number;
  /** Chunks each ran per call. */
  readonly callerChunks: number;
  readonly workerChunks: number;
  /** ns per unit of the split axis (row, element, column) inside chunks. */
  readonly callerNsPerUnit: number;
  readonly workerNsPerUnit: number;
  /** The caller's wait from its last chunk's end to the join done. */
  readonly joinWait: number;
  /** A whole call, from its start to the join. */
  readonly call: number;
}

interface Event {
  readonly kind: number;
  readonly size: number;
  readonly t: number;
}

function events(buf: Float64Array, thread: number): Event[] {
  const region = regionOf(buf, thread);
  return Array.from({ length: buf[region]! }, (_, i) => {
    const at = region + 1 + 3 * i;
    return { kind: buf[at]!, size: buf[at + 1]!, t: buf[at + 2]! };
  });
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Chunk durations (ms) and sizes of a list of events. */
function chunks(evs: readonly Event[]): { ms: number; size: number }[] {
  const out: { ms: number; size: number }[] = [];
  evs.forEach((e, i) => {
    if (e.kind === TRACE.CHUNK_END && evs[i - 1]?.kind === TRACE.CHUNK_START) out.push({ ms: e.t - evs[i - 1]!.t, size: e.size });
  });
  return out;
}

/**
 * What a trace of `threads` threads adds up to. A worker's events belong to the call whose start last
 * preceded them: a call starts after the previous one's join, and a worker runs only between the two.
 */
export function summarizeSplitTrace(buf: Float64Array, threads: number): SplitTraceSummary {
  const caller = events(buf, 0);
  const starts = caller.flatMap((e, i) => (e.kind === TRACE.CALL ? [i] : []));
  const workers = Array.from({ length: threads - 1 }, (_, w) => events(buf, w + 1));
  const cols = { offer: [] as number[], notify: [] as number[], workerStart: [] as number[], callerChunks: [] as number[], workerChunks: [] as number[], joinWait: [] as number[], call: [] as number[] };
  const rate = { caller: [0, 0], worker: [0, 0] };
  let taken = 0, woke = 0;
  starts.forEach((s, k) => {
    const end = starts[k + 1] ?? caller.length;
    const mine = caller.slice(s, end);
    const t0 = mine[0]!.t;
    const offering = mine.find((e) => e.kind === TRACE.OFFERING)?.t, offered = mine.find((e) => e.kind === TRACE.OFFERED)?.t, joined = mine.find((e) => e.kind === TRACE.JOINED)?.t;
    if (offering === undefined || offered === undefined || joined === undefined) return;
    const theirs = workers.flatMap((w) => w.filter((e) => e.t >= t0 && e.t <= joined));
    const took = theirs.filter((e) => e.kind === TRACE.TAKEN);
    cols.call.push((joined - t0) * 1000);
    if (took.length === 0) return;
    taken++;
    woke += took.filter((e) => e.size === 1).length > 0 ? 1 : 0;
    const mineChunks = chunks(mine), theirChunks = workers.flatMap((w) => chunks(w.filter((e) => e.t >= t0 && e.t <= joined)));
    const firstTheirs = theirs.find((e) => e.kind === TRACE.CHUNK_START);
    cols.offer.push((offering - t0) * 1000);
    cols.notify.push((offered - offering) * 1000);
    if (firstTheirs) cols.workerStart.push((firstTheirs.t - offering) * 1000);
    cols.callerChunks.push(mineChunks.length);
    cols.workerChunks.push(theirChunks.length);
    const lastMine = mine.filter((e) => e.kind === TRACE.CHUNK_END).at(-1);
    if (lastMine) cols.joinWait.push((joined - lastMine.t) * 1000);
    for (const c of mineChunks) (rate.caller[0]! += c.ms), (rate.caller[1]! += c.size);
    for (const c of theirChunks) (rate.worker[0]! += c.ms), (rate.worker[1]! += c.size);
  });
  return {
    calls: cols.call.length, taken, wokeWorker: woke,
    offer: median(cols.offer), notify: median(cols.notify), workerStart: median(cols.workerStart),
    callerChunks: median(cols.callerChunks), workerChunks: median(cols.workerChunks),
    callerNsPerUnit: (rate.caller[0]! * 1e6) / rate.caller[1]!, workerNsPerUnit: (rate.worker[0]! * 1e6) / rate.worker[1]!,
    joinWait: median(cols.joinWait), call: median(cols.call),
  };
}
