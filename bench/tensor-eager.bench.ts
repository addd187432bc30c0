// Eager @kiln/tensor side by side with tfjs (cpu backend and wasm backend, XNNPACK) in one process.
//   1. Dispatch overhead: one op on tiny (8-element) tensors, µs per op. Goal ≤ 2 µs; BENCH.md has jax-js
//      eager ≈ 55 µs and tfjs ≈ 10 µs on this kind of machine.
//   2. Throughput on 1M float32 elements: add, mul, exp, and an add whose first input is transposed.
// Every library starts from inputs already in its own memory. Tiny ops are timed without reading back (pure
// dispatch); 1M ops end with the result readable from JS (tfjs: dataSync(); Kiln's output already is).
// Medians over repeated batches; ratio = peer time / Kiln time, so > 1 means Kiln is faster. Figures from
// different runs are not comparable (see ../../shared/BENCH.md). Run: node scripts/bench.mjs tensor-eager
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as K from '@kiln/tensor';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { machineLine } from './machine.js';

/** Median per-call time in µs: `batch` calls per sample, samples until `budgetMs` or 101 samples. */
function medianMicros(fn: () => void, batch: number, budgetMs = 600): number {
  for (let i = 0; i < batch * 3; i++) fn(); // warm-up: JIT tiers, caches
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 7 || (performance.now() - start < budgetMs && samples.length < 101)) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push(((performance.now() - t) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

const randomF32 = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

type Case = { name: string; kiln: () => void; tfjs: () => void };

/** Tiny-tensor ops: each closure makes one op call and drops the result (tfjs results are disposed). */
function tinyCases(): Case[] {
  const a = randomF32(8);
  const b = randomF32(8);
  const ka = K.tensor(a).reshape([2, 4]);
  const kb = K.tensor(b).reshape([2, 4]);
  const kRow = K.tensor(b.subarray(0, 4));
  const ta = tf.tensor(a, [2, 4]);
  const tb = tf.tensor(b, [2, 4]);
  const tRow = tf.tensor(b.subarray(0, 4), [4]);
  const run = (make: () => tf.Tensor) => () => make().dispose();
  return [
    { name: 'add', kiln: () => K.add(ka, kb), tfjs: run(() => tf.add(ta, tb)) },
    { name: 'a.mul(2) (scalar)', kiln: () => ka.mul(2), tfjs: run(() => tf.mul(ta, 2)) },
    { name: 'add row (broadcast)', kiln: () => ka.add(kRow), tfjs: run(() => tf.add(ta, tRow)) },
    { name: 'exp', kiln: () => ka.exp(), tfjs: run(() => tf.exp(ta)) },
    { name: 'relu', kiln: () => ka.relu(), tfjs: run(() => tf.relu(ta)) },
    { name: 'gt (bool out)', kiln: () => ka.gt(kb), tfjs: run(() => tf.greater(ta, tb)) },
    { name: 'transpose (view)', kiln: () => ka.transpose(0, 1), tfjs: run(() => tf.transpose(ta)) },
    { name: 'reshape (view)', kiln: () => ka.reshape([4, 2]), tfjs: run(() => tf.reshape(ta, [4, 2])) },
  ];
}

/** 1M-element ops; tfjs reads the result back into JS. */
function bigCases(): Case[] {
  const n = 1 << 20;
  const side = 1 << 10;
  const a = randomF32(n);
  const b = randomF32(n);
  const ka = K.tensor(a).reshape([side, side]);
  const kb = K.tensor(b).reshape([side, side]);
  const ta = tf.tensor(a, [side, side]);
  const tb = tf.tensor(b, [side, side]);
  const read = (make: () => tf.Tensor) => () => {
    const t = make();
    t.dataSync();
    t.dispose();
  };
  return [
    { name: 'add', kiln: () => K.add(ka, kb), tfjs: read(() => tf.add(ta, tb)) },
    { name: 'mul', kiln: () => K.mul(ka, kb), tfjs: read(() => tf.mul(ta, tb)) },
    { name: 'exp', kiln: () => K.exp(ka), tfjs: read(() => tf.exp(ta)) },
    {
      name: 'transpose(a) + b',
      kiln: () => K.add(ka.transpose(0, 1), kb),
      tfjs: read(() => tf.tidy(() => tf.add(tf.transpose(ta), tb))),
    },
  ];
}

interface Row {
  name: string;
  kiln: number;
  cpu: number;
  wasm: number;
}

/** Times every case on Kiln and on the active tfjs backend; Kiln is timed once per backend pass. */
function measure(cases: () => Case[], batch: number): { kiln: number[]; peer: number[] } {
  const list = cases();
  return {
    kiln: list.map((c) => medianMicros(c.kiln, batch)),
    peer: list.map((c) => medianMicros(c.tfjs, batch)),
  };
}

function table(title: string, unit: 'µs' | 'ms', rows: Row[]): void {
  const scale = unit === 'ms' ? 1 / 1000 : 1;
  const f = (v: number) => (v * scale).toFixed(unit === 'ms' ? 2 : 2).padStart(9);
  const r = (peer: number, kiln: number) => `${(peer / kiln).toFixed(2)}×`.padStart(8);
  console.log(`\n${title} (median ${unit} per op; ratio = tfjs / Kiln, > 1 means Kiln is faster)`);
  console.log(`${'op'.padEnd(22)}${'kiln'.padStart(9)}${'tfjs-cpu'.padStart(9)}${'tfjs-wasm'.padStart(10)}${'vs cpu'.padStart(8)}${'vs wasm'.padStart(8)}`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(22)}${f(row.kiln)}${f(row.cpu)} ${f(row.wasm)}${r(row.cpu, row.kiln)}${r(row.wasm, row.kiln)}`);
  }
}

async function main(): Promise<void> {
  console.log(`${machineLine()}, tfjs ${tf.version.tfjs}`);
  const names = (cases: () => Case[]) => cases().map((c) => c.name);

  await tf.setBackend('cpu');
  const tinyCpu = measure(tinyCases, 2000);
  const bigCpu = measure(bigCases, 1);

  const require = createRequire(import.meta.url);
  setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  const tinyWasm = measure(tinyCases, 2000);
  const bigWasm = measure(bigCases, 1);

  // Kiln was timed in both passes; the lower median is the less disturbed one.
  const rows = (labels: string[], cpu: typeof tinyCpu, wasm: typeof tinyCpu): Row[] =>
    labels.map((name, i) => ({ name, kiln: Math.min(cpu.kiln[i]!, wasm.kiln[i]!), cpu: cpu.peer[i]!, wasm: wasm.peer[i]! }));
  const tiny = rows(names(tinyCases), tinyCpu, tinyWasm);
  table('Dispatch overhead, 8-element float32 tensors', 'µs', tiny);
  const mean = tiny.reduce((s, r) => s + r.kiln, 0) / tiny.length;
  console.log(`Kiln mean over these ops: ${mean.toFixed(2)} µs per op (goal ≤ 2 µs)`);
  table('Throughput, 1M float32 elements (1024×1024)', 'ms', rows(names(bigCases), bigCpu, bigWasm));
}

await main();
