// ONNX export: the demo models written as ONNX (opset 17, dynamic dims as dim_param, weights as
// initializers) run in ONNX Runtime and equal Kiln at sizes within the declared ranges; an op without an ONNX
// mapping is an OnnxExportError naming it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import onnxProto from 'onnx-proto';
import '@kiln/backend-cpu';
import * as k from '@kiln/tensor';
import { Dim, ONNX_MAPPED_OPS, OnnxExportError, exportProgram, programModule, readProgram, saveProgram, toOnnx } from '@kiln/export';
// @ts-expect-error: plain JavaScript demo models
import { MLP, TransformerBlock, input } from '../../../examples/models.mjs';
import { relativeDiff, runOnnx, session } from './onnx-support.js';

const Onnx = suite('export: ONNX models in ONNX Runtime');

const batch = Dim('batch', { min: 1, max: 64 });

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

Onnx('an op without an ONNX mapping is an OnnxExportError naming the op and the line', () => {
  assert.ok(!ONNX_MAPPED_OPS.includes('atan2'));
  const program = exportProgram((y: k.Tensor, x: k.Tensor) => y.atan2(x).mul(2), [k.randn([3]), k.randn([3])]);
  assert.throws(() => toOnnx(program), (e: unknown) => e instanceof OnnxExportError && /op 'atan2' \(%\d+ \(onnx\.test\.ts:\d+\)\) has no ONNX mapping/.test((e as Error).message));
  assert.throws(() => toOnnx(program, { opset: 11 }), (e: unknown) => e instanceof OnnxExportError && /opset must be an integer >= 17/.test((e as Error).message));
});

Onnx.run();
