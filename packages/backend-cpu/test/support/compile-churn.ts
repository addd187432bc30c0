// Child process of compile-churn-memory.test.ts (run with --expose-gc): compiles rounds of short-lived
// functions — `new Function` programs and closures made from them, each a script of its own — calls each
// twice and drops it, then prints the JS heap and the CPU arena (bytes in use, wasm memory) after a full GC.
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compile } from '@kiln/core';
import { cpuArena } from '../../src/index.js';

const ROUNDS = Number(process.argv[2] ?? 6);
const PER_ROUND = Number(process.argv[3] ?? 120);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const x = k.randn([64]);
const settle = () => new Promise((r) => setTimeout(r, 20));

const samples: { functions: number; heapUsed: number; arenaInUse: number; wasmMemory: number }[] = [];
let n = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < PER_ROUND; i++, n++) {
    const fn =
      n % 2 === 0
        ? (new Function('t', `return t.mul(${n + 1}).neg().add(${n});`) as (t: Tensor) => Tensor)
        : (new Function('w', `return (t) => t.mul(w).relu().sub(${n});`)(n) as (t: Tensor) => Tensor);
    const c = compile(fn);
    c(x);
    c(x);
  }
  // Finalizers run after a GC, in their own tasks: collect, let them run, collect what they freed.
  gc();
  await settle();
  gc();
  await settle();
  const arena = cpuArena();
  samples.push({ functions: n, heapUsed: process.memoryUsage().heapUsed, arenaInUse: arena.bytesInUse, wasmMemory: arena.memory.buffer.byteLength });
}
console.log(JSON.stringify(samples));
