// Whether a large kernel call is split between threads, chosen by measurement, per kernel. Splitting pays on
// a machine with idle cores; on a busy one (more runnable threads than cores) the caller ends up waiting for
// a worker the OS preempted mid-chunk, and one thread is faster: measured here at load average 19 on 2
// cores, softmax 1024² took 1.5 ms on one thread and 11 ms split. So each kernel times its calls both ways
// (per element of work) and takes the faster, trying the other way again every PROBE_EVERY calls, since the
// machine's load changes. Either way gives the same bits (see dispatch.ts).
//
// Two rules make the comparison one of like with like (both found in compiled read loops of softmax 1024²
// on 2 vCPUs, where the choice used to keep 64–88 % of calls on one thread although splitting was faster):
// - A split call is timed as what splitting costs only when its offer found the worker spinning (the pool
//   says, `ThreadPool.lastOfferSpinning`). An offer to a worker that napped or slept pays a wake-up: 30 µs in
//   Atomics.notify and the worker's first chunk 70–370 µs later, or, when the other core is busy for a
//   moment, the woken worker preempting the caller on its own core. Calls that keep splitting find the worker
//   spinning. So a split probe is two calls, the second timed. Wake-up calls are kept apart ("cold"), and
//   count only while no spinning-worker timing is recent (calls always far apart: each pays its wake-up).
//   The rule before (time a split call when the call before it split too) let the first call of each round
//   of the compiled bench, after 15–20 ms of the peers' calls, time a wake-up: those timings sent softmax
//   1024² back to one thread in 70–88 % of its calls, where the worker then never spun.
// - Each way keeps its last SAMPLES timings and is judged by their median, not a moving average of weight
//   ½: one preempted split call (a neighbour's time slice, a GC thread) doubled the average and kept the
//   kernel on one thread for the next PROBE_EVERY calls at least.

/** Every this many large calls of a kernel, the way not chosen is timed again (at first: see below). */
export const PROBE_EVERY = 16;
/**
 * The longest gap between split probes, in calls. While splitting measures more than twice as slow as one
 * thread (a busy machine: more runnable threads than cores), each split probe waits twice as long as the
 * last: a split call there costs 2–10 one-thread calls, and a two-call probe every 16 calls would cost more
 * than the one-call probe it replaced.
 */
export const MAX_PROBE_EVERY = 128;
/**
 * The first calls, which time both ways before one is chosen: split twice (the second timed), one thread,
 * and again.
 */
export const FIRST_CALLS: readonly boolean[] = [true, true, false, true, true, false];
/** How many first calls time both ways. */
export const ALTERNATE_FIRST = FIRST_CALLS.length;
/**
 * Splitting is chosen only when it measures at least this much faster than one thread (split ≤ SPLIT_MARGIN
 * × one thread): a split call has costs its own timing does not see (the worker's spin or naps after it,
 * which on a machine whose other core is busy take CPU from what the caller runs next), and two medians of
 * three noisy timings within a few % of each other otherwise flip the choice call after call. With one
 * busy-loop process beside compiled read loops on the 2 vCPUs, split kernels measured 1.1 ms against 1.0 on
 * one thread and were chosen for 32–82 % of the calls; with the margin, 11–25 % (read loops) and 47–67 %
 * (read and dispose), the calls' medians level or a little lower. Idle, softmax 1024² and hypot 1M split
 * for 65–93 % of calls either way.
 */
export const SPLIT_MARGIN = 0.85;
/** Timings kept per way; the median decides (one outlier is ignored, two agreeing timings count). */
export const SAMPLES = 3;
/**
 * Calls of a kernel after which its newest spinning-worker split timing no longer speaks for splitting, and
 * the wake-up ("cold") timings decide instead: the calls have drifted apart, and each split pays a wake-up.
 */
export const WARM_STALE_AFTER = 4 * PROBE_EVERY;

export class SplitChoice {
  /**
   * The last SAMPLES timings of each way, ms per unit of work (oldest overwritten first): split calls whose
   * offer found the worker spinning, split calls that woke it (`cold`), and one-thread calls.
   */
  private readonly samples = { split: [] as number[], cold: [] as number[], single: [] as number[] };
  /** Their medians, kept up to date by record() (next() runs on every large call: no sort there). */
  private medians = { split: Number.NaN, cold: Number.NaN, single: Number.NaN };
  private calls = 0;
  /** The call that recorded the newest spinning-worker split timing. */
  private warmAt = Number.NEGATIVE_INFINITY;
  /**
   * The first split call a worker takes part in is not kept: it includes the worker instantiating the
   * module, which made splitting look slower than it is (measured on idle cores: matmul 1024 kept on one
   * thread at 46 ms while split calls took 24 ms).
   */
  private splitWarm = false;
  /** The call that probes the way not chosen next, and how many calls after it the one after. */
  private probeAt = PROBE_EVERY;
  private probeGap = PROBE_EVERY;
  /** Whether the probe under way times splitting, and whether this call is its second (timed) call. */
  private probingSplit = false;
  private probeTimed = false;

  /** Whether the next call should split: both ways first, then the faster, probing the other. */
  next(): boolean {
    this.calls++;
    return this.decide();
  }

  /** What a split call costs, ms per unit of work: the spinning-worker timings while recent, else the cold ones. */
  private splitCost(): number {
    const { split, cold } = this.medians;
    if (Number.isNaN(split)) return cold;
    return this.calls - this.warmAt > WARM_STALE_AFTER && !Number.isNaN(cold) ? cold : split;
  }

  private decide(): boolean {
    this.probeTimed = false;
    if (this.calls <= FIRST_CALLS.length) return FIRST_CALLS[this.calls - 1]!;
    const split = this.splitCost();
    const single = this.medians.single;
    if (Number.isNaN(split)) return true;
    if (Number.isNaN(single)) return false;
    const faster = split <= SPLIT_MARGIN * single;
    // a probe due while one way had no timing yet (the workers still booting: their calls are not timed)
    if (this.calls > this.probeAt + 1) this.probeAt = this.calls;
    if (this.calls === this.probeAt) {
      this.probingSplit = !faster;
      return !faster;
    }
    if (this.calls === this.probeAt + 1) {
      this.probeAt += this.probeGap;
      // a split probe is two calls (the first wakes the worker), a one-thread probe one
      if (this.probingSplit) return (this.probeTimed = true);
    }
    return faster;
  }

  /**
   * A call's time: `split` says how it ran, `work` is its size (the kernel's work units), `spinning` whether
   * a split call's offer found the worker spinning (false: it napped or slept, and the call paid its wake-up).
   */
  record(split: boolean, ms: number, work: number, spinning = true): void {
    if (split && !this.splitWarm) {
      this.splitWarm = true;
      return;
    }
    const perWork = ms / Math.max(work, 1);
    if (split && this.probeTimed) {
      // a split probe's timing: far slower than one thread spaces the next out, else back to PROBE_EVERY
      const single = this.medians.single;
      this.probeGap = perWork > 2 * single ? Math.min(MAX_PROBE_EVERY, 2 * this.probeGap) : PROBE_EVERY;
    }
    const way = !split ? 'single' : spinning ? 'split' : 'cold';
    if (way === 'split') this.warmAt = this.calls;
    const kept = this.samples[way];
    kept.push(perWork);
    if (kept.length > SAMPLES) kept.shift();
    this.medians = { ...this.medians, [way]: median(kept) };
  }

  /**
   * The medians so far, ms per unit of work (NaN: not measured yet; tests, explain): `split` what the choice
   * takes a split call to cost now, `cold` the split calls that woke the worker.
   */
  get timings(): { readonly split: number; readonly cold: number; readonly single: number } {
    return { split: this.splitCost(), cold: this.medians.cold, single: this.medians.single };
  }
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
