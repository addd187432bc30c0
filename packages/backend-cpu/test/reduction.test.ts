import { suite } from 'uvu';
import { sizeParam, type ReductionKernel, type ReductionType, type SizeExpr, loop } from '@kiln/lower';
import * as assert from 'uvu/assert';
import { compileKernels, disassemble } from '@kiln/backend-cpu';
import { assertClose, randInt, randomArray, runBoth, sharedArena, softmaxKernel } from './helpers.js';

const { acc, add, binary, cast, constant, contiguous, div, load, sub, unary } = loop;

const f32 = 'float32' as const;

/** Reduce the last `r` axes of a contiguous input of `shape`; output contiguous over the rest. */
function reduceLast(name: string, type: ReductionType, shape: SizeExpr[], r: number, params: string[] = []): ReductionKernel {
  const outer = shape.slice(0, shape.length - r);
  const isArg = type === 'argmax' || type === 'argmin';
  return {
    kind: 'reduction', name, params, inputs: [{ name: 'x', dtype: f32 }],
    outputs: [{ name: 'out', dtype: isArg ? 'int32' : f32 }],
    outer, reduce: shape.slice(shape.length - r),
    stages: [{ type, prologue: load('x', contiguous(shape)) }],
    stores: [{ buffer: 'out', scope: 'outer', access: contiguous(outer), value: acc(0) }],
  };
}

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const Reduction = suite('reduction');

Reduction('sum/prod/max/min/argmax/argmin over random shapes (size-0, size-1, odd)', () => {
  const shapes: [number[], number][] = [[[7], 1], [[1], 1], [[0], 1], [[3, 0], 1], [[0, 5], 1], [[5, 13], 1], [[4, 1, 9], 2], [[2, 3, 4, 5], 2], [[9, 1030], 1], [[6, 5], 2]];
  for (const type of ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as const) {
    for (const [shape, r] of shapes) {
      const x = randomArray(f32, numel(shape), type === 'prod' ? 0.5 : -3, type === 'prod' ? 1.5 : 3);
      const k = reduceLast(`r_${type}`, type, shape, r);
      const { got, want } = runBoth(k, { x }, { out: numel(shape.slice(0, shape.length - r)) });
      assertClose(got.out!, want.out!, 1e-5, 1e-5, `${type} ${shape}/${r}`);
    }
  }
});

Reduction('NaN propagates through max/min and wins argmax', () => {
  const x = Float32Array.from([1, 5, NaN, 2, 3, 9, 4, 0]);
  for (const type of ['max', 'min', 'argmax', 'sum'] as const) {
    const { got, want } = runBoth(reduceLast(`nan_${type}`, type, [2, 4], 1), { x }, { out: 2 });
    assertClose(got.out!, want.out!, 0, 0, `nan ${type}`);
  }
});

Reduction('non-innermost reduction axis (column sums) with a strided, gathered prologue', () => {
  for (const [rows, cols] of [[7, 5], [64, 3], [1, 9], [13, 1]]) {
    const k: ReductionKernel = {
      kind: 'reduction', name: 'colsum', params: [], inputs: [{ name: 'x', dtype: f32 }],
      outputs: [{ name: 'out', dtype: f32 }], outer: [cols], reduce: [rows],
      stages: [{ type: 'sum', prologue: unary('abs', load('x', { offset: 0, strides: [1, cols] })) }],
      stores: [{ buffer: 'out', scope: 'outer', access: contiguous([cols]), value: acc(0) }],
    };
    const { got, want } = runBoth(k, { x: randomArray(f32, rows * cols) }, { out: cols });
    assertClose(got.out!, want.out!, 1e-5, 1e-6, `colsum ${rows}x${cols}`);
  }
});

Reduction('reductions over leading and middle axes vectorise across the outer axis (softmax over dim 0, NaN, 3-D)', () => {
  const [r, c] = [sizeParam('r'), sizeParam('c')];
  const x = load('x', { offset: 0, strides: [1, c] }); // outer = columns, reduce = rows of a row-major [r, c]
  const e = unary('exp', sub(x, acc(0)));
  const colSoftmax: ReductionKernel = {
    kind: 'reduction', name: 'colsoftmax', params: ['r', 'c'], inputs: [{ name: 'x', dtype: f32 }],
    outputs: [{ name: 'y', dtype: f32 }, { name: 'm', dtype: f32 }], outer: [c], reduce: [r],
    stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }],
    stores: [
      { buffer: 'y', scope: 'full', access: { offset: 0, strides: [1, c] }, value: div(e, acc(1)) },
      { buffer: 'm', scope: 'outer', access: contiguous([c]), value: acc(0) },
    ],
  };
  const compiled = compileKernels([colSoftmax], sharedArena).kernels.get('colsoftmax')!;
  for (const [rows, cols] of [[5, 7], [1, 4], [9, 1], [0, 3], [3, 0], [33, 130]]) {
    const xs = randomArray(f32, rows * cols, -5, 5);
    if (rows * cols > 6) xs[6] = NaN; // one column's max, and its softmax, become NaN
    const { got, want } = runBoth(colSoftmax, { x: xs }, { y: rows * cols, m: cols }, { r: rows, c: cols }, compiled);
    assertClose(got.y!, want.y!, 1e-5, 1e-7, `col softmax ${rows}x${cols}`);
    assertClose(got.m!, want.m!, 0, 0, `col max ${rows}x${cols}`);
  }
  // sum over the middle axis of [a, r, b]
  const [A, R, B] = [3, 6, 37]; // 37 = two 16-wide steps, one 4-wide, one scalar
  const mid: ReductionKernel = {
    kind: 'reduction', name: 'midsum', params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'out', dtype: f32 }],
    outer: [A, B], reduce: [R], stages: [{ type: 'sum', prologue: load('x', { offset: 0, strides: [R * B, 1, B] }) }],
    stores: [{ buffer: 'out', scope: 'outer', access: contiguous([A, B]), value: acc(0) }],
  };
  const { got, want } = runBoth(mid, { x: randomArray(f32, A * R * B) }, { out: A * B });
  assertClose(got.out!, want.out!, 1e-5, 1e-6, 'midsum');
});

Reduction('softmax with symbolic sizes, reused across calls', () => {
  const k = softmaxKernel(sizeParam('s0'), sizeParam('s1'), ['s0', 's1']);
  const compiled = compileKernels([k], sharedArena).kernels.get('softmax')!;
  for (const [r, c] of [[3, 5], [1, 1], [0, 7], [4, 0], [8, 1024], [5, 33]]) {
    const { got, want } = runBoth(k, { x: randomArray(f32, r * c, -10, 10) }, { y: r * c }, { s0: r, s1: c }, compiled);
    assertClose(got.y!, want.y!, 1e-5, 1e-7, `softmax ${r}x${c}`);
  }
});

Reduction('rows of exp (softmax, logSoftmax, logSumExp) of every length around the grouped exp step and its sum blocks', () => {
  // the exp fold runs four vectors per step, then single vectors, then scalars, in blocks of 4096 elements
  const [r, c] = [sizeParam('s0'), sizeParam('s1')];
  const x = load('x', contiguous([r, c]));
  const shifted = sub(x, acc(0));
  const base = { kind: 'reduction', params: ['s0', 's1'], inputs: [{ name: 'x', dtype: f32 }], outer: [r], reduce: [c] } as const;
  const stages: ReductionKernel['stages'] = [{ type: 'max', prologue: x }, { type: 'sum', prologue: unary('exp', shifted) }];
  const logSoftmax: ReductionKernel = {
    ...base, name: 'log_softmax', outputs: [{ name: 'y', dtype: f32 }], stages,
    stores: [{ buffer: 'y', scope: 'full', access: contiguous([r, c]), value: sub(shifted, unary('log', acc(1))) }],
  };
  const logSumExp: ReductionKernel = {
    ...base, name: 'log_sum_exp', outputs: [{ name: 'y', dtype: f32 }], stages,
    stores: [{ buffer: 'y', scope: 'outer', access: contiguous([r]), value: add(acc(0), unary('log', acc(1))) }],
  };
  const lengths = [1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 19, 20, 31, 32, 33, 47, 4095, 4096, 4097, 4111, 8209];
  for (const k of [softmaxKernel(r, c, ['s0', 's1']), logSoftmax, logSumExp]) {
    const compiled = compileKernels([k], sharedArena).kernels.get(k.name)!;
    for (const cols of lengths) {
      const rows = cols > 100 ? 2 : 3;
      const outputs = { y: k === logSumExp ? rows : rows * cols };
      const { got, want } = runBoth(k, { x: randomArray(f32, rows * cols, -20, 20) }, outputs, { s0: rows, s1: cols }, compiled);
      assertClose(got.y!, want.y!, 1e-5, 1e-6, `${k.name} ${rows}x${cols}`);
    }
    // a row of 70,001 equal values: every exp is 1, and the block sums keep the row sum exact
    const { got } = runBoth(k, { x: new Float32Array(70_001).fill(3) }, { y: k === logSumExp ? 1 : 70_001 }, { s0: 1, s1: 70_001 }, compiled);
    const expected = k === logSumExp ? 3 + Math.log(70_001) : k === logSoftmax ? -Math.log(70_001) : 1 / 70_001;
    assert.ok(got.y!.every((v) => Math.abs(v - expected) <= 2e-7 * Math.abs(expected)), `${k.name} of a constant row of 70,001: ${got.y![0]} vs ${expected}`);
  }
});

Reduction('softmax rows drop the NaN flag of their max pass, and rows with NaN or ±Inf still match the reference', () => {
  // NaN: the row's sum is NaN, so every element is NaN, as with a NaN max. +Inf: inf - inf is NaN. -Inf rows: NaN.
  const cols = 11;
  const rows = [
    [1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11], [NaN, ...new Array(cols - 1).fill(0)], new Array(cols).fill(NaN),
    [Infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], new Array(cols).fill(-Infinity), [-Infinity, 3, ...new Array(cols - 2).fill(-1)],
    Array.from({ length: cols }, (_, i) => i - 5),
  ];
  const x = Float32Array.from(rows.flat());
  const k = softmaxKernel(rows.length, cols);
  const { got, want } = runBoth(k, { x }, { y: x.length });
  assertClose(got.y!, want.y!, 1e-6, 1e-7, 'softmax rows with NaN / ±Inf');
  // the max pass is one load and one pmax per four elements: no f32x4.ne of the NaN flag anywhere
  assert.not.match(disassemble(compileKernels([k], sharedArena).wasm), /f32x4\.ne\b/, 'softmax keeps a NaN flag'); // (f32x4.nearest is exp's)
  // logSumExp (max + log(sum)) is NaN-poisoned by its sum too; a kernel that also stores the max keeps the flag
  const xl = load('x', contiguous([rows.length, cols]));
  const sum = unary('exp', sub(xl, acc(0)));
  const lse: ReductionKernel = {
    kind: 'reduction', name: 'lse', params: [], inputs: [{ name: 'x', dtype: f32 }], outputs: [{ name: 'out', dtype: f32 }],
    outer: [rows.length], reduce: [cols], stages: [{ type: 'max', prologue: xl }, { type: 'sum', prologue: sum }],
    stores: [{ buffer: 'out', scope: 'outer', access: contiguous([rows.length]), value: add(acc(0), unary('log', acc(1))) }],
  };
  const withMax: ReductionKernel = {
    ...lse, name: 'lsemax', outputs: [...lse.outputs, { name: 'm', dtype: f32 }],
    stores: [...lse.stores, { buffer: 'm', scope: 'outer', access: contiguous([rows.length]), value: acc(0) }],
  };
  const a = runBoth(lse, { x }, { out: rows.length });
  assertClose(a.got.out!, a.want.out!, 1e-6, 1e-6, 'logsumexp rows with NaN / ±Inf');
  const b = runBoth(withMax, { x }, { out: rows.length, m: rows.length });
  assertClose(b.got.m!, b.want.m!, 0, 0, 'the stored max of a row with NaN is NaN');
  assert.ok(Number.isNaN(b.got.m![0]!) && Number.isNaN(b.got.m![1]!), 'max of a row with NaN');
  assert.match(disassemble(compileKernels([withMax], sharedArena).wasm), /f32x4\.ne\b/, 'a stored max keeps its NaN flag');
});

Reduction('layernorm-like: mean and variance stages, affine epilogue, plus an outer-scope store', () => {
  const rows = randInt(2, 9), cols = 37;
  const x = load('x', contiguous([rows, cols]));
  const n = constant(cols);
  const mean = div(acc(0), n);
  const centered = sub(x, mean);
  const k: ReductionKernel = {
    kind: 'reduction', name: 'layernorm', params: [], inputs: [{ name: 'x', dtype: f32 }, { name: 'g', dtype: f32 }],
    outputs: [{ name: 'y', dtype: f32 }, { name: 'rstd', dtype: f32 }], outer: [rows], reduce: [cols],
    stages: [{ type: 'sum', prologue: x }, { type: 'sum', prologue: binary('mul', centered, centered) }],
    stores: [
      { buffer: 'y', scope: 'full', access: contiguous([rows, cols]),
        value: binary('mul', binary('mul', centered, unary('rsqrt', add(div(acc(1), n), constant(1e-5)))), load('g', { offset: 0, strides: [0, 1] })) },
      { buffer: 'rstd', scope: 'outer', access: contiguous([rows]), value: unary('rsqrt', add(div(acc(1), n), constant(1e-5))) },
    ],
  };
  const { got, want } = runBoth(k, { x: randomArray(f32, rows * cols), g: randomArray(f32, cols) }, { y: rows * cols, rstd: rows });
  assertClose(got.y!, want.y!, 1e-4, 1e-5, 'layernorm y');
  assertClose(got.rstd!, want.rstd!, 1e-4, 1e-5, 'layernorm rstd');
});

Reduction('int32 sums and a cast epilogue', () => {
  const k: ReductionKernel = {
    kind: 'reduction', name: 'isum', params: [], inputs: [{ name: 'i', dtype: 'int32' }],
    outputs: [{ name: 'out', dtype: f32 }], outer: [6], reduce: [11],
    stages: [{ type: 'sum', prologue: load('i', contiguous([6, 11])) }, { type: 'max', prologue: load('i', contiguous([6, 11])) }],
    stores: [{ buffer: 'out', scope: 'outer', access: contiguous([6]), value: cast(f32, binary('add', acc(0), acc(1))) }],
  };
  const { got, want } = runBoth(k, { i: randomArray('int32', 66) }, { out: 6 });
  assertClose(got.out!, want.out!, 0, 0, 'isum');
});

Reduction.run();
