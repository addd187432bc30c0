// Shared by the WebGPU tests: one device per test process (or the reason there is none, printed once and
// the tests reported as skipped), and a differential check of a traced function against eager.
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { logSink } from '../../core/src/logs/index.js';
import { compileGraphForWebGpu, configureWebGpu, initWebGpu, releaseDevice, type GpuContext } from '@kiln/backend-webgpu';

// These suites test the GPU kernels, so small inputs must not be handed to the CPU; handoff.test.ts turns
// the handoff back on where it tests it.
configureWebGpu({ cpuHandoffElements: 0 });

// initWebGpu, not acquireDevice: it also registers the `webgpu` tensor device, so a test file run alone
// can read its device results back.
const result = await initWebGpu();
export const gpu: GpuContext | undefined = result.ok ? result.gpu : undefined;
export const noDevice: string | undefined = result.ok ? undefined : result.reason;
if (noDevice) console.error(`[backend-webgpu tests] skipped: ${noDevice}`);

/** Releases the device once every WebGPU suite has run, so the test process exits cleanly. */
let open = 0;
export function suiteDone(): void {
  if (--open === 0) void releaseDevice();
}
export function suiteStarted(): void {
  open++;
}

type Fn = (...args: k.Tensor[]) => unknown;
const flat = (r: unknown): k.Tensor[] => (Array.isArray(r) ? (r as k.Tensor[]) : [r as k.Tensor]);

/**
 * Traces `fn` on the first input set (symbolic sizes), compiles it for the GPU, and checks every input set
 * against eager: same shapes, dtypes, NaN where eager has NaN, equal infinities, floats within `tol`
 * relative. Returns the compiled program so tests can look at its steps.
 */
export async function checkOnGpu(fn: Fn, argSets: readonly k.Tensor[][], tol = 1e-5) {
  const { coreGraph } = traceOps(fn, argSets[0]!, { dynamic: true });
  const compiled = compileGraphForWebGpu(coreGraph, gpu!);
  for (const inputs of argSets) {
    const want = flat(fn(...inputs));
    const what = (i: number, how: string) => `output ${i} (${how}) for [${inputs.map((t) => t.shape.join('×')).join('], [')}]`;
    // Both ways a program runs: read back at the end (run), and device tensors handed out at once (launch).
    const read = (await compiled.program.run(inputs)) as k.Tensor[];
    assert.is(read.length, want.length, 'output count');
    want.forEach((w, i) => assertClose(read[i]!, w, tol, what(i, 'run')));
    if (!compiled.program.launchable) continue;
    const launched = compiled.program.launch(inputs) as k.Tensor[];
    for (const [i, w] of want.entries()) {
      assert.is(launched[i]!.device, 'webgpu');
      assertClose(await launched[i]!.cpu(), w, tol, what(i, 'launch'));
    }
  }
  return compiled;
}

export function assertClose(got: k.Tensor, want: k.Tensor, tol: number, what: string): void {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  assert.is(got.dtype, want.dtype, `${what}: dtype`);
  const a = got.toTypedArray();
  const b = want.toTypedArray();
  for (let i = 0; i < b.length; i++) {
    const [x, y] = [Number(a[i]), Number(b[i])];
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `${what}: element ${i}: expected NaN, got ${x}`);
    else if (!Number.isFinite(y)) assert.is(x, y, `${what}: element ${i}`);
    else assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${what}: element ${i}: ${x} vs ${y}`);
  }
}

/** Floats with the special values mixed in: NaN, ±Infinity, ±0, rounding ties, large and tiny magnitudes. */
export const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, 1.5, 2.5, -0.5, -2.5, 3e9, -3e9, 7, -7, 1e-30, 65536.5, 1e-4, -3e-3];
export const special = (n: number, shift = 0, values = SPECIAL) =>
  k.Tensor.fromData(Float32Array.from({ length: n }, (_, i) => values[(i + shift) % values.length]!), [n], 'float32');

/** A linear congruential sequence of 31-bit integers from `start`: deterministic test data. */
function sequence(start: number): () => number {
  let state = start;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff);
}

type Uniform = (shape: number[], lo?: number, hi?: number) => k.Tensor;

function uniformFrom(next: () => number): Uniform {
  return (shape, lo = -3, hi = 3) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return k.Tensor.fromData(Float32Array.from({ length: n }, () => lo + (next() / 0x7fffffff) * (hi - lo)), shape, 'float32');
  };
}

/** The sequence most suites share (their data depends on the suites run before them in the process). */
const shared = sequence(7);

/** Deterministic uniform floats in [lo, hi), from the shared sequence. */
export const uniform: Uniform = uniformFrom(shared);

/**
 * Uniform floats from a sequence of their own: a newer suite takes one, so that the data of the suites run
 * after it in the same process stays as it was.
 */
export const uniformSequence = (start: number): Uniform => uniformFrom(sequence(start));

export function ints(shape: number[], lo: number, hi: number): k.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return k.Tensor.fromData(Int32Array.from({ length: n }, () => lo + (shared() % (hi - lo + 1))), shape, 'int32');
}

/**
 * A copy of a pytree (arrays, plain objects, Maps, class instances) with every device tensor read back to
 * the CPU, so the synchronous comparisons of the CPU corpora can judge a compiled WebGPU result.
 */
export async function readBack(tree: unknown): Promise<unknown> {
  if (tree instanceof k.Tensor) return tree.cpu();
  if (tree instanceof Map) {
    const out = new Map();
    for (const [key, v] of tree) out.set(key, await readBack(v));
    return out;
  }
  if (Array.isArray(tree)) {
    // Object.keys, not iteration: an array result may carry named fields too.
    const out: unknown[] = [];
    for (const key of Object.keys(tree)) (out as unknown as Record<string, unknown>)[key] = await readBack((tree as unknown as Record<string, unknown>)[key]);
    return out;
  }
  if (tree !== null && typeof tree === 'object') {
    const out = Object.create(Object.getPrototypeOf(tree)) as Record<string, unknown>;
    for (const [key, v] of Object.entries(tree)) out[key] = await readBack(v);
    return out;
  }
  return tree;
}

/** Runs `body` with KILN_LOGS set to `spec`, and returns the log lines it wrote. */
export async function withLogs(spec: string, body: () => unknown): Promise<string> {
  const lines: string[] = [];
  const write = logSink.write;
  const saved = process.env.KILN_LOGS;
  process.env.KILN_LOGS = spec;
  logSink.write = (line) => void lines.push(line);
  try {
    await body();
  } finally {
    logSink.write = write;
    if (saved === undefined) delete process.env.KILN_LOGS;
    else process.env.KILN_LOGS = saved;
  }
  return lines.join('\n');
}
