// One fresh process of the split-cache bench: the demo's transformer block run twice with a graph break
// between the two calls (a console.error line, which the policy skips), compiled once; prints the first
// call's CPU and wall time, where the compile went and what the persistent cache did, as one JSON line.
// Run by bench/split-cache.bench.ts against the built packages (`dist/`), as users run them.
// Usage: node bench/split-cache/child.mjs split|whole [cacheDir] (`whole`: the same two blocks without the
// break, one whole frame: the floor a split frame's cached start can reach).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const [mode, cacheDir] = process.argv.slice(2);
const root = join(import.meta.dirname, '..', '..');
let plugin;
if (cacheDir) {
  const { default: cachePlugin } = await import('@kiln/plugin-cache');
  plugin = cachePlugin({ dir: cacheDir });
  kiln.getDefaultCompiler().use(plugin);
}
const { TransformerBlock, input } = await import(pathToFileURL(join(root, 'examples', 'models.mjs')).href);
const model = new TransformerBlock(64, 4);
const x = input([2, 32, 64]);

function splitBlocks(xs) {
  const h = model.forward(xs);
  console.error('first block done', h.shape[1]);
  return model.forward(h);
}
function wholeBlocks(xs) {
  const h = model.forward(xs);
  return model.forward(h);
}
const twoBlocks = mode === 'whole' ? wholeBlocks : splitBlocks;

const cpu = process.cpuUsage();
const wall = performance.now();
const got = kiln.compile(twoBlocks)(x).toTypedArray();
const firstCallCpuMs = ((d) => (d.user + d.system) / 1000)(process.cpuUsage(cpu));
const firstCallWallMs = performance.now() - wall;
const want = twoBlocks(x).toTypedArray();
let worst = 0;
for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
if (!(worst < 1e-4)) throw new Error(`compiled result differs from eager by ${worst}`);
// The phases of each graph (before the break, the resume function), from explain in the same process: a
// second compile of the same function, so it reads the cache the first one filled or used.
const report = kiln.explain(twoBlocks)(x);
console.log(JSON.stringify({ firstCallCpuMs, firstCallWallMs, phases: report.compilePhasesMs, persistentCache: report.persistentCache, cache: plugin && { ...plugin.stats } }));
