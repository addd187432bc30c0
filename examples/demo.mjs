// Kiln's main demo: two models written as ordinary classes (models.mjs), compiled with compile(),
// explained, checked against eager, and timed side by side. Plain JavaScript against the built packages
// (`pnpm demo` builds first).
import { compile, explain } from 'kiln'; // the tensor library and compile(), with the CPU (WebAssembly) backend
import { MLP, TransformerBlock, input } from './models.mjs';

function maxDifference(a, b) {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

function medianMs(fn, runs = 30) {
  for (let i = 0; i < 3; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[runs >> 1];
}

function show(title, model, shape, otherShape) {
  console.log(`\n=== ${title} ===`);
  const forward = (x) => model.forward(x);
  const x = input(shape);
  const report = explain(forward)(x);
  console.log(String(report));
  for (const b of report.backends) {
    console.log(`generated: ${b.kernels} fused kernels on backend '${b.backend}'` + (b.eagerSteps.length ? `, eager steps: ${b.eagerSteps.map((f) => f.op).join(', ')}` : ''));
  }

  const fast = compile(forward);
  let ok = true;
  for (const xs of [x, input(otherShape)]) {
    const diff = maxDifference(fast(xs), forward(xs));
    console.log(`compiled vs eager on [${xs.shape}]: max |difference| = ${diff.toExponential(2)}`);
    ok &&= diff < 1e-4;
  }
  if (!ok) throw new Error(`${title}: compiled result differs from eager`);
  const eagerMs = medianMs(() => forward(x));
  const compiledMs = medianMs(() => fast(x));
  console.log(`time per call on [${shape}]: eager ${eagerMs.toFixed(3)} ms, compiled ${compiledMs.toFixed(3)} ms (${(eagerMs / compiledMs).toFixed(1)}x)`);
}

show('MLP 64 → 256 → 256 → 10', new MLP([64, 256, 256, 10]), [32, 64], [7, 64]);
show('Transformer block (dim 64, 4 heads, seq 32)', new TransformerBlock(64, 4), [2, 32, 64], [3, 16, 64]);
console.log('\nAll compiled results match eager.');
