// How much CPU other processes took while a bench row ran, in cores (Linux: /proc/stat's busy time of every
// core, less this process's own CPU time). On a shared machine with as many runnable threads as cores, a
// second thread of ours cannot run beside the first, and a two-thread figure measures the neighbours; the
// threads bench prints this beside each ratio, and with KILN_BENCH_QUIET=<seconds> waits (up to that long)
// for a quiet second before each row. Elsewhere (no /proc/stat) it answers undefined.
import { existsSync, readFileSync } from 'node:fs';
import { busySeconds } from '@kiln/backend-cpu';

const STAT = '/proc/stat';

/** Busy seconds of all cores together (user, nice, system, irq, softirq, steal), or undefined off Linux. */
const busyNow = (): number | undefined => (existsSync(STAT) ? busySeconds(readFileSync(STAT, 'utf8')) : undefined);

const ownSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Starts a measurement; the function it returns answers the cores other processes used on average since. */
export function otherLoadMeter(): () => number | undefined {
  const busy0 = busyNow(), own0 = ownSeconds(), wall0 = performance.now();
  return () => {
    const busy = busyNow();
    const wall = (performance.now() - wall0) / 1000;
    if (busy === undefined || busy0 === undefined || wall < 0.05) return undefined;
    return Math.max(0, (busy - busy0 - (ownSeconds() - own0)) / wall);
  };
}

/** Other processes' cores over a measurement, for a table cell. */
export const formatLoad = (cores: number | undefined) => (cores === undefined ? '–' : cores.toFixed(2));

/**
 * With KILN_BENCH_QUIET=<seconds>: waits until other processes used under `below` cores over a whole second,
 * or until that many seconds have passed; answers how long it waited and whether it found one.
 */
export async function awaitQuietSecond(below = 0.2): Promise<{ waitedS: number; quiet: boolean } | undefined> {
  const limitS = Number(process.env.KILN_BENCH_QUIET ?? 0);
  if (!(limitS > 0) || busyNow() === undefined) return undefined;
  const start = performance.now();
  for (;;) {
    const meter = otherLoadMeter();
    await new Promise((r) => setTimeout(r, 1000));
    const waitedS = (performance.now() - start) / 1000;
    if (meter()! < below) return { waitedS, quiet: true };
    if (waitedS >= limitS) return { waitedS, quiet: false };
  }
}
