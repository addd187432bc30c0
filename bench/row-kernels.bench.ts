// The row kernels of issue #17 per thread: softmax, logSoftmax and logSumExp over the rows of 1024×1024
// (and of 256×4096), each Kiln kernel alone on arena pointers against XNNPACK's softmax (tfjs-wasm
// `tf.softmax`, its result disposed, not read). Both run on this thread only, so the clock is process CPU
// time (a loaded machine's wall time mostly measures its neighbours), in interleaved rounds. XNNPACK has no
// logSoftmax or logSumExp (tfjs composes them of six kernels), so those rows are compared with its softmax,
// which has the same exp per element. Ratio = Kiln time / XNNPACK time: ≤ 1 means Kiln's kernel is at
// least as fast. Run: node scripts/bench.mjs row-kernels
import { type ReductionKernel, type ValueExpr, loop } from '@kiln/lower';
import { Arena, compileKernels } from '@kiln/backend-cpu';
import { machineLine, measuredClockMhz } from './machine.js';
import { spreadOf, type Spread } from './peer-timing.js';
import { initPeers } from './support.js';

const { acc, add, contiguous, div, load, sub, unary } = loop;
const f32 = 'float32' as const;

/** A row kernel: max, sum of exp(x - max), then `store` (full or per row). */
function rowKernel(name: string, rows: number, cols: number, store: (x: ValueExpr) => ReductionKernel['stores'][number]): ReductionKernel {
  const x = load('x', contiguous([rows, cols]));
  return {
    kind: 'reduction', name, params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'y', dtype: f32 }],
    outer: [rows], reduce: [cols], stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: unary('exp', sub(x, acc(0))) }],
    stores: [store(x)],
  };
}

const kernels = (rows: number, cols: number) => [
  rowKernel('softmax', rows, cols, (x) => ({ buffer: 'y', scope: 'full', access: contiguous([rows, cols]), value: div(unary('exp', sub(x, acc(0))), acc(1)) })),
  rowKernel('logSoftmax', rows, cols, (x) => ({ buffer: 'y', scope: 'full', access: contiguous([rows, cols]), value: sub(sub(x, acc(0)), unary('log', acc(1))) })),
  rowKernel('logSumExp', rows, cols, () => ({ buffer: 'y', scope: 'outer', access: contiguous([rows]), value: add(acc(0), unary('log', acc(1))) })),
];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Medians and quartiles of CPU ms, the contenders timed in interleaved rounds after a warm-up. */
function interleavedCpu(fns: readonly (() => unknown)[], rounds: number): Spread[] {
  for (const fn of fns) for (let i = 0; i < 10; i++) fn();
  const times = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t = cpuMs();
      fn();
      times[i]!.push(cpuMs() - t);
    });
  }
  return times.map(spreadOf);
}

async function main() {
  const { tf } = await initPeers();
  const arena = new Arena(1 << 20); // one thread
  console.log(`${machineLine()}; one thread each, clock: process CPU time`);
  console.log('median CPU ms [p25–p75], Kiln kernels and XNNPACK softmax in interleaved rounds; ratio = Kiln / XNNPACK softmax (≤ 1: Kiln at least as fast)\n');
  const fmt = (s: Spread) => `${s.median.toFixed(3)} [${s.p25.toFixed(3)}–${s.p75.toFixed(3)}]`;
  const table = [['rows × cols', 'kernel', 'Kiln', 'XNNPACK softmax', 'ratio', 'Kiln cycles / element']];
  for (const [rows, cols] of [[1024, 1024], [256, 4096]] as const) {
    const x = Float32Array.from({ length: rows * cols }, () => Math.random() * 8 - 4);
    const tx = tf.tensor2d(x, [rows, cols]);
    const px = arena.alloc(x.byteLength);
    (arena.view(f32, px, x.length) as Float32Array).set(x);
    const py = arena.alloc(x.byteLength);
    const calls = kernels(rows, cols).map((k) => {
      const call = compileKernels([k], arena).kernels.get(k.name)!.call;
      return { name: k.name, run: () => call({ x: px, y: py }) };
    });
    const xnn = () => tf.softmax(tx).dispose();
    const stats = interleavedCpu([...calls.map((c) => c.run), xnn], 200);
    const ref = stats[stats.length - 1]!;
    for (const [i, c] of calls.entries()) {
      const s = stats[i]!;
      const cycles = (s.median * 1e3 * measuredClockMhz()) / (rows * cols);
      table.push([`${rows} × ${cols}`, c.name, fmt(s), fmt(ref), (s.median / ref.median).toFixed(2), cycles.toFixed(2)]);
    }
    tx.dispose();
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) console.log('| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |');
}

await main();
