// AOT modules on the CPU backend, loaded in this process: outputs equal eager at sizes never seen at
// compile time, the declared structure comes back, Kiln tensors in give Kiln tensors out, and wrong
// inputs raise AotInputError naming the input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { AotCompileError, aotCompile, traceForAot } from '../src/index.js';
import { assertClose, assertThrowsNamed, compileAndLoad } from './support.js';

type Out = { data: Float32Array; shape: number[]; dtype: string };

const models = suite('aot cpu: demo models equal eager');

models('the MLP at batch sizes never seen at compile time', async () => {
  const mlp = new MLP([4, 32, 4]);
  const { model } = await compileAndLoad((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], { names: ['x'] });
  for (const batch of [2, 3, 17, 200]) {
    const x = k.randn([batch, 4]);
    const out = model({ data: x.toTypedArray(), shape: [batch, 4] }) as Out;
    assert.equal(out.shape, [batch, 4]);
    assert.is(out.dtype, 'float32');
    assertClose(out.data, mlp.forward(x).toTypedArray(), `MLP batch ${batch}`);
  }
});

models('the transformer block at several sequence lengths', async () => {
  const block = new TransformerBlock(32, 4);
  const { model } = await compileAndLoad((x: k.Tensor) => block.forward(x), [k.randn([1, 16, 32])], { names: ['x'] });
  for (const seq of [16, 5, 40]) {
    const x = k.randn([1, seq, 32]);
    const out = model(x) as k.Tensor; // Kiln tensors in, Kiln tensors out
    assert.ok(out instanceof k.Tensor, 'a Kiln tensor comes back for a Kiln tensor argument');
    assert.equal(out.shape, [1, seq, 32]);
    assertClose(out.toTypedArray(), block.forward(x).toTypedArray(), `transformer seq ${seq}`, 1e-4);
  }
});

models.run();

const structure = suite('aot cpu: outputs in the declared structure');

structure('objects, arrays, sizes and a bare typed array argument', async () => {
  const W = k.randn([3, 5]);
  const fn = (x: k.Tensor) => ({ y: x.matmul(W).relu(), parts: [x.sum(-1), x.mul(2)], rows: x.shape[0], label: 'fixed' });
  const { model, compiled } = await compileAndLoad(fn, [k.randn([4, 3])], { names: ['x'] });
  assert.equal(compiled.plan.inputs, [{ name: 'x', dtype: 'float32', shape: ['s0', 3] }]);
  const x = k.randn([6, 3]);
  const out = model(x.toTypedArray()) as { y: Out; parts: Out[]; rows: number; label: string };
  assert.equal(Object.keys(out), ['y', 'parts', 'rows', 'label']);
  assert.is(out.rows, 6);
  assert.is(out.label, 'fixed');
  assertClose(out.y.data, x.matmul(W).relu().toTypedArray(), 'y');
  assertClose(out.parts[0]!.data, x.sum(-1).toTypedArray(), 'parts[0]');
  assert.equal(out.parts[1]!.shape, [6, 3]);
});

structure('int32 and bool inputs and outputs', async () => {
  const fn = (a: k.Tensor, m: k.Tensor) => ({ sum: a.add(a), masked: a.gt(0).logicalAnd(m) });
  const a = k.tensor([[1, -2, 3], [4, 5, -6]], { dtype: 'int32' });
  const m = k.tensor([[true, true, false], [true, false, true]]);
  const { model } = await compileAndLoad(fn, [a, m], { names: ['a', 'mask'] });
  const out = model(a, m) as { sum: k.Tensor; masked: k.Tensor };
  assert.equal(Array.from(out.sum.toTypedArray()), [2, -4, 6, 8, 10, -12]);
  assert.is(out.masked.dtype, 'bool');
  assert.equal(Array.from(out.masked.toTypedArray()), [1, 0, 0, 1, 0, 0]);
});

structure.run();

const errors = suite('aot cpu: wrong inputs raise AotInputError naming the input');

errors('wrong dtype, rank, static dim, range, shared dims, count', async () => {
  const fn = (x: k.Tensor, y: k.Tensor) => x.add(y).matmul(k.ones([3, 2]));
  const { model } = await compileAndLoad(fn, [k.randn([4, 3]), k.randn([4, 3])], { names: ['x', 'y'] });
  const f32 = (n: number) => new Float32Array(n);
  const ok = { data: f32(12), shape: [4, 3] };
  assertThrowsNamed(() => model({ data: new Int32Array(12), shape: [4, 3] }, ok), 'AotInputError', /input 'x' \(argument 0\) must hold float32 data \(a Float32Array\), got Int32Array/);
  assertThrowsNamed(() => model(ok, { data: f32(12), shape: [12] }), 'AotInputError', /input 'y' \(argument 1\) must have rank 2/);
  assertThrowsNamed(() => model(ok, { data: f32(16), shape: [4, 4] }), 'AotInputError', /input 'y' \(argument 1\) dim 1 is 4, but the module was compiled for 3/);
  assertThrowsNamed(() => model({ data: f32(3), shape: [1, 3] }, { data: f32(3), shape: [1, 3] }), 'AotInputError', /input 'x' \(argument 0\) dim 0 is 1, outside the range of s0: \[2, inf\]/);
  assertThrowsNamed(() => model(ok, { data: f32(15), shape: [5, 3] }), 'AotInputError', /input 'y' \(argument 1\) dim 0 is 5, but input 'x' dim 0 set s0 = 4/);
  assertThrowsNamed(() => model(ok), 'AotInputError', /expected 2 argument\(s\) \(x, y\), got 1/);
  assertThrowsNamed(() => model('x', ok), 'AotInputError', /input 'x' \(argument 0\) must be a Float32Array, \{ data, shape \} or a Kiln tensor, got string/);
  assertThrowsNamed(() => model({ data: f32(11), shape: [4, 3] }, ok), 'AotInputError', /input 'x'.*holds 12 elements, but the data has 11/);
  assertThrowsNamed(() => model(k.randn([4, 3]).to('int32'), ok), 'AotInputError', /input 'x'.*must be a float32 tensor, got a int32 tensor/);
});

errors.run();

const compileErrors = suite('aot cpu: programs a standalone module cannot run');

compileErrors('an op left to an eager kernel is an AotCompileError naming it', async () => {
  const source = traceForAot((x: k.Tensor) => x.nonzero(), [k.tensor([1, 0, 2])], { name: 'nz' });
  try {
    await aotCompile(source);
    assert.unreachable('expected AotCompileError');
  } catch (err) {
    assert.instance(err, AotCompileError);
    assert.match((err as Error).message, /nz: 1 node\(s\) would run with eager kernels.*\n\s+nonzero/);
  }
});

compileErrors('an unsupported backend is an AotCompileError', async () => {
  const source = traceForAot((x: k.Tensor) => x.relu(), [k.randn([3])]);
  await aotCompile(source, { backend: 'tpu' as 'cpu' }).then(
    () => assert.unreachable('expected an error'),
    (err: Error) => assert.match(err.message, /backend "tpu"/),
  );
});

compileErrors.run();
