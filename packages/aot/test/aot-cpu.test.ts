// AOT modules on the CPU backend, loaded in this process: outputs equal eager at sizes never seen at
// compile time, the declared structure comes back, Kiln tensors in give Kiln tensors out, and wrong
// inputs raise AotInputError naming the input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
// @ts-expect-error: the demo's models are plain JS
import { MLP, TransformerBlock } from '../../../examples/models.mjs';
import { Dim, exportProgram } from '@kiln/export';
import { AotCompileError, aotCompile } from '../src/index.js';
import { assertClose, assertThrowsNamed, compileAndLoad } from './support.js';

type Out = { data: Float32Array; shape: number[]; dtype: string };

const models = suite('aot cpu: demo models equal eager');

models('the MLP at batch sizes never seen at compile time', async () => {
  const mlp = new MLP([4, 32, 4]);
  const batch = Dim('batch', { min: 1, max: 4096 });
  const { model, compiled } = await compileAndLoad((x: k.Tensor) => mlp.forward(x), [k.randn([8, 4])], { exportOptions: { dims: [{ 0: batch }] } });
  assert.equal(compiled.plan.inputs, [{ name: 'x', dtype: 'float32', shape: [{ sym: 's0' }, 4] }]);
  assert.equal(compiled.plan.symbols, { s0: { name: 'batch', min: 1, max: 4096 } });
  for (const batch of [1, 2, 3, 17, 200]) {
    const x = k.randn([batch, 4]);
    const out = model({ data: x.toTypedArray(), shape: [batch, 4] }) as Out;
    assert.equal(out.shape, [batch, 4]);
    assert.is(out.dtype, 'float32');
    assertClose(out.data, mlp.forward(x).toTypedArray(), `MLP batch ${batch}`);
  }
});

models('the transformer block at several sequence lengths', async () => {
  const block = new TransformerBlock(32, 4);
  const { model } = await compileAndLoad((x: k.Tensor) => block.forward(x), [k.randn([1, 16, 32])], { exportOptions: { dims: [{ 1: Dim('seq', { max: 256 }) }] } });
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
  const { model } = await compileAndLoad(fn, [k.randn([4, 3])], { exportOptions: { dims: [{ 0: Dim('rows') }] } });
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
  const { model } = await compileAndLoad(fn, [a, m]);
  const out = model(a, m) as { sum: k.Tensor; masked: k.Tensor };
  assert.equal(Array.from(out.sum.toTypedArray()), [2, -4, 6, 8, 10, -12]);
  assert.is(out.masked.dtype, 'bool');
  assert.equal(Array.from(out.masked.toTypedArray()), [1, 0, 0, 1, 0, 0]);
});

structure('nested arguments, a baked-in constant and an argument returned as itself', async () => {
  const fn = (batch: { x: k.Tensor; scale: number }, pair: [k.Tensor, k.Tensor]) => [batch.x.mul(batch.scale).add(pair[0]), pair[1]];
  const { model } = await compileAndLoad(fn, [{ x: k.randn([4, 3]), scale: 2 }, [k.randn([4, 3]), k.randn([2])]]);
  const x = k.randn([5, 3]), b = k.randn([5, 3]), c = k.randn([2]);
  const out = model({ x, scale: 2 }, [b, c]) as [k.Tensor, k.Tensor];
  assertClose(out[0].toTypedArray(), x.mul(2).add(b).toTypedArray(), 'x * 2 + b');
  assert.is(out[1], c, 'an argument returned as itself is the same object');
  assertThrowsNamed(() => model({ x, scale: 3 }, [b, c]), 'AotInputError', /argument 0\.scale must be 3|argument 0.scale must be 2 \(the value it was exported with\), got number/);
  assertThrowsNamed(() => model({ x }, [b, c]), 'AotInputError', /argument 0 must be an object with keys x, scale/);
  assertThrowsNamed(() => model({ x, scale: 2 }, [b]), 'AotInputError', /argument 1 must be an array of 2/);
});

structure.run();

const errors = suite('aot cpu: wrong inputs raise AotInputError naming the input');

errors('wrong dtype, rank, static dim, range, shared dims, count', async () => {
  const fn = (x: k.Tensor, y: k.Tensor) => x.add(y).matmul(k.ones([3, 2]));
  const n = Dim('n', { min: 2, max: 64 });
  const { model } = await compileAndLoad(fn, [k.randn([4, 3]), k.randn([4, 3])], { exportOptions: { dims: [{ 0: n }, { 0: n }] } });
  const f32 = (count: number) => new Float32Array(count);
  const ok = { data: f32(12), shape: [4, 3] };
  assertThrowsNamed(() => model({ data: new Int32Array(12), shape: [4, 3] }, ok), 'AotInputError', /fn: input 'x' must hold float32 data \(a Float32Array\), got Int32Array/);
  assertThrowsNamed(() => model(ok, { data: f32(12), shape: [12] }), 'AotInputError', /input 'y' must have rank 2 \[n, 3\], got shape \[12\]/);
  assertThrowsNamed(() => model(ok, { data: f32(16), shape: [4, 4] }), 'AotInputError', /input 'y' dim 1 is 4, but the program is static there: 3/);
  assertThrowsNamed(() => model({ data: f32(3), shape: [1, 3] }, { data: f32(3), shape: [1, 3] }), 'AotInputError', /dim n \(input 'x' dim 0\) is 1, outside its range \[2, 64\]/);
  assertThrowsNamed(() => model({ data: f32(3 * 65), shape: [65, 3] }, { data: f32(3 * 65), shape: [65, 3] }), 'AotInputError', /dim n .* is 65, outside its range \[2, 64\]/);
  assertThrowsNamed(() => model(ok, { data: f32(15), shape: [5, 3] }), 'AotInputError', /input 'y' dim 0 is 5, but the program needs it equal to n = 4 \(set by input 'x' dim 0\)/);
  assertThrowsNamed(() => model(ok), 'AotInputError', /the arguments must be an array of 2, got an Array/);
  assertThrowsNamed(() => model('x', ok), 'AotInputError', /input 'x' must be a Float32Array, \{ data, shape \} or a Kiln tensor, got string/);
  assertThrowsNamed(() => model({ data: f32(11), shape: [4, 3] }, ok), 'AotInputError', /input 'x'.*holds 12 elements, but the data has 11/);
  assertThrowsNamed(() => model(k.randn([4, 3]).to('int32'), ok), 'AotInputError', /input 'x'.*must be a float32 tensor, got a int32 tensor/);
});

errors('a size fact the trace relied on is checked before the call', async () => {
  const fn = (x: k.Tensor, y: k.Tensor) => (x.shape[0] > y.shape[0] ? x.sum(0).add(y.sum(0)) : x.sum(0));
  const { model, compiled } = await compileAndLoad(fn, [k.randn([16, 3]), k.randn([4, 3])]);
  assert.ok(compiled.plan.preconditions.length > 0, 'the branch on the sizes became a precondition');
  const x = k.randn([12, 3]), y = k.randn([5, 3]);
  assertClose((model(x, y) as k.Tensor).toTypedArray(), x.sum(0).add(y.sum(0)).toTypedArray(), 'x rows > y rows');
  assertThrowsNamed(() => model(k.randn([4, 3]), k.randn([6, 3])), 'AotInputError', /fn: the inputs break /);
});

errors.run();

const eagerSteps = suite('aot cpu: eager steps run by the module\'s own eager kernels');

eagerSteps('nonzero (a data-dependent size later kernels use), an int32 item() as a size, float64 math: equal eager at sizes never seen', async () => {
  const programs: [string, (x: k.Tensor) => unknown][] = [
    ['positive positions', (x) => x.gt(0).nonzero().add(1)],
    ['how many positive, as a size', (x) => x.gt(0).nonzero().shape[0]],
    ['scaled by an item() count', (x) => x.mul(x.gt(0).to('int32').sum().item() as number)],
    ['float64 chain', (x) => x.to('float64').exp().add(x.to('float64').mul(0.5), { alpha: 2 }).sum(0).to('float32')],
    ['float64 compare and cast', (x) => x.to('float64').atan2(x.to('float64').neg()).ge(0.5)],
  ];
  for (const [name, fn] of programs) {
    const { model, compiled } = await compileAndLoad(fn, [k.randn([4, 3])]);
    assert.ok(compiled.plan.steps.some((s) => s.kind === 'fallback'), `${name}: has eager steps`);
    for (const rows of [2, 5, 9]) {
      const x = k.randn([rows, 3]);
      const [got, want] = [model(x), fn(x)];
      if (typeof want === 'number') assert.is(got, want, `${name} rows=${rows}`);
      else {
        assert.equal((got as k.Tensor).shape, (want as k.Tensor).shape, `${name} rows=${rows}: shape`);
        assert.is((got as k.Tensor).dtype, (want as k.Tensor).dtype, `${name} rows=${rows}: dtype`);
        assertClose((got as k.Tensor).toTypedArray(), (want as k.Tensor).toTypedArray(), `${name} rows=${rows}`, 1e-6);
      }
    }
  }
});

eagerSteps('a module carries only the eager kernels its steps use', async () => {
  const { compiled: withNonzero } = await compileAndLoad((x: k.Tensor) => x.nonzero(), [k.randn([4, 3])]);
  const { compiled: withFloat64 } = await compileAndLoad((x: k.Tensor) => x.to('float64').atan2(x.to('float64')), [k.randn([4, 3])]);
  const { compiled: plain } = await compileAndLoad((x: k.Tensor) => x.relu(), [k.randn([4, 3])]);
  // SCALAR_BINARY's atan2 entry is in the binary kernel only.
  assert.not.ok(withNonzero.code.includes('atan2'), 'nonzero module has no binary kernel');
  assert.ok(withFloat64.code.includes('atan2'), 'float64 atan2 module has it');
  assert.ok(plain.code.length < withNonzero.code.length, 'a module without eager steps carries no eager kernel');
});

eagerSteps.run();

const compileErrors = suite('aot cpu: programs a standalone module cannot run');

compileErrors('an eager step whose kernel the module cannot carry (float64 matmul) is an AotCompileError naming the op; so is any eager step on WebGPU', async () => {
  const wide = (x: k.Tensor) => x.to('float64').matmul(x.to('float64').transpose(0, 1)).to('float32');
  try {
    await aotCompile(exportProgram(wide, [k.randn([3, 2])]));
    assert.unreachable('expected AotCompileError');
  } catch (err) {
    assert.instance(err, AotCompileError);
    assert.match((err as Error).message, /wide: 2 nodes would run with eager kernels that a standalone CPU module cannot carry:\n\s+transpose \(node %\w+\).*\n\s+matmul \(node %\w+\): the backend does not compute float64/);
  }
  const nz = (x: k.Tensor) => x.nonzero();
  await aotCompile(exportProgram(nz, [k.tensor([1, 0, 2])]), { backend: 'webgpu' }).then(
    () => assert.unreachable('expected AotCompileError'),
    (err: Error) => assert.match(err.message, /nz: 1 node would run with eager kernels that a standalone WebGPU module cannot carry:\n\s+nonzero/),
  );
});

compileErrors('an unsupported backend is an AotCompileError', async () => {
  await aotCompile(exportProgram((x: k.Tensor) => x.relu(), [k.randn([3])]), { backend: 'tpu' as 'cpu' }).then(
    () => assert.unreachable('expected an error'),
    (err: Error) => assert.match(err.message, /backend "tpu"/),
  );
});

compileErrors.run();
