// Resident tensors (backend-cpu README): what handing outputs back over their arena blocks, and reading
// resident inputs in place, saves per compiled call — and where it cannot. Columns (median ms per call):
//   resident   defaults; the event loop turns between calls (untimed), as in an app's frames or requests,
//              so dead outputs are released and their blocks reused
//   copy       the same with resident outputs off (budget 0): inputs copied in, outputs copied out (before)
//   res-in     resident, and the inputs are themselves resident (outputs of an earlier compiled call)
//   sync       defaults, calls back to back in one synchronous loop (like the compiled bench): finalizers
//              cannot run inside it, so after the burst cap outputs are copied out as before
//   copy sync  the same with budget 0
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
console.log('median ms per compiled call; ratio > 1: that column is slower than `resident`\n');

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

/** Runs `f` with resident outputs off. */
const withBudget0 = async <T>(f: () => T | Promise<T>): Promise<T> => {
  const saved = configureResident();
  configureResident({ budgetBytes: 0 });
  try {
    return await f();
  } finally {
    configureResident(saved);
  }
};

const toResident = compile((x: k.Tensor) => x.mul(1));
for (const [name, fn, args] of cases) {
  const fast = compile(fn);
  const residentArgs = args.map((a) => toResident(a));
  const want = fn(...args).toTypedArray();
  const got = fast(...residentArgs).toTypedArray();
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1e-4 * Math.max(1, Math.abs(want[i]!))) throw new Error(`${name}: differs at ${i}`);
  // V8 runs new wasm on its baseline tier until TurboFan finishes in the background: warm up first, or
  // whichever column is measured first pays for it.
  for (let i = 0; i < 200; i++) fast(...args);
  await new Promise((r) => setTimeout(r, 300));
  const copy = await withBudget0(() => medianYielding(() => fast(...args)));
  const resident = await medianYielding(() => fast(...args));
  const resIn = await medianYielding(() => fast(...residentArgs));
  const copySync = await withBudget0(() => medianMs(() => fast(...args)));
  await tick();
  const sync = medianMs(() => fast(...args));
  await tick();
  printRow(name, { resident, copy, 'res-in': resIn, sync, 'copy sync': copySync }, 'resident');
}
const pool = residentPool(cpuArena());
console.log(`\narena ${(cpuArena().memory.buffer.byteLength / 2 ** 20).toFixed(0)} MB, resident now ${(pool.bytes / 2 ** 20).toFixed(1)} MB in ${pool.blocks} blocks`);
