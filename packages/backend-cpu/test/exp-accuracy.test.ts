// exp against float64 Math.exp, in ulps of the exact result, over its whole float32 input domain swept
// densely by bit pattern (every 1009th float32; every 7th where results are subnormal; every one in
// [-32, -16]). Softmax's and logSumExp's exp(x - max x) (the kernel's non-positive exp, for arguments in
// [-∞, 0]) first, then the general exp over [-∞, +∞]. KILN_EXP_EXHAUSTIVE=1 checks every float32 instead
// (about an hour).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena } from '@kiln/backend-cpu';
import { expKernel, f32Bits, sweepExp, type SweepResult } from './exp-sweep.js';

const Exp = suite('exp error bound');
const arena = new Arena();
const exhaustive = process.env.KILN_EXP_EXHAUSTIVE === '1';
const stride = (dense: number) => (exhaustive ? 1 : dense);

/** The bound the backend README states: 0.92 ulp of the exact result, subnormal results included (0.91 seen). */
const BOUND_ULP = 0.92;

function check(r: SweepResult, what: string): void {
  assert.ok(r.count > 100_000, `${what}: swept ${r.count} inputs`);
  assert.ok(r.maxUlp < BOUND_ULP, `${what}: ${r.maxUlp.toFixed(3)} ulp at x = ${r.worstInput}`);
  assert.ok(r.maxSubnormalUlp < BOUND_ULP, `${what}: subnormal results off by ${r.maxSubnormalUlp.toFixed(3)} × 2^-149`);
}

Exp('exp(x - max x) over [-∞, 0], subnormal results included', () => {
  const kernel = expKernel(arena, true);
  const all = sweepExp(kernel, arena, f32Bits(-0), f32Bits(-Infinity), stride(1009), true);
  check(all, 'non-positive exp on [-∞, 0]');
  // where exp(x) < 2^-126: x in [-104, -87.34], results subnormal (or 0 below -103.97)
  const tiny = sweepExp(kernel, arena, f32Bits(-87.3), f32Bits(-104), stride(7), true);
  assert.ok(tiny.subnormals > 200_000, `${tiny.subnormals} subnormal results checked`);
  check(tiny, 'non-positive exp with subnormal results');
  // every float32 of one binade, where the sequential reduction (r rounded twice) reached 0.989 ulp at -27.38
  check(sweepExp(kernel, arena, f32Bits(-16), f32Bits(-32), 1, true), 'non-positive exp on every float32 in [-32, -16]');
});

Exp('general exp over [-∞, +∞] (overflow to +∞ above 88.72)', () => {
  const kernel = expKernel(arena, false);
  check(sweepExp(kernel, arena, f32Bits(-0), f32Bits(-Infinity), stride(1009), false), 'exp on [-∞, 0]');
  check(sweepExp(kernel, arena, f32Bits(0), f32Bits(Infinity), stride(1009), false), 'exp on [0, +∞]');
  check(sweepExp(kernel, arena, f32Bits(-87.3), f32Bits(-104), stride(7), false), 'exp with subnormal results');
});

Exp.run();
