import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sizeParam, type MatmulKernel, type MatrixOperand, type SizeExpr, type ValueExpr, loop } from '@kiln/lower';
import { compileKernels, type MatmulBlocking } from '@kiln/backend-cpu';
import { assertClose, randomArray, runBoth, sharedArena } from './helpers.js';

const { acc, add, load, unary } = loop;

const f32 = 'float32' as const;
const rowMajor = (buffer: string, cols: SizeExpr, batchStride: SizeExpr[] = []): MatrixOperand =>
  ({ buffer, offset: 0, batchStrides: batchStride, rowStride: cols, colStride: 1 });

export function matmulKernel(m: SizeExpr, n: SizeExpr, k: SizeExpr, opts: { params?: string[]; epilogue?: ValueExpr; bias?: boolean } = {}): MatmulKernel {
  return {
    kind: 'extern', op: 'matmul', name: 'mm', params: opts.params ?? [],
    inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }, ...(opts.bias ? [{ name: 'bias', dtype: f32 } as const] : [])],
    outputs: [{ name: 'c', dtype: f32 }], batch: [], m, n, k,
    a: rowMajor('a', k), b: rowMajor('b', n), out: 'c', ...(opts.epilogue ? { epilogue: opts.epilogue } : {}),
  };
}

const Matmul = suite('matmul');

Matmul('square and skinny sizes against a naive triple loop', () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1], [3, 3, 3], [17, 17, 17], [64, 64, 64], [129, 129, 129], [256, 256, 256],
    [1, 256, 64], [256, 1, 64], [5, 300, 7], [300, 9, 513], [33, 520, 1], [4, 8, 0], [0, 5, 5],
  ];
  for (const [m, n, k] of sizes) {
    const { got, want } = runBoth(matmulKernel(m, n, k), { a: randomArray(f32, m * k), b: randomArray(f32, k * n) }, { c: m * n });
    assertClose(got.c!, want.c!, 1e-4, 1e-4 * Math.sqrt(k), `${m}x${n}x${k}`);
  }
});

Matmul('transposed and batched operands are packed from their strides', () => {
  const [B, m, n, k] = [3, 13, 11, 19];
  const kernel: MatmulKernel = {
    kind: 'extern', op: 'matmul', name: 'bmm', params: [], inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }],
    outputs: [{ name: 'c', dtype: f32 }], batch: [B], m, n, k,
    a: { buffer: 'a', offset: 0, batchStrides: [m * k], rowStride: 1, colStride: m }, // a stored [B, k, m], read transposed
    b: { buffer: 'b', offset: 0, batchStrides: [0], rowStride: n, colStride: 1 }, // one b broadcast over the batch
    out: 'c',
  };
  const { got, want } = runBoth(kernel, { a: randomArray(f32, B * m * k), b: randomArray(f32, k * n) }, { c: B * m * n });
  assertClose(got.c!, want.c!, 1e-4, 1e-4, 'bmm');
});

Matmul('operands contiguous along k (A row-major, B transposed as in x @ w.T) are packed by an in-register transpose', () => {
  // full panels take the 4×4 transpose, edge panels the element path; k % 4 ≠ 0 leaves single steps, and a
  // KC of 128 below k = 301 makes three k blocks
  const blockings: MatmulBlocking[] = [
    { MR: 4, NR: 8, KC: 128, MC: 64, NC: 256 }, { MR: 8, NR: 4, KC: 256, MC: 128, NC: 512 },
    { MR: 2, NR: 16, KC: 128, MC: 64, NC: 256 }, { MR: 3, NR: 12, KC: 512, MC: 256, NC: 1024 },
  ];
  for (const [m, n, k] of [[37, 45, 301], [64, 64, 64], [9, 17, 3]] as const) {
    const kernel: MatmulKernel = { ...matmulKernel(m, n, k), b: { buffer: 'b', offset: 0, batchStrides: [], rowStride: 1, colStride: k } };
    const inputs = { a: randomArray(f32, m * k), b: randomArray(f32, n * k) };
    for (const blocking of blockings) {
      const compiled = compileKernels([kernel], sharedArena, { matmulBlocking: blocking }).kernels.get('mm')!;
      const { got, want } = runBoth(kernel, inputs, { c: m * n }, {}, compiled);
      assertClose(got.c!, want.c!, 1e-4, 1e-4 * Math.sqrt(k), `${JSON.stringify(blocking)} ${m}x${n}x${k}, b transposed`);
    }
  }
});

Matmul('fused bias + relu epilogue, symbolic sizes reused across calls', () => {
  const [M, N, K] = [sizeParam('m'), sizeParam('n'), sizeParam('k')];
  const epilogue = unary('relu', add(acc(0), load('bias', { offset: 0, strides: [0, 1] })));
  const kernel = matmulKernel(M, N, K, { params: ['m', 'n', 'k'], epilogue, bias: true });
  const compiled = compileKernels([kernel], sharedArena).kernels.get('mm')!;
  for (const [m, n, k] of [[7, 9, 5], [64, 33, 100], [1, 1, 1], [130, 17, 260]]) {
    const inputs = { a: randomArray(f32, m * k), b: randomArray(f32, k * n), bias: randomArray(f32, n) };
    const { got, want } = runBoth(kernel, inputs, { c: m * n }, { m, n, k }, compiled);
    assertClose(got.c!, want.c!, 1e-4, 1e-4, `relu(x@w+b) ${m}x${n}x${k}`);
  }
});

Matmul('matrix-vector shapes (run as reductions) keep batching, strides and the epilogue', () => {
  const [B, m, n, k] = [2, 3, 37, 29];
  const epilogue = unary('relu', add(acc(0), load('bias', { offset: 0, strides: [0, 0, 1] })));
  const kernel: MatmulKernel = {
    kind: 'extern', op: 'matmul', name: 'bmv', params: [],
    inputs: [{ name: 'a', dtype: f32 }, { name: 'b', dtype: f32 }, { name: 'bias', dtype: f32 }],
    outputs: [{ name: 'c', dtype: f32 }], batch: [B], m, n, k,
    a: { buffer: 'a', offset: 0, batchStrides: [m * k], rowStride: k, colStride: 1 },
    b: { buffer: 'b', offset: 0, batchStrides: [k * n], rowStride: 1, colStride: k }, // b stored [B, n, k]
    out: 'c', epilogue,
  };
  const inputs = { a: randomArray(f32, B * m * k), b: randomArray(f32, B * k * n), bias: randomArray(f32, n) };
  const { got, want } = runBoth(kernel, inputs, { c: B * m * n });
  assertClose(got.c!, want.c!, 1e-4, 1e-4, 'batched matvec with epilogue');
});

Matmul('a module of several matmul kernels holds the packing and microkernel code once, and each kernel computes as alone', () => {
  const one = compileKernels([matmulKernel(40, 24, 16)], sharedArena);
  const kernels = [matmulKernel(40, 24, 16), matmulKernel(9, 33, 70), matmulKernel(sizeParam('m'), 12, 8, { params: ['m'] })]
    .map((kernel, i) => ({ ...kernel, name: `mm${i}` }));
  const three = compileKernels(kernels, sharedArena);
  // the shared core is most of a matmul's code: three kernels used to take three times one's bytes
  assert.ok(three.wasm.byteLength < 1.5 * one.wasm.byteLength, `${three.wasm.byteLength} bytes for three matmuls, ${one.wasm.byteLength} for one`);
  const shapes: [number, number, number][] = [[40, 24, 16], [9, 33, 70], [21, 12, 8]];
  kernels.forEach((kernel, i) => {
    const [m, n, k] = shapes[i]!;
    const { got, want } = runBoth(kernel, { a: randomArray(f32, m * k), b: randomArray(f32, k * n) }, { c: m * n }, i === 2 ? { m } : {}, three.kernels.get(kernel.name)!);
    assertClose(got.c!, want.c!, 1e-4, 1e-4 * Math.sqrt(k), `kernel ${i}: ${m}x${n}x${k}`);
  });
});

Matmul.run();
