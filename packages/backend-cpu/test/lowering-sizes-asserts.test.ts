// Symbolic sizes as scalar arguments of pointwise ops (a kernel parameter read as a value), and where the
// shape env's runtime asserts (check(), checkIsSize()) are executed for programs on the CPU backend.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { CheckFailedError } from '@kiln/shapes';
import { check, compile, explain } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import type { Node } from '@kiln/graph';
import { compileGraphForCpu } from '@kiln/backend-cpu';
import { assertTensorClose, randomTensor } from './lowering-check.js';

k.manualSeed(3);

const sizes = suite('symbolic sizes as scalar operands');

/**
 * Traces `fn(x, marker)` and then puts the input's symbolic size `x.shape[dim]` where the scalar `marker`
 * was: the graph the tracer records for `x.div(x.shape[1])`, built by hand to test lowering on its own
 * (scalar-operands.test.ts covers the traced path through compile()).
 */
function withSizeOperand(fn: (x: k.Tensor, s: number) => k.Tensor, x: k.Tensor, dim: number) {
  const marker = 12345;
  const { coreGraph } = traceOps((t: k.Tensor) => fn(t, marker), [x], { dynamic: true });
  const input = coreGraph.nodes.find((n) => n.kind === 'placeholder')!;
  const size = (input.meta.val as { shape: unknown[] }).shape[dim];
  let replaced = 0;
  for (const node of coreGraph.nodes as Node[]) {
    if (node.args.includes(marker)) {
      node.args = node.args.map((a) => (a === marker ? (size as never) : a));
      replaced++;
    }
  }
  assert.is(replaced, 1, 'the marker scalar is in the graph once');
  return compileGraphForCpu(coreGraph);
}

sizes('x.div(x.shape[1]) lowers with the size as a kernel parameter, one program for every size', () => {
  const compiled = withSizeOperand((t, s) => t.div(s), randomTensor([3, 4]), 1);
  assert.equal(compiled.report.eagerSteps, []);
  assert.is(compiled.report.wholeGraphFallback, undefined);
  assert.match(compiled.report.code!, /size\(s\d\)/);
  for (const shape of [[3, 4], [5, 7], [2, 1], [4, 0]]) {
    const x = randomTensor(shape);
    assertTensorClose((compiled.run([x]) as k.Tensor[])[0]!, x.div(shape[1]!), 1e-6, `[${shape}]`);
  }
});

sizes('an int32 tensor plus a size stays int32; a comparison with a size gives bool', () => {
  const add = withSizeOperand((t, s) => t.add(s), randomTensor([3, 5], 'int32'), 0);
  const lt = withSizeOperand((t, s) => t.lt(s), randomTensor([3, 5], 'int32'), 1);
  for (const shape of [[3, 5], [6, 2]]) {
    const x = randomTensor(shape, 'int32');
    assertTensorClose((add.run([x]) as k.Tensor[])[0]!, x.add(shape[0]!), 0, `add [${shape}]`);
    assertTensorClose((lt.run([x]) as k.Tensor[])[0]!, x.lt(shape[1]!), 0, `lt [${shape}]`);
  }
});

const asserts = suite('runtime asserts of compiled programs on the cpu backend');

asserts('check() on input sizes is executed by core before the lowered program runs', () => {
  const fn = (x: k.Tensor) => {
    check(x.shape[0] > 2, 'need more than 2 rows');
    return x.exp().sum(0);
  };
  const compiled = compile(fn, { backend: 'cpu', dynamic: true });
  const ok = randomTensor([4, 3]);
  assertTensorClose(compiled(ok), fn(ok), 1e-5, 'passes');
  assert.throws(() => compiled(randomTensor([2, 3])), (e: Error) => e instanceof CheckFailedError && /need more than 2 rows/.test(e.message));
  const report = explain(fn, { backend: 'cpu', dynamic: true })(ok);
  assert.is(report.graphCount, 1, 'one graph, no break');
});

asserts('a check() on a data-dependent size is compiled too: the program checks it after nonzero binds the size', () => {
  const fn = (x: k.Tensor) => {
    const n = x.nonzero().shape[0];
    check(n > 1, 'need two nonzeros');
    return x.mul(2);
  };
  const compiled = compile(fn, { backend: 'cpu', dynamic: true });
  const ok = k.tensor([1, 0, 2, 3]);
  assertTensorClose(compiled(ok), fn(ok), 0, 'passes');
  assert.throws(() => compiled(k.tensor([0, 0, 5, 0])), (e: Error) => e instanceof CheckFailedError && /need two nonzeros/.test(e.message));
  const report = explain(fn, { backend: 'cpu', dynamic: true })(ok);
  assert.is(report.graphCount, 1, 'one graph, no break');
  assert.is(report.breakCount, 0);
  assert.match(report.backends[0]!.code!, /check u\d+ > 1/);
});

sizes.run();
asserts.run();
