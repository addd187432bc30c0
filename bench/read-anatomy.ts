// Where the time of a read goes beyond the kernel and the copies: the garbage collections and page faults
// that land inside each contender's calls, in the interleaved back-to-back loop the compiled bench times.
// V8 collects the young generation when the fresh ArrayBuffers since the last scavenge pass a threshold
// (about 32 MB here), so one library's arrays trigger scavenges that may land in another's call: counting
// them per contender shows who pays for what. Counts do not depend on the machine's load; the ms do.
import { readFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';

/** Minor page faults of the main thread so far (Linux, /proc/self/task/<tid>/stat field 10), else undefined. */
function mainThreadFaults(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // fields after the command's closing parenthesis start at field 3 (state); minflt is field 10
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return undefined;
  }
}

interface Tally {
  calls: number;
  spans: [number, number][];
  faults: number;
  mainFaults: number;
}

/**
 * Runs the contenders in interleaved rounds (as `interleavedStats` does) and returns one line per contender:
 * scavenges and mark-compacts that started inside its calls, per 100 calls, with their ms per call, and
 * minor page faults per call (main thread / other threads, e.g. the kernels' worker or V8's helpers).
 */
export async function readAnatomy(contenders: Record<string, () => unknown>, rounds: number): Promise<string[]> {
  const names = Object.keys(contenders);
  const fns = Object.values(contenders);
  for (const fn of fns) for (let i = 0; i < 3; i++) fn();
  const gcs: { kind: number; start: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind, start: e.startTime, ms: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const tallies: Tally[] = fns.map(() => ({ calls: 0, spans: [], faults: 0, mainFaults: 0 }));
  const perThread = mainThreadFaults() !== undefined;
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, i) => {
      const tally = tallies[i]!;
      // the process's count is read outside the main thread's, so "other threads" is never negative
      const all0 = process.resourceUsage().minorPageFault;
      const main0 = perThread ? mainThreadFaults()! : 0;
      const t0 = performance.now();
      fn();
      const t1 = performance.now();
      if (perThread) tally.mainFaults += mainThreadFaults()! - main0;
      tally.faults += process.resourceUsage().minorPageFault - all0;
      tally.calls++;
      tally.spans.push([t0, t1]);
    });
  }
  await new Promise((r) => setTimeout(r, 20)); // the observer is told between tasks
  observer.disconnect();
  return tallies.map((tally, i) => {
    let scavenges = 0;
    let scavengeMs = 0;
    let majors = 0;
    let majorMs = 0;
    for (const gc of gcs) {
      if (!tally.spans.some(([a, b]) => gc.start >= a && gc.start < b)) continue;
      if (gc.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        scavenges++;
        scavengeMs += gc.ms;
      } else if (gc.kind === constants.NODE_PERFORMANCE_GC_MAJOR || gc.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
        majors++;
        majorMs += gc.ms;
      }
    }
    const per100 = (n: number) => ((100 * n) / tally.calls).toFixed(0);
    const perCall = (n: number) => (n / tally.calls).toFixed(2);
    const faults = perThread ? `${perCall(tally.mainFaults)} main / ${perCall(tally.faults - tally.mainFaults)} other threads` : perCall(tally.faults);
    return `${names[i]}: scavenges ${per100(scavenges)}/100 calls (${perCall(scavengeMs)} ms per call), mark-compact work ${per100(majors)}/100 (${perCall(majorMs)} ms per call), faults per call ${faults}`;
  });
}
