// The fuzz model's float-sensitive branches on real compiled code: a fused kernel sums a centred tensor in
// another order than eager, so `sum > 0` goes either way for about a third of random inputs. The classifier
// (test-support/float-branches.ts) must accept those flips — the float64 value sits within rounding of 0 —
// and still flag a compiled value that is genuinely off.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import '../src/index.js';
import { classifyBranches } from '../../../test-support/float-branches.js';

const Branches = suite('float-sensitive branches on compiled code');
const centredSum = (h: k.Tensor) => h.tanh().sub(h.tanh().mean()).sum();
const value = (t: k.Tensor) => t.item() as number;
const at = (v: number) => [{ site: 1, value: v, threshold: 0 }];

/** Inputs where the compiled centred sum and eager's land on different sides of 0. */
function flippingInputs(fn: (h: k.Tensor) => k.Tensor): k.Tensor[] {
  const compiled = compile(fn);
  const found: k.Tensor[] = [];
  for (let i = 0; i < 200 && found.length < 5; i++) {
    const x = k.randn([3 + (i % 5), 4], { generator: new k.Generator(i) });
    if (value(centredSum(x)) > 0 !== value(compiled(x)) > 0) found.push(x);
  }
  return found;
}

Branches('a centred sum that flips between the CPU kernel and eager is float-sensitive', () => {
  const compiled = compile(centredSum);
  const inputs = flippingInputs(centredSum);
  assert.ok(inputs.length > 0, 'no flipping input among 200 (the kernel sums as eager does?)');
  for (const x of inputs) {
    const v = classifyBranches(at(value(centredSum(x))), at(value(compiled(x))), at(value(centredSum(x.to('float64')))));
    assert.is(v.kind, 'float-sensitive', JSON.stringify(v));
  }
});

Branches('a compiled value off by 1e-3 that flips the branch is reported as wrong', () => {
  const miscompiled = compile((h: k.Tensor) => centredSum(h).add(1e-3));
  let flipped = 0;
  for (let i = 0; i < 50; i++) {
    const x = k.randn([4, 4], { generator: new k.Generator(1000 + i) });
    const [e, c] = [value(centredSum(x)), value(miscompiled(x))];
    if (e > 0 === c > 0) continue;
    flipped++;
    assert.is(classifyBranches(at(e), at(c), at(value(centredSum(x.to('float64'))))).kind, 'wrong');
  }
  assert.ok(flipped > 0, 'the off-by-1e-3 value never flipped the branch');
});

Branches.run();
