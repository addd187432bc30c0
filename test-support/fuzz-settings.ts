// How many programs a differential fuzzer tries and from which seed. CI runs each fuzzer's small fixed
// default; `pnpm fuzz` (scripts/fuzz.mjs) sets FUZZ_RUNS, FUZZ_SEED and FUZZ_DEADLINE (epoch ms) for a long,
// time-bounded run. A failure names the seed and a command that reproduces it.
import fc from 'fast-check';

export interface FuzzSettings {
  readonly runs: number;
  readonly seed: number;
  /** Whether scripts/fuzz.mjs is driving (a long run): fuzzers then report progress and stop at the deadline. */
  readonly long: boolean;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${raw}: expected an integer ≥ ${min}`);
  return n;
}

/** The settings for one fuzzer: its CI defaults unless the environment widens them. */
export function fuzzSettings(defaults: { runs: number; seed: number }): FuzzSettings {
  return { runs: intFromEnv('FUZZ_RUNS', defaults.runs, 0), seed: intFromEnv('FUZZ_SEED', defaults.seed, -(2 ** 31)), long: process.env.FUZZ_DEADLINE !== undefined };
}

/** Milliseconds left before FUZZ_DEADLINE (Infinity when no deadline is set). */
export function fuzzTimeLeft(): number {
  const deadline = process.env.FUZZ_DEADLINE;
  return deadline ? Math.max(0, Number(deadline) - Date.now()) : Infinity;
}

/** The command that replays one fuzzer from a seed. */
export const reproCommand = (fuzzer: string, seed: number, runs: number): string => `pnpm fuzz ${fuzzer} --seed ${seed} --runs ${runs}`;

/**
 * Runs a fast-check property as one fuzzer: CI's fixed runs and seed unless FUZZ_RUNS / FUZZ_SEED widen
 * them, stopped at its share of FUZZ_DEADLINE, and on failure fast-check's report plus the replay command.
 * `part` tells apart several properties of one fuzzer (their seeds are FUZZ_SEED + part).
 */
export function fuzzProperty<T>(fuzzer: string, property: fc.IProperty<T>, defaults: { runs: number; seed: number }, part = 0, parts = 1): void {
  const s = fuzzSettings(defaults);
  const seed = process.env.FUZZ_SEED ? s.seed + part : defaults.seed;
  const runs = part > 0 && !process.env.FUZZ_RUNS ? defaults.runs : s.runs;
  const limit = fuzzTimeLeft() / (parts - part);
  const details = fc.check(property, {
    numRuns: runs,
    seed,
    includeErrorInReport: true,
    ...(Number.isFinite(limit) ? { interruptAfterTimeLimit: Math.max(1, Math.floor(limit)), markInterruptAsFailure: false } : {}),
  });
  if (s.long) console.log(`[fuzz ${fuzzer}] part ${part + 1}/${parts}: ${details.numRuns} programs from seed ${seed}${details.interrupted ? ' (stopped at its time share)' : ''}`);
  if (details.failed) {
    throw new Error(`${fc.defaultReportMessage(details)}\n  repro: ${reproCommand(fuzzer, seed - part, runs)} (fast-check seed ${details.seed}, path "${details.counterexamplePath}")`);
  }
}
