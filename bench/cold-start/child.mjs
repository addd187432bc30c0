// One fresh process of the cold-start bench: imports Kiln package by package, builds the demo's transformer
// block, and compiles it once (compile(fn) and its first call, or explain for the phases). Prints one JSON
// line. Run by bench/cold-start.bench.ts against the built packages (`dist/`), as users run them.
// Usage: node bench/cold-start/child.mjs compile|explain [cacheDir]
import { readFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Counts the inspector calls the compile makes (Kiln reads closures through node:inspector) and the wall time
// they take: each is a round trip answered inline, and `Debugger.enable` replays every loaded script.
// (An object, not a `let` number: the compiled `forward` closes over this module's scope, and the persistent
// cache compares every primitive binding of it, which would differ between processes.)
const inspectorCalls = {};
const inspectorTime = { ms: 0 };
const post = inspector.Session.prototype.post;
inspector.Session.prototype.post = function (method, ...rest) {
  inspectorCalls[method] = (inspectorCalls[method] ?? 0) + 1;
  const t = performance.now();
  try {
    return post.call(this, method, ...rest);
  } finally {
    inspectorTime.ms += performance.now() - t;
  }
};

const [mode, cacheDir] = process.argv.slice(2);
const root = join(import.meta.dirname, '..', '..');
const cpuMs = (since) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
/**
 * CPU time of this (the main) thread, on Linux: the process's CPU also counts V8's helper threads (wasm
 * tier-up to TurboFan, concurrent JS compiles, GC), which run beside the first call. Tick-grained (≈4 ms).
 */
const mainThreadMs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
};
const span = async (work) => {
  const c = process.cpuUsage();
  const thread = mainThreadMs();
  const t = performance.now();
  const value = await work();
  const wallMs = performance.now() - t;
  const cpu = cpuMs(c);
  const threadEnd = mainThreadMs();
  return { value, wallMs, cpuMs: cpu, mainThreadMs: thread === undefined || threadEnd === undefined ? undefined : threadEnd - thread };
};

// In dependency order, so each line is the cost of that package alone.
const PACKAGES = ['pytree', 'shapes', 'tensor', 'graph', 'lower', 'policy', 'core', 'backend-cpu', 'optim', 'kiln'];
// The module each package exports (dist/bundle.js for those built as one module), as `import 'kiln'` loads it.
const built = (p) => {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8'));
  return pathToFileURL(join(root, 'packages', p, manifest.exports['.'].default)).href;
};
const imports = {};
for (const p of PACKAGES) imports[p] = (await span(() => import(built(p)))).cpuMs;
const kiln = await import('kiln');
const shapes = await import(built('shapes'));
let plugin;
if (cacheDir) {
  const { default: cachePlugin } = await import('@kiln/plugin-cache');
  plugin = cachePlugin({ dir: cacheDir });
  kiln.getDefaultCompiler().use(plugin);
}
const { TransformerBlock, input } = await import(pathToFileURL(join(root, 'examples', 'models.mjs')).href);
const model = new TransformerBlock(64, 4);
const x = input([2, 32, 64]);
const forward = (xs) => model.forward(xs);

// Empty functions whose first run V8's `--log-function-events` records: they bracket the first call for the
// bench's count of the functions V8 compiles during it (bench/cold-start.bench.ts, firstCallFunctions).
function firstCallBegins() {}
function firstCallEnds() {}

const out = { mode, cached: Boolean(cacheDir), imports };
if (mode === 'explain') {
  const { value: report, cpuMs: explainCpuMs, mainThreadMs: explainThreadMs } = await span(() => kiln.explain(forward)(x));
  out.compileMs = report.compileTimesMs[0];
  out.phasesMs = report.compilePhasesMs[0];
  out.explainCpuMs = explainCpuMs;
  out.explainThreadMs = explainThreadMs;
} else {
  const faults = process.resourceUsage().minorPageFault;
  firstCallBegins();
  const first = await span(() => kiln.compile(forward)(x));
  firstCallEnds();
  out.firstCallFaults = process.resourceUsage().minorPageFault - faults;
  const reference = forward(x).toTypedArray();
  const got = first.value.toTypedArray();
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - reference[i]));
  if (!(worst < 1e-4)) throw new Error(`compiled result differs from eager by ${worst}`);
  out.firstCallWallMs = first.wallMs;
  out.firstCallCpuMs = first.cpuMs;
  out.firstCallThreadMs = first.mainThreadMs;
}
out.mathjs = shapes.mathjsStats();
out.inspector = inspectorCalls;
out.inspectorMs = inspectorTime.ms;
if (plugin) out.cache = { ...plugin.stats };
console.log(JSON.stringify(out));
