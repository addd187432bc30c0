import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as K from '@kiln/tensor';
import { allOps, derivativeKind, getOp, noGrad } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';

import { gradcheck, rng } from './support/gradcheck.js';
import { generator, samples } from './support/grad-samples.js';

const Registry = suite('autograd: every differentiable op in the registry against finite differences');

// The library's own ops (other test files define ops of their own in the same process).
const registryOps = allOps().filter((op) => (K as unknown as Record<string, unknown>)[op.name] === op.fn);
const differentiable = registryOps.filter((op) => derivativeKind(op) !== 'nonDifferentiable');

Registry('every op that takes tensors has a derivative rule: a formula, its decomposition, or nonDifferentiable', () => {
  const missing = registryOps.filter((op) => derivativeKind(op) === 'missing').map((op) => op.name);
  assert.equal(missing, []);
});

Registry('every differentiable op has gradcheck samples (a new op fails here until it gets some)', () => {
  const table = samples(generator(rng(0)));
  assert.equal(differentiable.map((op) => op.name).filter((name) => !table[name]), []);
});

/** In-place ops are applied to a non-leaf copy (clone) of their first argument. */
function callable(op: OpDef): (...args: unknown[]) => unknown {
  if (!op.mutatesSelf) return (...args) => op.fn(...args);
  return (self, ...rest) => op.fn((self as { clone(): unknown }).clone(), ...rest);
}

// Three draws of random values per sample (seeds 1..3): shapes are fixed by the table, values are not.
for (const seed of [1, 2, 3]) {
  Registry(`gradients equal central differences in float64 (seed ${seed})`, () => {
    const table = samples(generator(rng(seed)));
    const failures: string[] = [];
    for (const op of differentiable) {
      (table[op.name] ?? []).forEach((args, i) => {
        const result = gradcheck(callable(op), args, seed * 100 + i);
        if (!result.ok) failures.push(`${op.name} sample ${i}: ${result.detail}`);
      });
    }
    assert.equal(failures, []);
  });
}

Registry('integer and boolean results carry no history: comparisons, argmax, nonzero', () => {
  const x = generator(rng(4)).t([2, 3]).requiresGrad_();
  for (const t of [x.gt(0), x.argmax(1), x.max(1)[1], x.eq(x), x.to('int32'), x.nonzero()]) {
    assert.is(t.requiresGrad, false, `${t.dtype}`);
    assert.is(t.gradFn, null);
  }
  assert.is(getOp('argmax')!.derivative, 'nonDifferentiable');
  assert.is(noGrad(() => x.mul(2)).requiresGrad, false);
});

Registry.run();
