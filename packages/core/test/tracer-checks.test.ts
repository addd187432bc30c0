import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { CheckFailedError } from '@kiln/shapes';
import { check as checkCond, checkIsSize, compileWith } from '../src/index.js';
import { CompileRecorder } from '../src/explain.js';
import { assertSameValue } from './support/tracer.js';

const Checks = suite('tracer: check() and checkIsSize() become runtime asserts');

Checks('eager check() throws when false and passes when true', () => {
  checkCond(true);
  checkIsSize(3);
  assert.throws(() => checkCond(false, 'rows must be even'), (e: unknown) => e instanceof CheckFailedError && /rows must be even/.test((e as Error).message));
  assert.throws(() => checkIsSize(-1), (e: unknown) => e instanceof CheckFailedError);
  assert.throws(() => checkIsSize(1.5), (e: unknown) => e instanceof CheckFailedError);
});

Checks('a size check is an assert, not a guard: new sizes that satisfy it reuse one dynamic entry', () => {
  function rows(x: k.Tensor) {
    checkCond(x.shape[0]! > 2, 'need more than two rows');
    return x.mul(2).sum(0);
  }
  const recorder = new CompileRecorder();
  const fast = compileWith(rows, { dynamic: true }, recorder);
  for (const n of [3, 5, 9]) assertSameValue(fast(k.ones([n, 4])), rows(k.ones([n, 4])));
  assert.is(recorder.entries.length, 1, 'one entry serves every size');
  assert.is(recorder.entries[0]!.entry.kind, 'graph');
});

Checks('compiled code raises CheckFailedError where the assert fails, as eager does', () => {
  function rows(x: k.Tensor) {
    checkCond(x.shape[0]! > 2, 'need more than two rows');
    return x.neg();
  }
  const fast = compileWith(rows, { dynamic: true }, undefined);
  fast(k.ones([4, 3]));
  assert.throws(() => rows(k.ones([2, 3])), (e: unknown) => e instanceof CheckFailedError);
  assert.throws(() => fast(k.ones([2, 3])), (e: unknown) => e instanceof CheckFailedError && /need more than two rows/.test((e as Error).message));
});

Checks('a check that fails for the example inputs runs eagerly and raises like eager', () => {
  function tiny(x: k.Tensor) {
    checkCond(x.shape[0]! > 100);
    return x.neg();
  }
  const fast = compileWith(tiny, {}, undefined);
  assert.throws(() => fast(k.ones([3])), (e: unknown) => e instanceof CheckFailedError);
});

Checks('constant checks are decided while tracing', () => {
  function fn(x: k.Tensor, n: number) {
    checkIsSize(n);
    checkCond(n < 10);
    return x.mul(n);
  }
  const recorder = new CompileRecorder();
  const fast = compileWith(fn, {}, recorder);
  assertSameValue(fast(k.ones([2]), 3), fn(k.ones([2]), 3));
  assert.is(recorder.graphCount, 1);
});

Checks.run();

const TopLevel = suite('tracer: the policy decides top-level frames too');

TopLevel('a function the user skips is not traced when compiled: it runs eagerly, with the reason', async () => {
  const { skip } = await import('@kiln/policy');
  function opaque(x: k.Tensor) {
    return x.mul(2).add(1);
  }
  skip(opaque);
  const recorder = new CompileRecorder();
  const fast = compileWith(opaque, {}, recorder);
  assertSameValue(fast(k.ones([3])), opaque(k.ones([3])));
  assertSameValue(fast(k.ones([3])), opaque(k.ones([3])));
  assert.is(recorder.graphCount, 0);
  assert.match(recorder.breaks[0]?.reason ?? '', /skip/);
});

TopLevel.run();
