// The demo's models as users write them (examples/models.mjs: classes, methods, loops), compiled with
// compile() on the CPU backend, against the same models written for jax-js (one jit) and tfjs (wasm,
// XNNPACK; its fused matMul for bias + activation) with the same weights. Each peer's output is checked
// against Kiln eager before timing. Inputs stay the same across calls (Kiln keeps them in wasm memory after
// the first call, as the peers keep theirs); every library reads its result back into JS.
// Run: node scripts/bench.mjs models
import * as k from '@kiln/tensor';
import { compile, explain, reset } from '@kiln/core';
import '@kiln/backend-cpu';
import { initPeers, machineLine, medianMs, phasesText, printRow } from './support.js';
import { blockCase, mlpCase, type ModelCase } from './model-peers.js';

const { jax, tf } = await initPeers();

console.log(machineLine());
console.log('median ms per call; kiln: the result as a tensor, kiln+read: also read into a JS array (as the peers\' dataSync()); ratios against kiln+read, > 1: Kiln compiled is faster\n');

const f32 = (t: k.Tensor) => t.toTypedArray() as Float32Array;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Times the three, after checking each peer matches Kiln eager; prints the row and the check. */
function compare({ name, model, x, jax: jaxForward, tf: tfForward }: ModelCase): void {
  reset(); // each row compiles as a program of its own (the rows' forwards share one code location)
  const forward = (t: k.Tensor) => model.forward(t);
  const fast = compile(forward);
  const jaxRun = () => jaxForward!().dataSync() as Float32Array;
  const tfRun = () => {
    const out = tfForward!();
    const d = out.dataSync() as Float32Array;
    out.dispose();
    return d;
  };
  const want = f32(forward(x));
  const diffs = { kiln: maxDiff(f32(fast(x)), want), jax: maxDiff(jaxRun(), want), tfjs: maxDiff(tfRun(), want) };
  for (const [lib, d] of Object.entries(diffs)) if (!(d < 1e-3)) throw new Error(`${name}: ${lib} differs from Kiln eager by ${d}`);
  const report = explain(forward)(x);
  printRow(name, {
    kiln: medianMs(() => fast(x)),
    'kiln+read': medianMs(() => f32(fast(x))),
    jax: medianMs(jaxRun),
    tfjs: medianMs(tfRun),
    'kiln-eager': medianMs(() => f32(forward(x)), 3, 800),
  }, 'kiln+read');
  const b = report.backends[0];
  console.log(`  ${b?.kernels ?? 0} kernels, cold compile ${report.compileTimesMs[0]?.toFixed(1)} ms${phasesText(report.compilePhasesMs[0])}; max |diff| vs eager: ${Object.entries(diffs).map(([l, d]) => `${l} ${d.toExponential(1)}`).join(', ')}`);
}

compare(mlpCase([64, 256, 256, 10], 32, jax, tf));
compare(mlpCase([256, 1024, 1024, 10], 256, jax, tf));
compare(blockCase(2, 32, 64, 4, jax, tf));
compare(blockCase(1, 128, 256, 4, jax, tf));
