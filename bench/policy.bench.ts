// Policy decisions: the tracer asks once per call site it meets, so a cached decision must cost well under
// the 100 ns budget of issue 5. Prints ns per decision, cached and uncached, and the ratio to the budget.
// (Imported by path: @kiln/policy is not a dependency of the bench package yet.)
import { machineLine } from './machine.js';
import { add, Tensor } from '@kiln/tensor';
import { Policy } from '../packages/policy/src/index.js';
import type { Frame } from '../packages/policy/src/index.js';
console.log(machineLine());

const BUDGET_NS = 100;
const policy = new Policy();
const frames: Frame[] = [
  { fn: add, origin: 'call', url: 'file:///app/node_modules/@kiln/tensor/dist/ops/pointwise.js' },
  { fn: Tensor.prototype.matmul ?? Tensor.prototype.mul, origin: 'call' },
  { fn: Math.max, origin: 'call' },
  { fn: Array.prototype.map, origin: 'call' },
  { fn: function forward() {}, origin: 'call', url: 'file:///app/src/model.js' },
  { fn: function layer() {}, origin: 'top-level', url: 'file:///app/src/model.js' },
  { fn: function debounce() {}, origin: 'call', url: 'file:///app/node_modules/lodash/debounce.js' },
  { fn: function readFile() {}, origin: 'call', url: 'node:fs' },
];

function time(label: string, n: number, body: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < Math.min(n, 100_000); i++) sink += body(i) ? 1 : 0; // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += body(i) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(34)} ${ns.toFixed(1).padStart(8)} ns/decision${sink < 0 ? '' : ''}`);
  return ns;
}

const mask = frames.length - 1;
const cached = time('decide(), cached (8 frames)', 20_000_000, (i) => policy.decide(frames[i & mask]!));
const uncached = time('lookup(), uncached (8 frames)', 200_000, (i) => policy.lookup(frames[i & mask]!));
console.log(`cached / budget (${BUDGET_NS} ns): ${(cached / BUDGET_NS).toFixed(3)}x`);
console.log(`uncached / cached: ${(uncached / cached).toFixed(1)}x`);
