// Whether the machine has a core to spare for a worker between calls. A worker spins, then naps (timed
// waits of 100 µs), after each split call so the next offer finds it awake; on a machine whose other cores
// are all busy that costs the caller: the nap's waits still end on time (p50 165 µs beside a busy-loop
// process on 2 vCPUs, 173 µs idle) because the worker preempts whoever runs, every 165 µs. Beside one
// busy-loop process a compiled softmax 1024² read loop took 1.84–2.19 ms per call with the default spin and
// naps, 1.60–1.69 with neither, and 1.62–1.67 on one thread. So the pool measures, every IDLE_CORE_PERIOD_MS
// at most, how many cores other processes kept busy (Linux's /proc/stat, less this process's own CPU time),
// and while they fill every core but the caller's its workers sleep after a call instead. (Linux's count of
// runnable threads at one instant, /proc/loadavg, was tried first: V8's own threads and a worker between two
// naps made it report a busy machine at 11–33 % of the calls of an idle one.) Elsewhere (no /proc/stat) it
// never reports a busy machine, and the spin and naps stay as they are.
import { readFileSync } from 'node:fs';

/** The least time over which other processes' CPU is measured, ms (/proc/stat counts in 10 ms ticks). */
export const IDLE_CORE_PERIOD_MS = 100;
/** Other processes busy on at least this share of every core but the caller's: no core to spare. */
export const BUSY_SHARE = 0.5;
/** USER_HZ: the unit of /proc/stat's times, 100 on every Linux platform Node runs on. */
const TICKS_PER_SECOND = 100;

/** Busy seconds of all cores together (user, nice, system, irq, softirq, steal) from /proc/stat's text. */
export function busySeconds(stat: string | undefined): number | undefined {
  const line = stat?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  return Number.isFinite(busy) ? busy / TICKS_PER_SECOND : undefined;
}

function readStat(): string | undefined {
  try {
    return readFileSync('/proc/stat', 'latin1');
  } catch {
    return undefined;
  }
}

const ownSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Other processes' use of the cores over the last period, and the verdict it gives. */
export class IdleCoreMonitor {
  private from: { at: number; busy: number; own: number } | undefined;
  private verdict = false;
  private unavailable = false;

  constructor(
    private readonly cores: number,
    private readonly read: () => string | undefined = readStat,
    private readonly own: () => number = ownSeconds,
  ) {}

  /**
   * Whether other processes kept every core but the caller's busy (BUSY_SHARE of each at least) over the
   * last period measured; measures again once IDLE_CORE_PERIOD_MS have passed since the last (`now`, ms).
   */
  busy(now: number): boolean {
    if (this.unavailable || (this.from && now - this.from.at < IDLE_CORE_PERIOD_MS)) return this.verdict;
    const busy = busySeconds(this.read());
    // no /proc/stat (not Linux): never read again (a failed read on every split call would cost more than it)
    if (busy === undefined) return (this.unavailable = true), (this.verdict = false);
    const own = this.own();
    if (this.from) {
      const others = (busy - this.from.busy - (own - this.from.own)) / ((now - this.from.at) / 1000);
      this.verdict = this.cores > 1 && others >= BUSY_SHARE * (this.cores - 1);
    }
    this.from = { at: now, busy, own };
    return this.verdict;
  }
}
