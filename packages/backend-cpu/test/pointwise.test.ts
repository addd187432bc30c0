import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sizeParam, type LoopDType, type PointwiseKernel, type SizeExpr, type ValueExpr, loop } from '@kiln/lower';
import { compileKernels, unsupportedReason } from '@kiln/backend-cpu';
import { assertClose, randInt, randomArray, runBoth, sharedArena } from './helpers.js';

const { add, binary, broadcastAccess, cast, constant, contiguous, load, loopIndex, mul, unary, where } = loop;

const f32 = 'float32' as const;
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

function pointwise(name: string, sizes: SizeExpr[], inputs: [string, PointwiseKernel['inputs'][number]['dtype']][], value: ValueExpr, outDtype: LoopDType = f32, params: string[] = []): PointwiseKernel {
  return {
    kind: 'pointwise', name, params,
    inputs: inputs.map(([n, d]) => ({ name: n, dtype: d })),
    outputs: [{ name: 'out', dtype: outDtype }],
    sizes,
    stores: [{ buffer: 'out', access: contiguous(sizes), value }],
  };
}

const Pointwise = suite('pointwise');

Pointwise('hypot on random shapes, including size-0, size-1 and odd (tail) sizes', () => {
  for (const shape of [[0], [1], [3], [7], [1000], [5, 0, 3], [1, 1, 1], [17, 9], [2, 3, 5, 7]]) {
    const a = load('a', contiguous(shape)), b = load('b', contiguous(shape));
    const k = pointwise('hypot', shape, [['a', f32], ['b', f32]], unary('sqrt', add(mul(a, a), mul(b, b))));
    const n = numel(shape);
    const { got, want } = runBoth(k, { a: randomArray(f32, n), b: randomArray(f32, n) }, { out: n });
    assertClose(got.out!, want.out!, 1e-6, 0, `hypot ${shape}`);
  }
});

Pointwise('broadcast inputs read with stride 0, no copies', () => {
  for (const [rows, cols] of [[5, 7], [1, 9], [33, 1], [16, 16]] as const) {
    const shape = [rows, cols];
    const x = load('x', contiguous(shape));
    const bias = load('b', broadcastAccess([cols], shape)); // row vector
    const scale = load('s', broadcastAccess([rows, 1], shape)); // column vector
    const k = pointwise('bcast', shape, [['x', f32], ['b', f32], ['s', f32]], mul(add(x, bias), scale));
    const { got, want } = runBoth(k, { x: randomArray(f32, rows * cols), b: randomArray(f32, cols), s: randomArray(f32, rows) }, { out: rows * cols });
    assertClose(got.out!, want.out!, 1e-6, 0, `bcast ${shape}`);
  }
});

Pointwise('non-contiguous inputs: transpose and strided slice are index arithmetic', () => {
  for (let trial = 0; trial < 8; trial++) {
    const r = randInt(1, 13), c = randInt(1, 13);
    // x is stored [c, r]; read transposed. y is every other element of a [r, 2c+1] buffer, offset 1.
    const xt = load('x', { offset: 0, strides: [1, r] });
    const ys = load('y', { offset: 1, strides: [2 * c + 1, 2] });
    const k = pointwise('views', [r, c], [['x', f32], ['y', f32]], binary('sub', xt, unary('exp', ys)));
    const { got, want } = runBoth(k, { x: randomArray(f32, r * c), y: randomArray(f32, r * (2 * c + 1)) }, { out: r * c });
    assertClose(got.out!, want.out!, 2e-6, 1e-6, `views ${r}x${c}`);
  }
});

Pointwise('symbolic sizes: one compiled kernel serves every size', () => {
  const s0 = sizeParam('s0'), s1 = sizeParam('s1');
  const shape = [s0, s1];
  const a = load('a', contiguous(shape));
  const bcol = load('b', { offset: 0, strides: [1, 0] });
  const k = pointwise('sym', shape, [['a', f32], ['b', f32]], unary('tanh', add(a, bcol)), f32, ['s0', 's1']);
  const compiled = compileKernels([k], sharedArena).kernels.get('sym')!;
  for (const [r, c] of [[3, 5], [0, 4], [1, 1], [64, 33], [7, 0], [2, 1024]]) {
    const { got, want } = runBoth(k, { a: randomArray(f32, r * c), b: randomArray(f32, r) }, { out: r * c }, { s0: r, s1: c }, compiled);
    assertClose(got.out!, want.out!, 2e-6, 1e-7, `sym ${r}x${c}`);
  }
});

Pointwise('int32 and bool: arithmetic, comparisons, where, casts', () => {
  const shape = [11, 6];
  const n = numel(shape);
  const i = load('i', contiguous(shape)), m = load('m', contiguous(shape)), x = load('x', contiguous(shape));
  const intExpr = add(mul(i, constant(3, 'int32')), unary('abs', binary('sub', i, constant(7, 'int32'))));
  const cases: [string, ValueExpr, 'float32' | 'int32' | 'bool'][] = [
    ['intmath', intExpr, 'int32'],
    ['cmp', binary('and', binary('gt', x, constant(0)), unary('not', m)), 'bool'],
    ['where', where(m, x, unary('neg', unary('relu', x))), 'float32'],
    ['casts', add(cast('float32', i), cast('float32', m)), 'float32'],
    ['tobool', cast('bool', i), 'bool'],
    ['toint', cast('int32', mul(x, constant(3.7))), 'int32'],
    ['iota', add(mul(loopIndex(0), constant(100, 'int32')), loopIndex(1)), 'int32'],
    ['tril', where(binary('le', loopIndex(1), loopIndex(0)), x, constant(0)), 'float32'],
    ['sign', add(unary('sign', x), cast('float32', unary('sign', i))), 'float32'],
    ['intdivmod', add(mul(binary('floordiv', i, binary('sub', i, constant(3, 'int32'))), constant(1000, 'int32')), binary('mod', i, constant(-7, 'int32'))), 'int32'],
    ['floatdivmod', add(binary('floordiv', x, constant(0.7)), binary('mod', x, constant(-1.3))), 'float32'],
  ];
  for (const [name, value, dtype] of cases) {
    const k = pointwise(name, shape, [['i', 'int32'], ['m', 'bool'], ['x', f32]], value, dtype);
    const { got, want } = runBoth(k, { i: randomArray('int32', n), m: randomArray('bool', n), x: randomArray(f32, n) }, { out: n });
    assertClose(got.out!, want.out!, 1e-6, 0, name);
  }
});

Pointwise('several outputs share one loop', () => {
  const shape = [37];
  const x = load('x', contiguous(shape));
  const e = unary('exp', x);
  const k: PointwiseKernel = {
    kind: 'pointwise', name: 'two', params: [], inputs: [{ name: 'x', dtype: f32 }],
    outputs: [{ name: 'o1', dtype: f32 }, { name: 'o2', dtype: f32 }], sizes: shape,
    stores: [
      { buffer: 'o1', access: contiguous(shape), value: e },
      { buffer: 'o2', access: { offset: 36, strides: [-1] }, value: add(e, constant(1)) },
    ],
  };
  const { got, want } = runBoth(k, { x: randomArray(f32, 37) }, { o1: 37, o2: 37 });
  assertClose(got.o1!, want.o1!, 2e-6, 0, 'o1');
  assertClose(got.o2!, want.o2!, 2e-6, 0, 'o2 (reversed store)');
  assert.ok(true);
});

Pointwise('unsupported dtypes are reported before compiling, so lowering can fall back per node', () => {
  const shape = [4];
  const k = pointwise('f64', shape, [['d', 'float64']], unary('exp', load('d', contiguous(shape))), 'float64');
  assert.match(unsupportedReason(k) ?? '', /float64 is not supported[\s\S]*hint: run this node with its eager kernel/);
  assert.throws(() => compileKernels([k], sharedArena), /float64/);
  const ok = pointwise('f32ok', shape, [['x', f32]], unary('exp', load('x', contiguous(shape))));
  assert.is(unsupportedReason(ok), undefined);
});

Pointwise.run();
