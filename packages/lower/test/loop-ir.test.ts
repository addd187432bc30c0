import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evalSize, loop, LoopIRError, printKernel, sizeOp, sizeParam, verifyKernel, type Kernel, type ReductionKernel } from '@kiln/lower';

const { acc, add, binary, broadcastAccess, cast, constant, contiguous, div, load, sub, unary } = loop;

const f32 = 'float32' as const;

function softmax(): ReductionKernel {
  const [s0, s1] = [sizeParam('s0'), sizeParam('s1')];
  const x = load('x', contiguous([s0, s1]));
  const e = unary('exp', sub(x, acc(0)));
  return {
    kind: 'reduction', name: 'softmax', params: ['s0', 's1'], inputs: [{ name: 'x', dtype: f32 }],
    outputs: [{ name: 'y', dtype: f32 }], outer: [s0], reduce: [s1],
    stages: [{ type: 'max', prologue: x }, { type: 'sum', prologue: e }],
    stores: [{ buffer: 'y', scope: 'full', access: contiguous([s0, s1]), value: div(e, acc(1)) }],
  };
}

const Print = suite('loop IR printer');

Print('a softmax kernel prints one line per buffer, stage and store', () => {
  assert.fixture(
    printKernel(softmax()),
    [
      'reduction softmax (s0, s1) outer [s0] reduce [s1]',
      '  in  x: float32',
      '  out y: float32',
      '  acc0 = max x[s1*i0 + r0]',
      '  acc1 = sum exp(sub(x[s1*i0 + r0], acc0))',
      '  y[s1*i0 + r0] = div(exp(sub(x[s1*i0 + r0], acc0)), acc1)    # full',
    ].join('\n'),
  );
});

Print('pointwise with broadcast, casts and a matmul with an epilogue', () => {
  const pw: Kernel = {
    kind: 'pointwise', name: 'bias', params: [], inputs: [{ name: 'x', dtype: f32 }, { name: 'b', dtype: f32 }],
    outputs: [{ name: 'o', dtype: 'int32' }], sizes: [4, 8],
    stores: [{ buffer: 'o', access: contiguous([4, 8]), value: cast('int32', add(load('x', contiguous([4, 8])), load('b', broadcastAccess([8], [4, 8])))) }],
  };
  assert.fixture(printKernel(pw), ['pointwise bias over [4, 8]', '  in  x: float32', '  in  b: float32', '  out o: int32', '  o[8*i0 + i1] = int32(add(x[8*i0 + i1], b[i1]))'].join('\n'));
  const mm: Kernel = {
    kind: 'extern', op: 'matmul', name: 'mm', params: [], inputs: [{ name: 'a', dtype: f32 }, { name: 'w', dtype: f32 }],
    outputs: [{ name: 'c', dtype: f32 }], batch: [], m: 2, n: 3, k: 5,
    a: { buffer: 'a', offset: 0, batchStrides: [], rowStride: 5, colStride: 1 },
    b: { buffer: 'w', offset: 0, batchStrides: [], rowStride: 1, colStride: 5 }, out: 'c', epilogue: unary('relu', acc(0)),
  };
  assert.ok(printKernel(mm).includes('c = a{offset 0, strides 5, 1} @ w{offset 0, strides 1, 5}'));
  assert.ok(printKernel(mm).includes('epilogue relu(acc0)'));
});

const Verify = suite('loop IR verify');

Verify('a well-formed kernel passes', () => verifyKernel(softmax()));

Verify('errors name the kernel and hint at the fix', () => {
  const bad = (k: Kernel, pattern: RegExp) => {
    try {
      verifyKernel(k);
    } catch (e) {
      assert.instance(e, LoopIRError);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected ${pattern}`);
  };
  const k = softmax();
  bad({ ...k, params: ['s0'] }, /undeclared parameter 's1'/);
  bad({ ...k, stages: [{ type: 'sum', prologue: load('nope', contiguous([1, 1])) }] }, /'nope', which is not an input/);
  bad({ ...k, stages: [{ type: 'sum', prologue: binary('add', load('x', contiguous([k.outer[0]!, k.reduce[0]!])), constant(1, 'int32')) }] }, /mixes float32 and int32[\s\S]*hint: insert a cast/);
  bad({ ...k, stores: [{ ...k.stores[0]!, value: acc(5) }] }, /acc 5 is not available/);
  bad({ ...k, stages: [{ type: 'sum', prologue: load('x', { offset: 0, strides: [1] }) }] }, /1 strides for 2 axes/);
  bad({ ...k, name: 'has space' }, /identifier/);
});

const Sizes = suite('size expressions');

Sizes('fold constants and identities, evaluate with parameters', () => {
  assert.is(sizeOp('mul', 3, 4), 12);
  assert.equal(sizeOp('mul', 1, sizeParam('s0')), { param: 's0' });
  assert.equal(sizeOp('add', sizeParam('s0'), 0), { param: 's0' });
  const e = sizeOp('floordiv', sizeOp('add', sizeParam('n'), 3), 4);
  assert.is(evalSize(e, { n: 10 }), 3);
  assert.throws(() => evalSize(e, {}), /'n' was not bound/);
});

Print.run();
Verify.run();
Sizes.run();
