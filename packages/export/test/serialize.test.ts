// Saving and loading: one file in the safetensors layout (weights readable by any safetensors reader, the
// program as JSON in its metadata), the two-part form, files on disk, other backends, and damaged input
// refused with ProgramFormatError naming what is wrong.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import * as k from '@kiln/tensor';
import {
  Dim, PROGRAM_FORMAT, PROGRAM_METADATA_KEY, ProgramFormatError, deserializeProgram, exportProgram, loadProgram, readProgram,
  readSafetensors, saveProgram, serializeProgram, writeSafetensors,
} from '@kiln/export';
// @ts-expect-error: plain JavaScript demo models
import { MLP, TransformerBlock, input } from '../../../examples/models.mjs';

const Files = suite('export: saveProgram / loadProgram');
const Safetensors = suite('export: the safetensors layout');

const maxDiff = (a: k.Tensor, b: k.Tensor): number => a.sub(b).abs().max().item() as number;
const batch = Dim('batch', { min: 1, max: 32 });

Files('a saved transformer block loads from bytes and from a file, runs on cpu and eager, and equals eager at new sizes', () => {
  const block = new TransformerBlock(16, 4);
  const program = exportProgram(block, [input([2, 5, 16])], { dims: [{ 0: batch, 1: Dim('seq', { min: 1, max: 64 }) }] });
  const dir = mkdtempSync(join(tmpdir(), 'kiln-export-'));
  try {
    const path = join(dir, 'block.kiln');
    const bytes = saveProgram(program, path);
    for (const [source, backend] of [[bytes, 'cpu'], [path, 'cpu'], [bytes, 'eager']] as const) {
      const run = loadProgram(source, { backend });
      assert.is(run.backend, backend);
      for (const [b, s] of [[1, 1], [4, 7], [3, 64]] as const) {
        const x = input([b, s, 16]);
        assert.ok(maxDiff(run(x) as k.Tensor, block.forward(x)) < 1e-4, `${backend} [${b}, ${s}]`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Files('the loaded program keeps names, specs, dims, version and state values; a later change to the model does not leak in', () => {
  const model = new MLP([3, 6, 2]);
  const program = exportProgram((x: k.Tensor) => model.forward(x), [input([4, 3])], { dims: [[batch, null]] });
  const loaded = readProgram(saveProgram(program));
  assert.equal(loaded.inputs, program.inputs);
  assert.equal(loaded.outputs, program.outputs);
  assert.equal(loaded.state, program.state);
  assert.equal(loaded.dims, program.dims);
  assert.is(loaded.kilnVersion, program.kilnVersion);
  assert.ok(/^\d+\.\d+\.\d+/.test(loaded.kilnVersion));
  for (const s of program.state) assert.equal(loaded.stateDict.get(s.name)!.toArray(), model.layers[Number(s.name.split('.')[2])][s.name.endsWith('weight') ? 'weight' : 'bias'].toArray());
  const x = input([5, 3]);
  const before = (loadProgram(saveProgram(program))(x) as k.Tensor).toArray();
  model.layers[0].weight.mul_(0);
  assert.equal((loadProgram(saveProgram(program))(x) as k.Tensor).toArray(), before);
});

Files('the two-part form: program.json (documented fields) plus a weights blob', () => {
  const model = new MLP([3, 4]);
  const program = exportProgram((x: k.Tensor) => model.forward(x), [input([2, 3])], { dynamic: true });
  const { json, weights } = serializeProgram(program);
  assert.is(json.format, PROGRAM_FORMAT);
  assert.equal(Object.keys(json).sort(), ['asserts', 'dims', 'format', 'formatVersion', 'graph', 'inputs', 'kilnVersion', 'mutations', 'outputs', 'source', 'state'].sort());
  assert.equal([...readSafetensors(weights).tensors.keys()], ['model.layers.0.weight', 'model.layers.0.bias']);
  const back = deserializeProgram(JSON.stringify(json), weights);
  const x = input([7, 3]);
  assert.ok(maxDiff(loadProgram(saveProgram(back))(x) as k.Tensor, model.forward(x)) < 1e-6);
});

Files('damaged or foreign input is a ProgramFormatError naming the problem', () => {
  const model = new MLP([3, 4]);
  const bytes = saveProgram(exportProgram((x: k.Tensor) => model.forward(x), [input([2, 3])]));
  const rejects = (b: unknown, pattern: RegExp) =>
    assert.throws(() => readProgram(b as Uint8Array), (e: unknown) => e instanceof ProgramFormatError && pattern.test((e as Error).message), String(pattern));
  rejects(bytes.subarray(0, 5), /too short/);
  rejects(bytes.subarray(0, bytes.length - 4), /do not fit|bytes after/);
  rejects(writeSafetensors(new Map([['w', k.ones([2])]])), /no 'kiln\.program' metadata/);
  const { metadata, tensors } = readSafetensors(bytes);
  const json = JSON.parse(metadata[PROGRAM_METADATA_KEY]!);
  const edited = (edit: (j: any) => void) => {
    const copy = JSON.parse(JSON.stringify(json));
    edit(copy);
    return writeSafetensors(tensors, { [PROGRAM_METADATA_KEY]: JSON.stringify(copy) });
  };
  rejects(edited((j) => (j.formatVersion = 99)), /formatVersion is 99/);
  rejects(edited((j) => (j.inputs.leaves[0].dtype = 'float16')), /inputs\.leaves\[0\]\.dtype/);
  rejects(edited((j) => (j.state[0].shape = [9, 9])), /state 'model\.layers\.0\.weight' is float32 \[9, 9\]/);
  rejects(edited((j) => (j.outputs.leaves[0].index = 5)), /outputs\.leaves\[0\]\.index/);
  rejects(writeSafetensors(new Map([...tensors].slice(1)), { [PROGRAM_METADATA_KEY]: JSON.stringify(json) }), /has no tensor in the weights/);
  rejects('/no/such/file.kiln', /cannot read '\/no\/such\/file\.kiln'/);
  rejects(42, /expected bytes/);
});

Safetensors('tensors of every dtype round-trip; offsets and dtypes follow the published layout', () => {
  const tensors = new Map<string, k.Tensor>([
    ['f', k.tensor([[1.5, -2], [3, 4]])],
    ['d', k.tensor([1e300, -0.5], { dtype: 'float64' })],
    ['i', k.tensor([7, -8, 9], { dtype: 'int32' })],
    ['b', k.tensor([true, false, true])],
  ]);
  const bytes = writeSafetensors(tensors, { note: 'x' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is((8 + headerLength) % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.equal(header.f, { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
  assert.equal(header.d.dtype, 'F64');
  assert.equal(header.i.dtype, 'I32');
  assert.equal(header.b, { dtype: 'BOOL', shape: [3], data_offsets: [44, 47] });
  assert.equal(header.__metadata__, { note: 'x' });
  const back = readSafetensors(bytes);
  for (const [name, t] of tensors) {
    assert.is(back.tensors.get(name)!.dtype, t.dtype);
    assert.equal(back.tensors.get(name)!.toArray(), t.toArray());
  }
});

Files.run();
Safetensors.run();
