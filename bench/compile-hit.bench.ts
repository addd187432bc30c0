// The cost of a compile() cache hit (guards + input gathering + graph dispatch + output rebuild) on a
// 3-tensor function, against calling the eager function directly; and compile times of the README example
// and of a transformer block. Prints ratios; never gates CI on absolute times.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, explain, inline } from '@kiln/core';

// bench/ is the @kiln/bench package, which the policy skips as Kiln's own code: mark it as user code.
inline(`${dirname(fileURLToPath(import.meta.url))}/**`);

const a = k.ones([2, 2]);
const b = k.ones([2, 2]);
const c = k.ones([2, 2]);
const f3 = (x: Tensor, y: Tensor, z: Tensor) => x.add(y).mul(z);
const fast = compile(f3);
fast(a, b, c);

function timePerCall(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < 1000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

const direct = timePerCall(() => f3(a, b, c), 50_000);
const hit = timePerCall(() => fast(a, b, c), 50_000);
console.log(`eager direct:      ${direct.toFixed(2)} µs/call`);
console.log(`compiled (hit):    ${hit.toFixed(2)} µs/call`);
console.log(`overhead of a hit: ${(hit - direct).toFixed(2)} µs (goal ≤ 2 µs; ratio ${(hit / direct).toFixed(2)}×)`);

// Guards that resolve methods and fields through descriptors (guards/reflect.ts): a module-style call with a
// captured instance, a config object and six tensor methods.
class Affine {
  constructor(readonly w: Tensor, readonly cfg: { scale: number; shift: number }) {}
  forward(t: Tensor) {
    return t.mul(this.w).add(this.cfg.shift).relu().mul(this.cfg.scale).neg().exp();
  }
}
const layer = new Affine(k.ones([2, 2]), { scale: 2, shift: 1 });
const fm = (t: Tensor) => layer.forward(t);
const fastModule = compile(fm);
fastModule(a);
const moduleDirect = timePerCall(() => fm(a), 50_000);
const moduleHit = timePerCall(() => fastModule(a), 50_000);
console.log(`module-style hit:  ${moduleHit.toFixed(2)} µs/call vs eager ${moduleDirect.toFixed(2)} (overhead ${(moduleHit - moduleDirect).toFixed(2)} µs, ratio ${(moduleHit / moduleDirect).toFixed(2)}×)`);

const W = k.randn([64, 64]);
function block(x: Tensor, scale = 2) {
  let h = x.matmul(W).relu();
  if (h.shape[0]! > 1) h = h.mul(scale);
  for (const bias of [1, 2]) h = h.add(bias);
  return { out: h.softmax(-1), rows: h.shape[0] };
}
const e = explain(block)(k.randn([8, 64]));
console.log(`README example compile: ${e.compileTimesMs[0]!.toFixed(1)} ms (${e.graphCount} graph, ${Object.values(e.opCounts).reduce((s, n) => s + n, 0)} ops)`);
