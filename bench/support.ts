// Shared by the benches that compare Kiln with its peers in one process: timing and peer set-up.
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/** Median wall time of `fn` in ms, after a warm-up; at least `minRuns` runs, more while the budget lasts. */
export function medianMs(fn: () => unknown, minRuns = 7, budgetMs = 1500): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budgetMs && times.length < 500)) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/**
 * medianMs for async calls (ONNX Runtime's `session.run`): each run is awaited before the next starts, so
 * the figure includes the promise round-trip. Same warm-up, minimum runs and budget as medianMs.
 */
export async function medianMsAsync(fn: () => Promise<unknown>, minRuns = 7, budgetMs = 1500): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budgetMs && times.length < 500)) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export function machineLine(): string {
  return `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`;
}

/** jax-js on its wasm backend and tfjs on its wasm (XNNPACK) backend, ready to use. */
export async function initPeers(): Promise<{ jax: typeof import('@jax-js/jax'); tf: typeof import('@tensorflow/tfjs') }> {
  const jax = await import('@jax-js/jax');
  await jax.init('wasm');
  const tf = await import('@tensorflow/tfjs');
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  const req = createRequire(import.meta.url);
  setWasmPaths(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();
  return { jax, tf };
}

/** One row: each library's median ms, and Kiln's ratio to each (> 1 means Kiln is faster). */
export function printRow(name: string, times: Record<string, number | undefined>, kilnKey = 'kiln'): void {
  const kiln = times[kilnKey]!;
  const cells = Object.entries(times).map(([lib, ms]) => (ms === undefined ? `${lib} –` : `${lib} ${ms.toFixed(3)} ms`));
  const ratios = Object.entries(times)
    .filter(([lib, ms]) => lib !== kilnKey && ms !== undefined)
    .map(([lib, ms]) => `${(ms! / kiln).toFixed(2)}× vs ${lib}`);
  console.log(`${name.padEnd(28)} ${cells.join(' | ')}   → ${ratios.join(', ')}`);
}

/** explain()'s compile phases as ` (trace 1.2, passes 0.3, lower 0.4, wasm 0.9)`. */
export function phasesText(phases: Readonly<Record<string, number>> | undefined): string {
  return phases ? ` (${Object.entries(phases).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', ')})` : '';
}
