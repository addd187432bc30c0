// KILN_LOGS captured in process, for tests of what the compiler logs (no other side effects, so tests of
// other packages can import it).
import { logSink } from '../../src/logs/index.js';

/** Runs `fn` with KILN_LOGS set to `spec` and returns the log lines it printed. */
export function captureLogs(spec: string, fn: () => void): string[] {
  const lines: string[] = [];
  const write = logSink.write;
  const saved = process.env.KILN_LOGS;
  process.env.KILN_LOGS = spec;
  logSink.write = (l) => void lines.push(l);
  try {
    fn();
  } finally {
    logSink.write = write;
    if (saved === undefined) delete process.env.KILN_LOGS;
    else process.env.KILN_LOGS = saved;
  }
  return lines;
}
