// Whether a large kernel call is split between threads, chosen by measurement, per kernel. Splitting pays on
// a machine with idle cores; on a busy one (more runnable threads than cores) the caller ends up waiting for
// a worker the OS preempted mid-chunk, and one thread is faster: measured here at load average 19 on 2
// cores, softmax 1024² took 1.5 ms on one thread and 11 ms split. So each kernel times its calls both ways
// (per element of work, as a moving average) and takes the faster, trying the other way again every
// PROBE_EVERY calls, since the machine's load changes. Either way gives the same bits (see dispatch.ts).

/** Every this many large calls of a kernel, the way not chosen is timed again. */
export const PROBE_EVERY = 16;
/** The first calls alternate, split first, so both ways have samples before one is chosen. */
export const ALTERNATE_FIRST = 6;
/** Weight of a new timing in the moving average. */
const WEIGHT = 0.5;

export class SplitChoice {
  /** ms per unit of work, split and on one thread (NaN: not measured yet). */
  private split = NaN;
  private single = NaN;
  private calls = 0;
  /**
   * The first split call's time is not kept: it includes the workers instantiating the module, which made
   * splitting look slower than it is (measured on idle cores: matmul 1024 kept on one thread at 46 ms
   * while split calls took 24 ms, because the average started from that first call and converged only after
   * several probes, 16 calls apart).
   */
  private splitWarm = false;

  /** Whether the next call should split: alternate at first, then the faster, probing the other. */
  next(): boolean {
    this.calls++;
    if (this.calls <= ALTERNATE_FIRST) return this.calls % 2 === 1;
    if (Number.isNaN(this.split)) return true;
    if (Number.isNaN(this.single)) return false;
    const faster = this.split <= this.single;
    return this.calls % PROBE_EVERY === 0 ? !faster : faster;
  }

  /** A call's time: `split` says how it ran, `work` is its size (the kernel's work units). */
  record(split: boolean, ms: number, work: number): void {
    if (split && !this.splitWarm) {
      this.splitWarm = true;
      return;
    }
    const perWork = ms / Math.max(work, 1);
    if (split) this.split = Number.isNaN(this.split) ? perWork : this.split + WEIGHT * (perWork - this.split);
    else this.single = Number.isNaN(this.single) ? perWork : this.single + WEIGHT * (perWork - this.single);
  }

  /** The averages so far, ms per unit of work (tests, explain). */
  get timings(): { readonly split: number; readonly single: number } {
    return { split: this.split, single: this.single };
  }
}
