import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { goldenChecker } from '../../../test-support/golden.js';
import type { Tensor } from '@kiln/tensor';

/** Compares `actual` with the golden file `fixtures/<name>` (see test-support/golden.ts). */
export const assertGolden = goldenChecker(join(import.meta.dirname, 'fixtures'));

/** Element-wise closeness of two tensors (same shape and dtype required). */
export function assertClose(actual: Tensor, expected: Tensor, tol = 1e-6): void {
  assert.equal(actual.shape, expected.shape, 'shape');
  assert.is(actual.dtype, expected.dtype, 'dtype');
  const a = actual.toTypedArray();
  const e = expected.toTypedArray();
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `element ${i}: expected NaN, got ${x}`);
    else assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `element ${i}: ${x} vs ${y}`);
  }
}
