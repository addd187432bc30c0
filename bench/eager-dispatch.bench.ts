// What autograd's layer costs an eager op when no tensor requires grad. Every op call passes through the
// layer (it must look at the arguments to know that nothing needs recording); this times tiny (8-element)
// ops, where dispatch is all there is, three ways:
//   grad mode      the ordinary call: the layer checks the arguments, records nothing
//   noGrad         the layer's first check (grad mode off) sends the op straight below it
//   below autograd a dispatch mode that does not ask for autograd: the op never enters the layer (the
//                  baseline; it pays one extra call through the mode instead)
// and, for scale, the same op when an input requires grad (a tape node is recorded). Printed: µs per op and
// the layer's cost: the op under a pass-through mode that asks for autograd minus the same mode without
// (both pay the mode's call, so the difference is the layer alone). Medians over repeated batches; compare figures within one
// run only (see bench/README.md). Run: node scripts/bench.mjs eager-dispatch
import * as K from '@kiln/tensor';
import type { DispatchMode, OpDef } from '@kiln/tensor';
import { machineLine } from './machine.js';

/**
 * Median per-call CPU time in µs of each variant: `batch` calls per sample, the variants' samples interleaved
 * (round after round until `budgetMs`, at most 101 rounds). CPU time of this process, not wall time: on a
 * loaded machine wall time counts the time the process waits for a core.
 */
function medianMicros(variants: readonly (() => void)[], batch: number, budgetMs = 1500): number[] {
  for (const fn of variants) for (let i = 0; i < batch * 10; i++) fn();
  const samples: number[][] = variants.map(() => []);
  const start = performance.now();
  while (samples[0]!.length < 7 || (performance.now() - start < budgetMs && samples[0]!.length < 101)) {
    variants.forEach((fn, v) => {
      const t = process.cpuUsage();
      for (let i = 0; i < batch; i++) fn();
      const d = process.cpuUsage(t);
      samples[v]!.push((d.user + d.system) / batch);
    });
  }
  return samples.map((s) => s.sort((x, y) => x - y)[s.length >> 1]!);
}

/** Runs ops eagerly without entering the autograd layer (its `autograd` flag is unset). */
const belowAutograd: DispatchMode = { dispatch: (op: OpDef, args: unknown[]) => K.runEager(op, args) };
/** The same mode with the layer above it: the two differ by the layer alone. */
const throughAutograd: DispatchMode = { autograd: true, dispatch: belowAutograd.dispatch };

const data = Float32Array.from({ length: 8 }, () => Math.random() * 2 - 1);
const a = K.tensor(data).reshape([2, 4]);
const b = K.tensor(data.map((x) => x * 0.5)).reshape([2, 4]);
const row = K.tensor(data.subarray(0, 4));
const withGrad = a.clone().requiresGrad_();

const cases: [string, (x: K.Tensor) => unknown][] = [
  ['add', (x) => K.add(x, b)],
  ['mul(2) (scalar)', (x) => x.mul(2)],
  ['add row (broadcast)', (x) => x.add(row)],
  ['exp', (x) => x.exp()],
  ['sum(1)', (x) => x.sum(1)],
  ['transpose (view)', (x) => x.transpose(0, 1)],
  ['reshape (view)', (x) => x.reshape([4, 2])],
];

console.log(machineLine());
console.log('eager dispatch of one op on 8-element tensors, CPU µs per op (median); layer = (mode with the layer) − (mode without it)');
console.log(`${'op'.padEnd(22)}${'grad mode'.padStart(11)}${'noGrad'.padStart(9)}${'below'.padStart(8)}${'layer'.padStart(8)}${'requiresGrad'.padStart(14)}`);
const BATCH = 5000;
for (const [name, op] of cases) {
  const [normal, noGrad, through, below] = medianMicros(
    [() => op(a), () => K.noGrad(() => op(a)), () => K.withDispatchMode(throughAutograd, () => op(a)), () => K.withDispatchMode(belowAutograd, () => op(a))],
    BATCH,
  );
  const [recorded] = medianMicros([() => op(withGrad)], BATCH / 4, 300);
  const f = (x: number) => x.toFixed(3).padStart(8);
  console.log(`${name.padEnd(22)}${f(normal!).padStart(11)} ${f(noGrad!)}${f(below!)}${f(through! - below!)}${f(recorded!).padStart(14)}`);
}
