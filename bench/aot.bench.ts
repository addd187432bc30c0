// AOT modules (`kiln aot`) against compile() of the same function: the per-call overhead on a tiny function,
// the run time of the demo MLP and transformer block, and the load time of a module (import + instantiate +
// first call) in a fresh Node process, against a fresh process that imports kiln, compiles and calls.
// Calls are timed in interleaved rounds; ratio = compile() time / AOT time (> 1: the AOT module is faster).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as k from '@kiln/tensor';
import { compile, inline } from '@kiln/core';
import '@kiln/backend-cpu';
import { exportProgram, type ExportOptions } from '@kiln/export';
import { aotCompile, bundleRuntime, writeAotModule } from '@kiln/aot';
import { machineLine } from './support.js';
// @ts-expect-error -- the demo's models are plain JS without declarations
import { MLP, TransformerBlock, input } from '../examples/models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
inline(`${here}/**`); // bench/ is user code here, not Kiln's own
const dir = mkdtempSync(join(tmpdir(), 'kiln-aot-bench-'));

type Fn = (...args: k.Tensor[]) => unknown;
interface Case { name: string; fn: Fn; args: k.Tensor[]; exportOptions: ExportOptions }

/** Median µs per call of each function, timed in interleaved rounds so load bursts hit all of them. */
function interleaved(fns: Record<string, () => unknown>, rounds = 15, budgetMs = 200): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((n) => [n, []]));
  for (const f of Object.values(fns)) for (let i = 0; i < 50; i++) f();
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(fns)) {
      let calls = 0;
      const start = performance.now();
      while (performance.now() - start < budgetMs / rounds || calls < 3) {
        f();
        calls++;
      }
      samples[name]!.push(((performance.now() - start) * 1000) / calls);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, s.sort((a, b) => a - b)[s.length >> 1]!]));
}

const mlp = new MLP([64, 256, 64]);
const block = new TransformerBlock(64, 4);
const w = k.randn([2, 2]);
const cases: Case[] = [
  { name: 'tiny: (x + y) * w, 2×2', fn: (x, y) => x.add(y).mul(w), args: [k.randn([2, 2]), k.randn([2, 2])], exportOptions: {} },
  { name: 'MLP 64-256-64, batch 32', fn: (x) => mlp.forward(x), args: [input([32, 64])], exportOptions: { dynamic: true } },
  { name: 'transformer 1×64×64, 4 heads', fn: (x) => block.forward(x), args: [input([1, 64, 64])], exportOptions: { dynamic: true } },
];

console.log(machineLine());
const runtime = await bundleRuntime();
console.log(`AOT CPU runtime: ${(runtime.bytes / 1024).toFixed(1)} KB minified (goal ≤ 30 KB)`);
console.log('median µs per call; AOT called with Kiln tensors (tensors out) and with { data, shape } (typed arrays out)');
console.log('| function | compile() | AOT, tensors | AOT, arrays | compile/AOT (tensors) | compile/AOT (arrays) | module KB (wasm, weights) | max |Δ| |');
console.log('|---|---|---|---|---|---|---|---|');
const modules: { name: string; path: string; shape: number[] }[] = [];
for (const c of cases) {
  const compiled = compile(c.fn);
  const aot = await aotCompile(exportProgram(c.fn as (...a: unknown[]) => unknown, c.args, c.exportOptions));
  const path = join(dir, `${modules.length}.mjs`);
  await writeAotModule(aot, path);
  modules.push({ name: c.name, path, shape: [...c.args[0]!.shape] });
  const model = (await (await import(pathToFileURL(path).href)).load()) as (...a: unknown[]) => unknown;
  const arrays = c.args.map((t) => ({ data: t.toTypedArray(), shape: [...t.shape] }));
  const want = (compiled(...c.args) as k.Tensor).toTypedArray();
  const got = (model(...c.args) as k.Tensor).toTypedArray();
  const delta = Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i]!)));
  const t = interleaved({
    compiled: () => (compiled(...c.args) as k.Tensor).toTypedArray(),
    tensors: () => (model(...c.args) as k.Tensor).toTypedArray(),
    arrays: () => model(...arrays),
  });
  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log(`| ${c.name} | ${t.compiled!.toFixed(1)} | ${t.tensors!.toFixed(1)} | ${t.arrays!.toFixed(1)} | ${(t.compiled! / t.tensors!).toFixed(2)}× | ${(t.compiled! / t.arrays!).toFixed(2)}× | ${kb(aot.sizes.moduleBytes)} (${kb(aot.sizes.wasmBytes)}, ${kb(aot.sizes.weightBytes)}) | ${delta.toExponential(1)} |`);
}

/** Median ms of a fresh `node` process's own measurement (it prints one number). */
function freshProcessMs(script: string, runs = 5): number {
  const file = join(dir, `fresh-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const times = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: resolve(here, '..') }).trim()));
  return times.sort((a, b) => a - b)[runs >> 1]!;
}

console.log('\nfresh process: ms from the start of the import to the first result (median of 5 processes)');
const builtKiln = resolve(here, '../packages/kiln/dist/index.js');
for (const m of modules) {
  const zeros = `{ data: new Float32Array(${m.shape.reduce((a, b) => a * b, 1)}), shape: ${JSON.stringify(m.shape)} }`;
  const aotMs = freshProcessMs(`const t0 = performance.now(); const { load } = await import(${JSON.stringify(pathToFileURL(m.path).href)});
const model = await load(); const a = ${zeros}; model(a${m.name.startsWith('tiny') ? ', a' : ''}); console.log(performance.now() - t0);`);
  console.log(`  ${m.name.padEnd(32)} AOT module: ${aotMs.toFixed(1)} ms`);
}
if (existsSync(builtKiln)) {
  const compileMs = freshProcessMs(`const t0 = performance.now(); const k = await import(${JSON.stringify(pathToFileURL(builtKiln).href)});
const w = k.randn([2, 2]); const f = (x, y) => x.add(y).mul(w); const fast = k.compile(f); fast(k.randn([2, 2]), k.randn([2, 2])).toTypedArray(); console.log(performance.now() - t0);`);
  console.log(`  ${'tiny, through import kiln + compile()'.padEnd(32)} ${compileMs.toFixed(1)} ms (the built kiln package, dist/)`);
} else {
  console.log('  (import kiln + compile() in a fresh process: skipped, packages/kiln/dist is not built; run pnpm build)');
}
