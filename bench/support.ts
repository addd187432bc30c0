// Shared by the benches that compare Kiln with its peers in one process: timing and peer set-up.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spreadOf, type Spread } from './peer-timing.js';

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
 * Median and interquartile range of async calls (ONNX Runtime's `session.run`): each run is awaited before
 * the next starts, so the figure includes the promise round-trip. Same warm-up, minimum runs and budget as
 * medianMs.
 */
export async function spreadMsAsync(fn: () => Promise<unknown>, minRuns = 7, budgetMs = 1500): Promise<Spread> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budgetMs && times.length < 500)) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return spreadOf(times);
}

export { machineLine } from './machine.js';

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

/**
 * One row of medians with their interquartile ranges, `kiln 0.534 (0.52–0.56)`; each peer's ratio is taken
 * against `base` (Kiln with its result read back into JS, as every peer's figure includes), > 1 means Kiln
 * is faster.
 */
export function printSpreadRow(name: string, times: Record<string, Spread | undefined>, base = 'kiln+read'): void {
  const ref = times[base]!.median;
  const cells = Object.entries(times).map(([lib, s]) => (s === undefined ? `${lib} –` : `${lib} ${s.median.toFixed(3)} (${s.p25.toFixed(3)}–${s.p75.toFixed(3)})`));
  const ratios = Object.entries(times)
    .filter(([lib, s]) => lib !== base && lib !== 'kiln' && s !== undefined)
    .map(([lib, s]) => `${(s!.median / ref).toFixed(2)}× vs ${lib}`);
  console.log(`${name.padEnd(22)} ${cells.join(' | ')}\n${''.padEnd(22)} ${base} ${ratios.join(', ')}`);
}

/** explain()'s compile phases as ` (trace 1.2, passes 0.3, lower 0.4, wasm 0.9)`. */
export function phasesText(phases: Readonly<Record<string, number>> | undefined): string {
  return phases ? ` (${Object.entries(phases).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', ')})` : '';
}
