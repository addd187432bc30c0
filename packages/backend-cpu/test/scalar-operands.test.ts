// Numbers and symbolic sizes as scalar operands of graph ops, end to end from compile() on both backends:
// a dynamic size used as an operand stays in the graph (no break, no specialization), and a number whose
// value changes (an automatic-dynamic number, a plain number argument) becomes a scalar graph input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { CompileRecorder, compileWith } from '@kiln/core';
import '@kiln/backend-cpu';
import { assertTensorClose, randomTensor } from './lowering-check.js';

k.manualSeed(11);

const BACKENDS = ['eager', 'cpu'] as const;
// Eager runs the same kernels on the same numbers; the cpu backend computes float32 in wasm.
const tolerance = (backend: string) => (backend === 'eager' ? 0 : 1e-5);

/** Compiles `fn`, calls it on each argument list, compares with eager; returns the compile record. */
function checkCalls(fn: (...a: any[]) => k.Tensor, calls: readonly unknown[][], backend: string, options: object = {}): CompileRecorder {
  const rec = new CompileRecorder();
  const compiled = compileWith(fn, { backend, ...options }, rec);
  calls.forEach((args, i) => assertTensorClose(compiled(...args), fn(...args), tolerance(backend), `${backend} call ${i}`));
  assert.is(rec.breaks.length, 0, rec.breaks.map((b) => b.reason).join('; '));
  assert.ok(rec.entries.every((e) => e.entry.kind !== 'eager'), 'no eager fallback');
  if (backend === 'cpu') assertLowered(rec);
  return rec;
}

/** On the cpu backend, every graph lowered to kernels: scalar operands are kernel parameters, not fallbacks. */
function assertLowered(rec: CompileRecorder): void {
  for (const { entry } of rec.entries) {
    const report = (entry as { backendReport?: { eagerSteps?: unknown[]; wholeGraphFallback?: unknown } }).backendReport;
    assert.is(report?.wholeGraphFallback, undefined, String(report?.wholeGraphFallback));
    assert.equal(report?.eagerSteps, []);
  }
}

const graphText = (rec: CompileRecorder, i: number): string => (rec.entries[i]!.entry as { apiGraphText?: string }).apiGraphText ?? '';

const guardTexts = (rec: CompileRecorder) => rec.entries.flatMap((e) => e.entry.guards.map((g) => g.text));

const sizes = suite('symbolic sizes as scalar operands, traced');

for (const backend of BACKENDS) {
  sizes(`${backend}: x.div(x.shape[1]), x.mul(x.shape[0] * 2), x.add(x.shape[0] - 1): one graph for every shape`, () => {
    const fn = (x: k.Tensor) => x.div(x.shape[1]!).mul(x.shape[0]! * 2).add(x.shape[0]! - 1);
    const shapes = [[3, 4], [5, 7], [2, 9], [6, 3]];
    const rec = checkCalls(fn, shapes.map((s) => [randomTensor(s)]), backend, { dynamic: true });
    assert.is(rec.entries.length, 1, 'the size operand is reused across shapes without recompiling');
    assert.match(graphText(rec, 0), /div\(%x, s1\)/);
    assert.not.ok(guardTexts(rec).some((t) => /== \d/.test(t)), 'no size is specialized for being an operand');
  });

  sizes(`${backend}: a hand-written mean (sum / numel) and full([n], m) with symbolic sizes`, () => {
    const mean = (x: k.Tensor) => x.sum(0).div(x.shape[0]!);
    const filled = (x: k.Tensor) => k.full([x.shape[0]!], x.shape[1]!).add(x.sum(1));
    for (const fn of [mean, filled]) {
      const rec = checkCalls(fn, [[randomTensor([4, 3])], [randomTensor([7, 5])]], backend, { dynamic: true });
      assert.is(rec.entries.length, 1);
    }
  });

  sizes(`${backend}: automatic dynamic shapes: the size operand goes dynamic at the one recompile`, () => {
    const fn = (x: k.Tensor) => x.mul(x.shape[0]!);
    const rec = checkCalls(fn, [[3, 4], [5, 4], [8, 4], [6, 4]].map((s) => [randomTensor(s)]), backend);
    assert.is(rec.entries.length, 2);
  });

  sizes(`${backend}: promotion: an int32 tensor times a size stays int32, divided by one becomes float32`, () => {
    const ints = (x: k.Tensor) => x.mul(x.shape[1]!).sub(x.shape[0]!);
    const floats = (x: k.Tensor) => x.div(x.shape[1]!);
    const calls = [[randomTensor([3, 4], 'int32')], [randomTensor([5, 2], 'int32')]];
    checkCalls(ints, calls, backend, { dynamic: true });
    checkCalls(floats, calls, backend, { dynamic: true });
    assert.is(compileWith(ints, { backend, dynamic: true }, undefined)(calls[0]![0]).dtype, 'int32');
  });
}

for (const backend of BACKENDS) {
  sizes(`${backend}: arange over symbolic bounds (causal masks): one graph, lowered, empty when reversed`, () => {
    const causal = (x: k.Tensor) => {
      const n = x.shape[0]!;
      const future = k.arange(n).unsqueeze(0).gt(k.arange(n).unsqueeze(1));
      return x.maskedFill(future, -Infinity).exp().sum(-1);
    };
    const square = (s: number) => [randomTensor([s, s])];
    assert.is(checkCalls(causal, [square(3), square(5), square(8)], backend, { dynamic: true }).entries.length, 1);
    const stepped = (x: k.Tensor) => k.arange(2, x.shape[0]!, 3).add(x.shape[1]!);
    const calls = [[randomTensor([4, 3])], [randomTensor([11, 5])], [randomTensor([2, 2])]];
    assert.is(checkCalls(stepped, calls, backend, { dynamic: true }).entries.length, 1);
    // A symbolic start has no constant for the kernel: the cpu backend runs arange eagerly inside the program.
    const reversed = (x: k.Tensor) => k.arange(x.shape[0]!, 1).sum().add(x.sum());
    const rec = new CompileRecorder();
    const compiled = compileWith(reversed, { backend, dynamic: true }, rec);
    for (const [x] of calls) assertTensorClose(compiled(x), reversed(x as k.Tensor), tolerance(backend), 'reversed: empty range');
    assert.is(rec.entries.length, 1);
    assert.is(rec.breaks.length, 0);
  });
}

sizes('arange with a symbolic bound and a fractional step raises a clear error while tracing (the frame runs eagerly)', () => {
  const rec = new CompileRecorder();
  const fn = (x: k.Tensor) => k.arange(0, x.shape[0]!, 0.5).mul(2);
  const compiled = compileWith(fn, { dynamic: true }, rec);
  assertTensorClose(compiled(randomTensor([4])), fn(randomTensor([4])), 0, 'eager result');
  assert.match(rec.breaks[0]?.reason ?? '', /arange: with a symbolic bound, start and end must be integers/);
  assert.throws(() => k.arange(true as unknown as number), /arange: start must be a number, got boolean/);
});

const numbers = suite('numbers as scalar graph inputs');

for (const backend of BACKENDS) {
  numbers(`${backend}: a step counter used in x.mul(step), 20 calls: at most two compiles`, () => {
    const make = () => {
      const state = { step: 0 };
      return (x: k.Tensor) => {
        state.step += 1;
        return x.mul(state.step).add(state.step * 2 - 1);
      };
    };
    const eager = make();
    const rec = new CompileRecorder();
    const compiled = compileWith(make(), { backend }, rec);
    const x = randomTensor([3, 5]);
    for (let i = 0; i < 20; i++) assertTensorClose(compiled(x), eager(x), tolerance(backend), `call ${i}`);
    assert.ok(rec.entries.length <= 2, `${rec.entries.length} compiles`);
    if (backend === 'cpu') assertLowered(rec);
    assert.ok(guardTexts(rec).some((t) => /is an int32 integer \(scalar graph input\)/.test(t)));
  });

  numbers(`${backend}: a plain number argument: specialized first, then a scalar input after a change`, () => {
    const fn = (x: k.Tensor, n: number) => x.mul(n).sub(n);
    const x = randomTensor([4, 2]);
    const rec = checkCalls(fn, [[x, 3], [x, 4], [x, 5], [x, -7], [x, 100]], backend);
    assert.is(rec.entries.length, 2);
    assert.match(graphText(rec, 1), /mul\(%x\w*, %n\)/, 'the scalar input is named after the parameter');
  });

  numbers(`${backend}: int vs float scalar promotion matches eager (int32 × int stays int32, × float is float32)`, () => {
    const fn = (x: k.Tensor, s: number) => x.mul(s);
    const xi = randomTensor([3, 4], 'int32');
    const rec = new CompileRecorder();
    const compiled = compileWith(fn, { backend }, rec);
    for (const s of [2, 3, -5, 0.5, 1.25, 7, -0.75, 9]) {
      const got = compiled(xi, s);
      assert.is(got.dtype, s % 1 === 0 ? 'int32' : 'float32', `dtype for ${s}`);
      assertTensorClose(got, fn(xi, s), tolerance(backend), `x * ${s}`);
    }
    assert.ok(rec.entries.length <= 3, `specialized, then one entry per class: ${rec.entries.length}`);
    const xf = randomTensor([3, 4]);
    checkCalls(fn, [[xf, 0.1], [xf, 0.3], [xf, 2], [xf, 1e-3]], backend);
  });

  numbers(`${backend}: an integer outside int32 stays specialized (correct, recompiles)`, () => {
    const fn = (x: k.Tensor, s: number) => x.mul(s);
    const x = randomTensor([2, 3]);
    checkCalls(fn, [[x, 2], [x, 3], [x, 2 ** 40], [x, 2 ** 41]], backend);
  });
}

sizes.run();
numbers.run();
