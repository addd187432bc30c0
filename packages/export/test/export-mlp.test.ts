// exportProgram on the demo models: lifted state with state-dict names, named dims with ranges, and the
// program run through the backend contract at sizes the export never saw, equal to eager; bad inputs raise
// the documented typed errors naming the input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import type { Tensor } from '@kiln/tensor';
import { Dim, DimRangeError, InputDtypeError, InputRankError, InputSizeError, exportProgram, programModule, readProgram, saveProgram } from '@kiln/export';
// @ts-expect-error: plain JavaScript demo models
import { MLP, TransformerBlock, input } from '../../../examples/models.mjs';

const test = suite('export: demo models');

const maxDiff = (a: Tensor, b: Tensor): number => a.sub(b).abs().max().item() as number;

test('an MLP closure exports with its weights lifted by state-dict name and a named, bounded batch dim', () => {
  const model = new MLP([4, 8, 3]);
  const f = (x: Tensor) => model.forward(x);
  const program = exportProgram(f, [input([5, 4])], { dims: [{ 0: Dim('batch', { min: 1, max: 64 }) }] });
  assert.equal(program.state.map((s) => s.name), ['model.layers.0.weight', 'model.layers.0.bias', 'model.layers.1.weight', 'model.layers.1.bias']);
  assert.equal(program.dims.map((d) => [d.name, d.min, d.max, d.places]), [['batch', 1, 64, ['x.shape[0]']]]);
  assert.equal(program.inputs.map((i) => [i.kind, i.name]), [['tensor', 'x']]);
  const run = programModule(program, { backend: 'cpu' });
  assert.is(run.backend, 'cpu');
  for (const n of [1, 3, 64]) {
    const x = input([n, 4]);
    const out = run(x) as Tensor;
    assert.equal(out.shape, [n, 3]);
    assert.ok(maxDiff(out, model.forward(x)) < 1e-5, `batch ${n}`);
  }
});

test('a model object exports its forward with fields named from `this`; batch and sequence both dynamic', () => {
  const block = new TransformerBlock(16, 4);
  const program = exportProgram(block, [input([2, 6, 16])], { dims: [{ 0: Dim('batch', { max: 8 }), 1: Dim('seq', { max: 128 }) }] });
  assert.ok(program.state.some((s) => s.name === 'qkv.weight'));
  assert.ok(program.state.some((s) => s.name === 'norm1.bias'));
  const run = programModule(program);
  for (const [b, s] of [[1, 1], [3, 9], [2, 33]] as const) {
    const x = input([b, s, 16]);
    assert.ok(maxDiff(run(x) as Tensor, block.forward(x)) < 1e-4, `[${b}, ${s}]`);
  }
});

test('String(program) prints the signature, dims, outputs and the core graph (also after a save and load)', () => {
  const model = new MLP([4, 8, 3]);
  const program = exportProgram(function mlp(x: Tensor) { return model.forward(x); }, [input([5, 4])], { dims: [{ 0: Dim('batch', { min: 1, max: 64 }) }] });
  const text = String(program);
  const lines = text.split('\n');
  assert.is(lines[0], `ExportedProgram 'mlp' (kiln ${program.kilnVersion})`);
  assert.ok(lines.some((l) => /^ {2}x: f32\[batch, 4\] {2}-> %\w+$/.test(l)), text);
  assert.ok(lines.some((l) => /^ {2}buffer model\.layers\.0\.weight: f32\[8, 4\] {2}-> %\w+$/.test(l)), text);
  assert.ok(lines.includes('  batch = s0 in [1, 64]: x.shape[0]'), text);
  assert.ok(lines.includes('  [0] f32[batch, 3] = graph output 0'), text);
  assert.ok(lines.some((l) => /^ {2}%\d+: f32\[s0, 8\] = matmul\(%\w+, %\d+\)/.test(l)), text);
  assert.is(String(readProgram(saveProgram(program))), text);
});

test('inputs that do not fit the specs raise typed errors naming the input', () => {
  const model = new MLP([4, 8, 3]);
  const run = programModule(exportProgram((x: Tensor) => model.forward(x), [input([5, 4])], { dims: [{ 0: Dim('batch', { min: 1, max: 64 }) }] }));
  assert.throws(() => run(input([65, 4])), (e: unknown) => e instanceof DimRangeError && /x\.shape\[0\] \(batch\) is 65, outside the exported range \[1, 64\]/.test((e as Error).message));
  assert.throws(() => run(input([6, 5])), (e: unknown) => e instanceof InputSizeError && /input 'x' must have size 4 in dim 1/.test((e as Error).message));
  assert.throws(() => run(input([6, 4]).to('float64')), (e: unknown) => e instanceof InputDtypeError && /input 'x' must be float32, got float64/.test((e as Error).message));
  assert.throws(() => run(input([6])), (e: unknown) => e instanceof InputRankError && /input 'x' must have rank 2/.test((e as Error).message));
});

test.run();
