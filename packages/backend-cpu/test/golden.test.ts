// Printed loop IR and the generated wasm of small representative kernels, as golden files: a change to the
// code generator shows up as a reviewable diff (KILN_UPDATE_GOLDEN=1 refreshes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { traceOps } from '@kiln/graph';
import { lowerGraph, printKernel, sizeParam, type Kernel, loop } from '@kiln/lower';
import { Arena, compileKernels, printWat } from '@kiln/backend-cpu';
import { assertGolden } from './golden.js';

const { acc, add, contiguous, div, load, mul, sub, unary } = loop;

const n = sizeParam('n');
const a = load('a', contiguous([n])), b = load('b', contiguous([n]));
const hypot: Kernel = {
  kind: 'pointwise', name: 'hypot', params: ['n'], inputs: [{ name: 'a', dtype: 'float32' }, { name: 'b', dtype: 'float32' }],
  outputs: [{ name: 'out', dtype: 'float32' }], sizes: [n],
  stores: [{ buffer: 'out', access: contiguous([n]), value: unary('sqrt', add(mul(a, a), mul(b, b))) }],
};
const [r, c] = [sizeParam('r'), sizeParam('c')];
const x = load('x', contiguous([r, c]));
const e = unary('exp', sub(x, acc(0)));
const softmax: Kernel = {
  kind: 'reduction', name: 'softmax', params: ['r', 'c'], inputs: [{ name: 'x', dtype: 'float32' }],
  outputs: [{ name: 'y', dtype: 'float32' }], outer: [r], reduce: [c],
  stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }],
  stores: [{ buffer: 'y', scope: 'full', access: contiguous([r, c]), value: div(e, acc(1)) }],
};

const Golden = suite('golden: printed IR and generated wasm');

for (const kernel of [hypot, softmax]) {
  Golden(`${kernel.name}`, () => {
    const wasm = compileKernels([kernel], new Arena(), { inlineMath: false }).wasm;
    assertGolden(`${kernel.name}/loop-ir.txt`, printKernel(kernel));
    assertGolden(`${kernel.name}/wasm.txt`, printWat(wasm));
  });
}

// Fusion inlines exp(x - max) separately into the sum stage and into the store; the store must still
// read the stashed value back instead of calling exp again (one call per loop body of the sum stage: the
// two bodies of the unrolled vector loop, its four-element remainder and the scalar tail).
Golden('softmax lowered from a graph computes exp once per element', () => {
  const program = lowerGraph(traceOps((t: k.Tensor) => t.softmax(-1), [k.randn([8, 37])]).coreGraph);
  const kernels = program.steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
  const text = printWat(compileKernels(kernels, new Arena(), { inlineMath: false }).wasm);
  // the fold pass's exp calls only: four in its grouped step (four vectors), one in the step for a vector
  // left over, one in the scalar tail; the store pass reads the stashed exp back and calls none
  assert.is(text.split('\n').filter((line) => /^\s*call\b/.test(line)).length, 6, text);
});

Golden.run();
