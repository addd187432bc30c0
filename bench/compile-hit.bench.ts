// The cost of a compile() cache hit (guards + input gathering + graph dispatch + output rebuild) on a
// 3-tensor function, against calling the eager function directly; and compile times of the README example
// and of a transformer block. Prints ratios; never gates CI on absolute times.
import { machineLine } from './machine.js';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, compileWith, explain, inline } from '@kiln/core';
import * as config from './fixtures/guard-config.js';
console.log(machineLine());

// bench/ is the @kiln/bench package, which the policy skips as Kiln's own code: mark it as user code.
inline(`${dirname(fileURLToPath(import.meta.url))}/**`);

const a = k.ones([2, 2]);
const b = k.ones([2, 2]);
const c = k.ones([2, 2]);
const f3 = (x: Tensor, y: Tensor, z: Tensor) => x.add(y).mul(z);
const fast = compile(f3);
fast(a, b, c);

/** µs per call: the best of five rounds (on a shared machine the minimum is the least disturbed figure). */
function timePerCall(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < 1000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations / 5; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / (iterations / 5) / 1000);
  }
  return best;
}

const direct = timePerCall(() => f3(a, b, c), 50_000);
const hit = timePerCall(() => fast(a, b, c), 50_000);
console.log(`eager direct:      ${direct.toFixed(2)} µs/call`);
console.log(`compiled (hit):    ${hit.toFixed(2)} µs/call`);
console.log(`overhead of a hit: ${(hit - direct).toFixed(2)} µs (goal ≤ 2 µs; ratio ${(hit / direct).toFixed(2)}×)`);

// Guards over module-style code, where most of a hit's guard work is checking that the properties the
// trace read are still data properties (guards/reflect.ts: a guard must never run a user getter): the hit's
// overhead over calling the eager function directly, per workload. Tensors are 2×2, so the overhead is the
// guards, the input gathering and the dispatch.
class Affine {
  constructor(readonly w: Tensor, readonly cfg: { scale: number; shift: number }) {}
  forward(t: Tensor) {
    return t.mul(this.w).add(this.cfg.shift).relu().mul(this.cfg.scale).neg().exp();
  }
}
/** A class with getters beside its fields (accessors on the prototype; the trace reads only the fields). */
class Gated {
  constructor(readonly w: Tensor, readonly bias: number, readonly gain: number) {}
  get rows() {
    return this.w.shape[0];
  }
  get label() {
    return `gated ${this.rows}`;
  }
  forward(t: Tensor) {
    return t.mul(this.w).add(this.bias).mul(this.gain).relu();
  }
}
const layer = new Affine(k.ones([2, 2]), { scale: 2, shift: 1 });
const gated = new Gated(k.ones([2, 2]), 1, 2);
const workloads: [string, (t: Tensor) => Tensor][] = [
  ['instance + plain config', (t) => layer.forward(t)],
  ['class with getters', (t) => gated.forward(t)],
  // An ES module namespace: every export is a non-configurable data property (a live binding).
  ['module namespace', (t) => config.activation(t.mul(config.scale).add(config.shift).add(config.eps))],
];
type GuardFn = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => number;
/**
 * The guard check alone, in ns: the entry's guard function called with the arguments the compiled function
 * passed it on a hit (an observer wraps it once to see them), so load noise in the rest of the hit is out.
 */
function guardCheckNs(fn: (...args: any[]) => unknown, args: unknown[]): number {
  let entry: { guard: GuardFn } | undefined;
  const compiled = compileWith(fn, {}, { onEntry: (e: { guard: GuardFn }) => void (entry ??= e), onBreak: () => undefined });
  compiled(...args);
  let seen: Parameters<GuardFn> | undefined;
  const guard = entry!.guard;
  entry!.guard = (...p: Parameters<GuardFn>) => ((seen = p), guard(...p));
  compiled(...args);
  entry!.guard = guard;
  if (!seen || guard(...seen) !== -1) throw new Error('the guard did not pass on a hit');
  const [L, T, C, M] = seen;
  return timePerCall(() => guard(L, T, C, M), 1_000_000) * 1000;
}

console.log(`guard check, tensors only (f3): ${guardCheckNs(f3, [a, b, c]).toFixed(0)} ns`);
for (const [name, fm] of workloads) {
  const fastModule = compile(fm);
  fastModule(a);
  const moduleDirect = timePerCall(() => fm(a), 50_000);
  const moduleHit = timePerCall(() => fastModule(a), 50_000);
  console.log(
    `${`${name}:`.padEnd(25)} guard check ${guardCheckNs(fm, [a]).toFixed(0).padStart(4)} ns; hit ${moduleHit.toFixed(2)} µs/call vs eager ${moduleDirect.toFixed(2)} (overhead ${(moduleHit - moduleDirect).toFixed(2)} µs, ratio ${(moduleHit / moduleDirect).toFixed(2)}×)`,
  );
}

const W = k.randn([64, 64]);
function block(x: Tensor, scale = 2) {
  let h = x.matmul(W).relu();
  if (h.shape[0]! > 1) h = h.mul(scale);
  for (const bias of [1, 2]) h = h.add(bias);
  return { out: h.softmax(-1), rows: h.shape[0] };
}
const e = explain(block)(k.randn([8, 64]));
console.log(`README example compile: ${e.compileTimesMs[0]!.toFixed(1)} ms (${e.graphCount} graph, ${Object.values(e.opCounts).reduce((s, n) => s + n, 0)} ops)`);
