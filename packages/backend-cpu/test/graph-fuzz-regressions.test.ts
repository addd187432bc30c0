// The graph fuzzer's findings, shrunk to the smallest program and kept as named cases: each crashed with an
// internal error or returned a result other than eager's before its fix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { compile } from '@kiln/core';
import { assertNoDifference, pure } from './differential-support.js';
import type { Program } from './differential-support.js';

const Found = suite('graph fuzz regressions');
const cases = (programs: Record<string, Program<any>>) => {
  for (const [name, program] of Object.entries(programs)) Found(name, () => assertNoDifference(program));
};
const f32 = (values: number[]) => k.Tensor.fromData(Float32Array.from(values), [values.length], 'float32');
const i32 = (values: number[]) => k.Tensor.fromData(Int32Array.from(values), [values.length], 'int32');

cases({
  'reductions of a 0-d tensor and over an empty dim list (a kernel with no reduction axis)': {
    world: pure((x: k.Tensor, m: k.Tensor) => {
      const s = x.sum();
      return [s.sum(), s.amax(), s.argmax(), s.max(0, true)[1], m.sum(null, false, { dtype: 'float32' }), x.reshape([2, -1]).sum([]), x.amin([], true)];
    }),
    shapes: [[4], [2]],
    args: (g, s) => [g.floats(s), g.bools([])],
  },
  'a bool sum with dtype float32 counts in int32 and stores a float': {
    world: pure((m: k.Tensor) => [m.sum(null, false, { dtype: 'float32' }).neg(), m.sum(-1, true, { dtype: 'float32' })]),
    shapes: [[3, 5], [1, 1], [0, 2]],
    args: (g, s) => [g.bools(s)],
  },
  "pow's special cases are eager's Math.pow: (-Inf)^0.5 = Inf, (-Inf)^-0.5 = 0, 1^NaN = NaN": {
    world: pure((a: k.Tensor, b: k.Tensor) => [a.pow(b), a.pow(0.5)]),
    shapes: [[0]],
    args: () => [f32([-Infinity, -Infinity, 1, 1, -1, 2, -8, -8]), f32([0.5, -0.5, NaN, Infinity, -Infinity, NaN, 3, 1.5])],
  },
  'a float remainder by ±Inf keeps the dividend, or gives the divisor when the signs differ': {
    world: pure((a: k.Tensor, b: k.Tensor) => [a.remainder(b), k.tensor([-1.5, 2.5, 0]).remainder(-Infinity)]),
    shapes: [[0]],
    args: () => [f32([-1.5, 1.5, 0, 2, Infinity, NaN, 5.5, -5.5]), f32([-Infinity, -Infinity, Infinity, Infinity, Infinity, Infinity, 2, 2])],
  },
  'an integral number beyond int32 next to an int tensor raises (it used to wrap to 0 in eager only)': {
    world: pure((x: k.Tensor) => x.atan2(1e30)),
    shapes: [[3]],
    args: (g, s) => [g.ints(s)],
  },
  'unused indexSelect, gather and int remainder still raise on bad values': {
    world: pure((x: k.Tensor, i: k.Tensor) => {
      x.indexSelect(0, i);
      x.gather(0, i);
      i.remainder(i);
      return x.neg();
    }),
    shapes: [[0]],
    args: (_g, _s, call) => [f32([1.5, 2]), i32(call % 2 ? [1, 0] : [0, 5])],
  },
  'softmax feeding a comparison: the bool store does not stash exp(x - max)': {
    world: pure((x: k.Tensor) => [x.softmax(-1).eq(2), x.softmax(-1).logicalNot(), x.reshape([-1]).softmax(-1).eq(2).cumsum(-1)]),
    shapes: [[2, 2], [1, 5], [3, 1]],
    args: (g, s) => [g.floats(s)],
  },
  'clamp with min above max gives max everywhere, as eager (an embedding index clamp(0, rows - 1) of an empty weight)': {
    world: pure((x: k.Tensor, i: k.Tensor) => [x.clamp(0.5, -0.5), i.clamp(0, -1), k.embedding(i.abs().clamp(0, x.shape[0]! - 1), x.reshape([x.shape[0]!, -1]))]),
    shapes: [[3], [1], [0]],
    args: (g, s) => [g.floats(s), g.ints([2])],
    errorsDiffer: 'the compiled range check names the smallest bad index, eager the first',
  },
  'a matmul read by an int32 maskedFill is not fused as its epilogue': {
    world: pure((m: k.Tensor, x: k.Tensor) => m.maskedFill(x.matmul(x.transpose(-1, -2)).neg().gt(0), -1000000000).split(1, -2)[1]),
    shapes: [[2, 2], [3, 3]],
    args: (g, s) => [g.ints(s), g.floats(s)],
  },
});

Found('the integral scalar beyond int32 raises a ValueError naming the op, with a hint', () => {
  const x = k.tensor([1, 2]).to('int32');
  for (const run of [() => x.div(2 ** 40), () => compile((t: k.Tensor) => t.div(2 ** 40), { backend: 'cpu' })(x)]) {
    assert.throws(run, (e: Error) => e instanceof k.ValueError && /div: the integer \d+ does not fit in int32/.test(e.message));
  }
});

Found.run();
