// The fuzzers' classifier of branches that went different ways compiled and eagerly: within rounding of the
// threshold is float-sensitive (either path is right), anything else is a wrong branch and must be reported.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyBranches } from '../../../test-support/float-branches.js';

const Branches = suite('fuzz model: float-sensitive branches');
const at = (value: number, threshold = 0, site = 1) => ({ site, value, threshold });

Branches('a centred sum on either side of 0 by rounding is float-sensitive, not wrong', () => {
  // The sum of centred values is mathematically 0; float32 in two summation orders lands an ulp or two
  // either side of it (the values a fused kernel and eager code gave in a fuzz run), float64 near 1e-17.
  const v = classifyBranches([at(-1.1920929e-7)], [at(2.3841858e-7)], [at(1.1e-17)]);
  assert.is(v.kind, 'float-sensitive', JSON.stringify(v));
});

Branches('a compiled value far from eager that flips a branch is a wrong branch', () => {
  const v = classifyBranches([at(-0.2)], [at(0.3)], [at(-0.2)]);
  assert.is(v.kind, 'wrong');
  assert.match((v as { detail: string }).detail, /eager -0\.2, compiled 0\.3/);
});

Branches('near the threshold but the compiled value is off (float64 says so) is wrong', () => {
  // Both float32 values straddle 0 closely, but the float64 recomputation is far from the compiled one.
  const v = classifyBranches([at(-1e-7)], [at(4e-4)], [at(-1e-7)]);
  assert.is(v.kind, 'wrong');
});

Branches('values agreeing but far from the threshold cannot flip: reported as wrong', () => {
  // Equal values always decide alike; a log where they do not (a miscompiled comparison feeding a second
  // logged branch) shows up as a branch missing on one side.
  assert.is(classifyBranches([at(0.5), at(1, 0, 2)], [at(0.5)], undefined).kind, 'wrong');
});

Branches('branches after an agreeing prefix: the first flip decides, and same logs are same', () => {
  assert.is(classifyBranches([at(2), at(1e-9, 0, 2)], [at(2), at(-1e-9, 0, 2)], undefined).kind, 'float-sensitive');
  assert.is(classifyBranches([at(2), at(-3, 0, 2)], [at(2), at(-3, 0, 2)], undefined).kind, 'same');
  assert.is(classifyBranches([at(2, 0, 1)], [at(2, 0, 3)], undefined).kind, 'wrong');
});

Branches.run();
