// Softmax rows fold exp·2^25 into their stash and sum (codegen/kernels/stash.ts): the non-positive exp's last
// multiply, by 2^-25, is left out where every store reads the exp only as exp · (1/sum). The result is the
// same where the exp is normal and rounded once instead of twice where it is subnormal; kernels that read the
// sum otherwise (logSumExp's log(sum), a stored sum) keep the multiply.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loop, type ReductionKernel } from '@kiln/lower';
import { compileKernels, disassemble, runOnArrays } from '@kiln/backend-cpu';
import { sharedArena, softmaxKernel } from './helpers.js';

const { acc, add, contiguous, load, sub, unary } = loop;
const Stash = suite('softmax stash');
/** The float32 constant 2^-25 as the printer shows it. */
const TWO_TO_MINUS_25 = 'f32.const 2.9802322387695312e-8';
const wat = (k: ReductionKernel) => disassemble(compileKernels([k], sharedArena).wasm);

Stash('softmax rows leave out the 2^-25 multiply; kernels that read the sum otherwise keep it', () => {
  assert.not.ok(wat(softmaxKernel(4, 33)).includes(TWO_TO_MINUS_25), 'softmax: exp·2^25 in stash and sum');
  const x = load('x', contiguous([4, 33]));
  const e = unary('exp', sub(x, acc(0)));
  const base = { kind: 'reduction', params: [], inputs: [{ name: 'x', dtype: 'float32' }], outer: [4], reduce: [33] } as const;
  const stages: ReductionKernel['stages'] = [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }];
  const logSumExp: ReductionKernel = {
    ...base, name: 'lse', outputs: [{ name: 'out', dtype: 'float32' }], stages,
    stores: [{ buffer: 'out', scope: 'outer', access: contiguous([4]), value: add(acc(0), unary('log', acc(1))) }],
  };
  assert.ok(wat(logSumExp).includes(TWO_TO_MINUS_25), 'logSumExp reads log(sum)');
  const softmax = softmaxKernel(4, 33);
  const softmaxAndSum: ReductionKernel = {
    ...softmax, name: 'softmax_sum', outputs: [...softmax.outputs, { name: 's', dtype: 'float32' }],
    stores: [...softmax.stores, { buffer: 's', scope: 'outer', access: contiguous([4]), value: acc(1) }],
  };
  assert.ok(wat(softmaxAndSum).includes(TWO_TO_MINUS_25), 'a stored sum must be the sum itself');
});

Stash('subnormal softmax outputs are rounded once (within half a unit of 2^-149 of float64)', () => {
  // rows [0, 0, x…] with x in [-103.5, -94]: outputs exp(x) / 2 between 2^-150 and 2^-136, where rounding the
  // exp to a subnormal first and the product again (the unscaled stash) is off by up to 3/4 of a unit
  const rows = 64, cols = 64;
  const x = new Float32Array(rows * cols);
  // evenly spaced, not helpers' random(): drawing from the shared sequence would change the other suites' cases
  for (let r = 0; r < rows; r++) for (let c = 2; c < cols; c++) x[r * cols + c] = -103.5 + (9.5 * (r * cols + c)) / (rows * cols);
  const y = new Float32Array(rows * cols);
  const k = compileKernels([softmaxKernel(rows, cols)], sharedArena).kernels.get('softmax')!;
  runOnArrays(k, sharedArena, { inputs: { x }, outputs: { y } });
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols), Math.exp);
    const sum = row.reduce((a, b) => a + b, 0);
    for (let c = 2; c < cols; c++) worst = Math.max(worst, Math.abs(y[r * cols + c]! - row[c]! / sum) / 2 ** -149);
  }
  assert.ok(worst <= 0.52, `worst subnormal output off by ${worst.toFixed(3)} × 2^-149`);
  assert.ok(y.filter((v) => v > 0 && v < 2 ** -126).length > 1000, 'nonzero subnormal outputs are in the test');
});

Stash.run();
