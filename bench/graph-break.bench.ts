// A function with one console.log-style graph break in the middle, compiled and cached: the graph before
// the break, the statement run eagerly, then the compiled resume function. Compared with two break-free
// compiled functions doing the same work (the floor a split frame can reach; goal ≤ 1.5×) and with running
// it eagerly. Prints ratios; never gates CI on absolute times.
import { machineLine } from './machine.js';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile, explain, inline, skip } from '@kiln/core';
import '@kiln/backend-cpu'; // compile()'s default backend then, as in the README

// bench/ is the @kiln/bench package, which the policy skips as Kiln's own code: mark it as user code.
inline(`${dirname(fileURLToPath(import.meta.url))}/**`);
console.log(machineLine());

let logged = 0;
/** Stands in for console.log: the policy skips it, so every call to it is a graph break. */
const logLine = (..._parts: unknown[]): void => void logged++;
skip(logLine);

const W = k.randn([32, 32]);
function withBreak(x: Tensor): Tensor {
  const h = x.matmul(W).relu().add(1);
  logLine('h', h.shape[0]);
  return h.mul(2).softmax(-1);
}
const first = (x: Tensor): Tensor => x.matmul(W).relu().add(1);
const second = (h: Tensor): Tensor => h.mul(2).softmax(-1);

function timePerCall(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < 2000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

for (const rows of [4, 64]) {
  const x = k.randn([rows, 32]);
  const split = compile(withBreak);
  const c1 = compile(first);
  const c2 = compile(second);
  const twoFunctions = (t: Tensor) => {
    const h = c1(t);
    logLine('h', h.shape[0]);
    return c2(h);
  };
  split(x);
  twoFunctions(x);
  const iterations = rows > 16 ? 5_000 : 20_000;
  const eager = timePerCall(() => withBreak(x), iterations);
  const floor = timePerCall(() => twoFunctions(x), iterations);
  const broken = timePerCall(() => split(x), iterations);
  console.log(`x: [${rows}, 32]`);
  console.log(`  eager:                         ${eager.toFixed(2)} µs/call`);
  console.log(`  two break-free compiled fns:   ${floor.toFixed(2)} µs/call`);
  console.log(`  one compiled fn with a break:  ${broken.toFixed(2)} µs/call  (${(broken / floor).toFixed(2)}× the two functions, goal ≤ 1.5×; ${(broken / eager).toFixed(2)}× eager)`);
}
const e = explain(withBreak)(k.randn([4, 32]));
console.log(`explain: ${e.graphCount} graphs, ${e.breakCount} break (${e.breaks[0]?.resumed?.resumes.join(', ') ?? 'no resume'})`);
