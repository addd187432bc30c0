import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as assert from 'uvu/assert';
import type { Tensor } from '@kiln/tensor';

const FIXTURES = join(import.meta.dirname, 'fixtures');

/**
 * Compares `actual` with the golden file `fixtures/<name>`. `KILN_UPDATE_GOLDEN=1` rewrites the file instead,
 * so a deliberate change to the printed form is one command and a reviewed diff.
 */
export function assertGolden(name: string, actual: string): void {
  const file = join(FIXTURES, name);
  if (process.env.KILN_UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.KILN_UPDATE_GOLDEN !== '1' && process.env.CI) assert.unreachable(`golden file ${name} is missing`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual + '\n');
    return;
  }
  assert.fixture(actual + '\n', readFileSync(file, 'utf8'));
}

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
