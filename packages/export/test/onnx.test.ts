// ONNX export: the demo models written as ONNX (opset 17, dynamic dims as dim_param, weights as
// initializers) run in ONNX Runtime and equal Kiln at sizes within the declared ranges; an op without an ONNX
// mapping is an OnnxExportError naming it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import onnxProto from 'onnx-proto';
import { allowInGraph } from '@kiln/policy';
import '@kiln/backend-cpu';
import * as k from '@kiln/tensor';
import { Dim, ONNX_MAPPED_OPS, OnnxExportError, exportProgram, programModule, readProgram, saveProgram, toOnnx } from '@kiln/export';
// @ts-expect-error: plain JavaScript demo models
import { MLP, TransformerBlock, input } from '../../../examples/models.mjs';
import { relativeDiff, runOnnx, session } from './onnx-support.js';

const Onnx = suite('export: ONNX models in ONNX Runtime');

const batch = Dim('batch', { min: 1, max: 64 });

/** An op defined outside Kiln, with a kernel and no decomposition: no ONNX rule can exist for it. */
const softsign = k.defineOp({
  name: 'onnx_test_softsign',
  category: 'pointwise',
  method: false,
  positional: [{ name: 'self', type: 'Tensor', hasDefault: false }] as const,
  meta: ([x]) => ({ shape: [...x.shape], dtype: x.dtype }),
  kernel: ([x]) => (x as k.Tensor).div((x as k.Tensor).abs().add(1)),
});
allowInGraph(softsign);

Onnx('the demo MLP as ONNX: opset 17, batch as dim_param, weights as initializers by state name; equal to Kiln in ONNX Runtime', async () => {
  const model = new MLP([4, 32, 8, 3]);
  const program = exportProgram((x: k.Tensor) => model.forward(x), [input([6, 4])], { dims: [{ 0: batch }] });
  const bytes = toOnnx(program);
  const decoded = onnxProto.onnx.ModelProto.decode(bytes);
  assert.is(Number(decoded.opsetImport[0]!.version), 17);
  assert.equal(decoded.graph!.input!.map((i) => i.name), ['x']);
  assert.equal(decoded.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['batch', 4]);
  assert.equal(decoded.graph!.initializer!.filter((t) => t.name!.startsWith('model.')).map((t) => t.name), program.state.map((s) => s.name));
  const s = await session(bytes);
  const kiln = programModule(program);
  for (const n of [1, 2, 7, 64]) {
    const x = input([n, 4]);
    const [got] = await runOnnx(s, [x]);
    assert.equal(got!.shape, [n, 3]);
    assert.ok(relativeDiff(got!, kiln(x) as k.Tensor) < 1e-5, `batch ${n}`);
    assert.ok(relativeDiff(got!, model.forward(x)) < 1e-5, `batch ${n} vs eager`);
  }
});

Onnx('the demo transformer block (attention with a causal mask, layer norm, GELU) with dynamic batch and sequence, read back from a saved program', async () => {
  const block = new TransformerBlock(32, 4);
  const program = readProgram(saveProgram(exportProgram(block, [input([2, 5, 32])], { dims: [{ 0: batch, 1: Dim('seq', { min: 1, max: 128 }) }] })));
  const bytes = toOnnx(program);
  const dims = onnxProto.onnx.ModelProto.decode(bytes).graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assert.equal(dims, ['batch', 'seq', 32]);
  const s = await session(bytes);
  const kiln = programModule(program);
  for (const [b, t] of [[1, 1], [2, 5], [3, 17], [1, 128]] as const) {
    const x = input([b, t, 32]);
    const [got] = await runOnnx(s, [x]);
    assert.equal(got!.shape, [b, t, 32]);
    assert.ok(relativeDiff(got!, kiln(x) as k.Tensor) < 1e-4, `[${b}, ${t}] vs Kiln`);
    assert.ok(relativeDiff(got!, block.forward(x)) < 1e-4, `[${b}, ${t}] vs eager`);
  }
});

Onnx('atan2, eye and linspace map to ONNX (opset 17) and equal eager in ONNX Runtime, signed zeros and infinities included', async () => {
  for (const op of ['atan2', 'eye', 'linspace']) assert.ok(ONNX_MAPPED_OPS.includes(op), op);
  const special = [0, -0, 1, -1, Infinity, -Infinity, NaN, 0.5, -2.5, 1e-30];
  const ys = k.tensor(special.flatMap((a) => special.map(() => a)));
  const xs = k.tensor(special.flatMap(() => special));
  const show = (v: unknown) => (Object.is(v, -0) ? '-0' : String(v));
  const angles = exportProgram((y: k.Tensor, x: k.Tensor) => y.atan2(x), [ys, xs]);
  const [got] = await runOnnx(await session(toOnnx(angles)), [ys, xs]);
  const want = ys.atan2(xs).toTypedArray();
  // Zeros (with their sign), infinities, NaN and the special angles bit for bit (Object.is); the rest within
  // float32's Atan (ONNX Runtime has no float64 one).
  got!.toTypedArray().forEach((v, i) => assert.ok(Object.is(v, want[i]) || (Number(v) !== 0 && Math.abs(Number(v) - Number(want[i])) <= 4e-7 * Math.abs(Number(want[i]))), `atan2(${show(ys.toTypedArray()[i])}, ${show(xs.toTypedArray()[i])}) = ${show(v)}, eager ${show(want[i])}`));
  const ints = exportProgram((y: k.Tensor, x: k.Tensor) => y.atan2(x), [k.tensor([3, -4, 0], { dtype: 'int32' }), k.tensor([-1, 0, -5], { dtype: 'int32' })]);
  const [fromInts] = await runOnnx(await session(toOnnx(ints)), [k.tensor([3, -4, 0], { dtype: 'int32' }), k.tensor([-1, 0, -5], { dtype: 'int32' })]);
  assert.equal(Array.from(fromInts!.toTypedArray()), Array.from(k.tensor([3, -4, 0]).atan2(k.tensor([-1, 0, -5])).toTypedArray()));

  // eye and linspace: sizes fixed, and eye with a dynamic size (the input's batch) next to linspace's exact ends.
  const made = exportProgram((x: k.Tensor) => [k.eye(3, 5), k.linspace(-1.5, 2, 7), k.linspace(0, 1, 1), k.linspace(2, 9, 4, { dtype: 'int32' }), x.matmul(k.eye(x.shape[1]!)).add(k.linspace(0.1, 0.7, 3))], [input([4, 3])], { dims: [{ 0: batch }] });
  const s = await session(toOnnx(made));
  for (const n of [1, 4, 9]) {
    const x = input([n, 3]);
    const outs = await runOnnx(s, [x]);
    const eager = [k.eye(3, 5), k.linspace(-1.5, 2, 7), k.linspace(0, 1, 1), k.linspace(2, 9, 4, { dtype: 'int32' }), x.matmul(k.eye(3)).add(k.linspace(0.1, 0.7, 3))];
    outs.forEach((o, i) => {
      assert.equal(o.shape, eager[i]!.shape, `output ${i} at batch ${n}`);
      assert.is(o.dtype, eager[i]!.dtype);
      assert.equal(Array.from(o.toTypedArray()), Array.from(eager[i]!.toTypedArray()), `output ${i} at batch ${n}`);
    });
  }
});

Onnx('an op without an ONNX mapping is an OnnxExportError naming the op and the line; random ops say why ONNX cannot hold them', () => {
  const unmapped = exportProgram((x: k.Tensor) => softsign(x).mul(2), [k.randn([3])]);
  assert.throws(() => toOnnx(unmapped), (e: unknown) => e instanceof OnnxExportError && /op 'onnx_test_softsign' \(%\w+ \(onnx\.test\.ts:\d+\)\) has no ONNX mapping/.test((e as Error).message));
  const noisy = exportProgram((x: k.Tensor) => x.add(k.randn([3])), [k.randn([3])]);
  assert.throws(() => toOnnx(noisy), (e: unknown) => e instanceof OnnxExportError && /op 'randn' .*draws random numbers, which ONNX cannot reproduce/.test((e as Error).message) && /pass it as an input/.test((e as OnnxExportError).hint ?? ''));
  const program = exportProgram((y: k.Tensor, x: k.Tensor) => y.atan2(x).mul(2), [k.randn([3]), k.randn([3])]);
  assert.throws(() => toOnnx(program, { opset: 11 }), (e: unknown) => e instanceof OnnxExportError && /opset must be an integer >= 17/.test((e as Error).message));
});

Onnx.run();
