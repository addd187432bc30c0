// Resident tensors (backend-cpu README): what handing outputs back over their arena blocks, and reading
// resident inputs in place, saves per compiled call — and where it cannot. Columns:
//   copy       resident outputs off (budget 0): inputs copied in, outputs copied out, as before
//   sync       defaults, calls back to back in one synchronous loop (like the compiled bench): the
//              FinalizationRegistry cannot run inside it, so once the budget is spent outputs are copied
//   yielding   defaults, the event loop turns between calls (as in an app): dead outputs are released
//              and their blocks reused (only the call is timed)
//   res-in     yielding, and the inputs are themselves resident (outputs of an earlier compiled call):
//              no copy in either direction
// Run: node scripts/bench.mjs resident
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { configureResident, cpuArena, residentPool } from '@kiln/backend-cpu';
import { machineLine, medianMs, printRow } from './support.js';

const tick = () => new Promise((r) => setImmediate(r));

/** Median ms of `fn` with a turn of the event loop (untimed) between calls. */
async function medianYielding(fn: () => unknown, runs = 200): Promise<number> {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await tick();
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

console.log(machineLine());
console.log('median ms per compiled call; ratio > 1: that column is slower than `yielding`\n');

type Fn = (...a: k.Tensor[]) => k.Tensor;
const N = 1 << 20;
const S = 1024;
const cases: [string, Fn, k.Tensor[]][] = [
  ['hypot 1M (4 ops)', (x, y) => x.mul(x).add(y.mul(y)).sqrt(), [k.randn([N]), k.randn([N])]],
  ['10-op chain 1M', (x, y) => {
    let t = x.mul(1.5).add(y);
    t = t.mul(t);
    t = t.sub(x).mul(0.5).add(1);
    return t.abs().sqrt().maximum(y).mul(x);
  }, [k.randn([N]), k.randn([N])]],
  ['softmax rows 1024²', (x) => x.softmax(-1), [k.randn([S, S])]],
  ['sum rows 1024²', (x) => x.sum(-1), [k.randn([S, S])]],
];

const toResident = compile((x: k.Tensor) => x.mul(1));
for (const [name, fn, args] of cases) {
  const fast = compile(fn);
  const resident = args.map((a) => toResident(a));
  const want = fn(...args).toTypedArray();
  const got = fast(...resident).toTypedArray();
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1e-4 * Math.max(1, Math.abs(want[i]!))) throw new Error(`${name}: differs at ${i}`);
  const saved = configureResident();
  configureResident({ budgetBytes: 0 });
  const copy = medianMs(() => fast(...args));
  configureResident(saved);
  await tick();
  const sync = medianMs(() => fast(...args));
  await tick();
  const yielding = await medianYielding(() => fast(...args));
  const resIn = await medianYielding(() => fast(...resident));
  printRow(name, { yielding, copy, sync, 'res-in': resIn }, 'yielding');
}
const pool = residentPool(cpuArena());
console.log(`\narena ${(cpuArena().memory.buffer.byteLength / 2 ** 20).toFixed(0)} MB, resident now ${(pool.bytes / 2 ** 20).toFixed(1)} MB in ${pool.blocks} blocks`);
