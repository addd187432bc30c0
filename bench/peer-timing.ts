// Timing shared by the benches that compare Kiln with its peers in one process.

/**
 * Wall clock by default. On a shared, loaded machine (load average above the core count) wall time mostly
 * measures the neighbours; KILN_BENCH_CLOCK=cpu times with this process's CPU time instead (all threads).
 */
export const CPU_CLOCK = process.env.KILN_BENCH_CLOCK === 'cpu';

export const clock: () => number = CPU_CLOCK
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

/** A median with the spread around it: the 25th and 75th percentiles of the same samples. */
export interface Spread {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Median and quartiles of some timings (sorts them in place). */
export function spreadOf(times: number[]): Spread {
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p25: quantile(times, 0.25), p75: quantile(times, 0.75) };
}

/**
 * Several contenders timed in interleaved rounds (a, b, c, a, b, c, …), so that a burst of load on the
 * shared machine hits every library alike instead of whichever was being timed at that moment. Returns each
 * one's median and interquartile range.
 */
export function interleavedStats(fns: readonly (() => unknown)[], minRounds: number, budgetMs = 4000): Spread[] {
  for (const fn of fns) for (let i = 0; i < 3; i++) fn(); // warm-up: JIT tiers, lazy allocations
  const times = fns.map(() => [] as number[]);
  const start = performance.now();
  for (let round = 0; round < minRounds || (performance.now() - start < budgetMs && round < 200); round++) {
    fns.forEach((fn, i) => {
      const t = clock();
      fn();
      times[i]!.push(clock() - t);
    });
  }
  return times.map(spreadOf);
}

/** interleavedStats' medians alone. */
export function interleavedMedians(fns: readonly (() => unknown)[], minRounds: number, budgetMs = 4000): number[] {
  return interleavedStats(fns, minRounds, budgetMs).map((s) => s.median);
}

/**
 * interleavedMedians for asynchronous calls (a GPU dispatch and its readback): each call is awaited before
 * the next starts, so a figure includes the promise round-trip. One warm-up call each (pipelines compiled,
 * buffers pooled) unless `warmUp` says more.
 */
export async function interleavedMediansAsync(fns: readonly (() => Promise<unknown>)[], minRounds: number, budgetMs = 4000, warmUp = 1): Promise<number[]> {
  for (const fn of fns) for (let i = 0; i < warmUp; i++) await fn();
  const times = fns.map(() => [] as number[]);
  const start = performance.now();
  for (let round = 0; round < minRounds || (performance.now() - start < budgetMs && round < 200); round++) {
    for (const [i, fn] of fns.entries()) {
      const t = clock();
      await fn();
      times[i]!.push(clock() - t);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]!);
}

/**
 * interleavedStats with a macrotask (`setTimeout(0)`) before every call, outside the timed region: the
 * pattern of an app, whose requests or frames let the event loop turn between calls, so finalizers run and
 * per-turn budgets reset (Kiln's resident outputs: backend-cpu README, "What reading a result costs").
 */
export async function interleavedStatsWithTurns(fns: readonly (() => unknown)[], minRounds: number, budgetMs = 4000): Promise<Spread[]> {
  const turn = () => new Promise((r) => setTimeout(r, 0));
  for (const fn of fns) for (let i = 0; i < 3; i++) (await turn(), fn());
  const times = fns.map(() => [] as number[]);
  const start = performance.now();
  for (let round = 0; round < minRounds || (performance.now() - start < budgetMs && round < 200); round++) {
    for (const [i, fn] of fns.entries()) {
      await turn();
      const t = clock();
      fn();
      times[i]!.push(clock() - t);
    }
  }
  return times.map(spreadOf);
}
