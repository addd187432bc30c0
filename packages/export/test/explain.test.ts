// Exported programs in core's explain() and on the programExported hook, through the plain-data contract core
// defines (ExportedProgramInfo): core never imports @kiln/export. explain(program) shows the signature, the
// lifted parameters under their state-dict names, the dims with their ranges, the runtime asserts, the graph
// and what the backend makes of it; a saved and read-back program explains the same way.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import { Compiler, check, explain } from '@kiln/core';
import type { ExportedProgramInfo } from '@kiln/core';
import * as k from '@kiln/tensor';
import { Dim, exportProgram, readProgram, saveProgram } from '@kiln/export';

const Explain = suite('export: explain(program) and the programExported hook');
const rand = (shape: number[], seed = 1) => k.randn(shape, { generator: new k.Generator(seed) });

const model = { weight: rand([6, 3], 2).requiresGrad_(true), bias: rand([3], 3) };
function head(x: k.Tensor, memory: k.Tensor) {
  check(x.shape[0] < memory.shape[0], 'fewer rows than the memory');
  return { out: x.matmul(model.weight).add(model.bias).relu(), rows: x.shape[0] };
}
const dims = [{ 0: Dim('batch', { min: 2, max: 48 }) }, { 0: Dim('slots', { max: 64 }) }];
const args = () => [rand([6, 6]), rand([9, 6], 4)];

Explain('explain(program): signature, state-dict parameters, dims with ranges, asserts, graph, kernels', () => {
  const program = exportProgram(head, args(), { dims });
  const e = explain(program);
  assert.is(e.graphCount, 1);
  assert.is(e.breakCount, 0);
  const info = e.exported[0]!;
  assert.is(info.name, 'head');
  assert.equal(info.inputs.map((i) => [i.name, i.type]), [['x', 'f32[batch, 6]'], ['memory', 'f32[slots, 6]']]);
  assert.equal(info.state.map((s) => [s.kind, s.name, s.type]), [['parameter', 'model.weight', 'f32[6, 3]'], ['buffer', 'model.bias', 'f32[3]']]);
  assert.equal(info.dims.map((d) => [d.name, d.min, d.max, d.places]), [['batch', 2, 48, ['x.shape[0]']], ['slots', 0, 64, ['memory.shape[0]']]]);
  assert.ok(info.asserts.some((a) => a.kind === 'check' && /batch < slots/.test(a.text) && a.message === 'fewer rows than the memory'), JSON.stringify(info.asserts));
  assert.ok(e.backends[0]!.backend === 'cpu' && e.backends[0]!.kernels >= 1, JSON.stringify(e.backends[0]));
  const text = String(e);
  assert.match(text, /\nExported program 'head':\n  ExportedProgram 'head' \(kiln [\d.]+\)\n  inputs:\n    x: f32\[batch, 6\]  -> %\w+\n    memory: f32\[slots, 6\]  -> %memory\n/);
  assert.match(text, /\n  state:\n    parameter model\.weight: f32\[6, 3\]  -> %\w+\n    buffer model\.bias: f32\[3\]  -> %\w+\n/);
  assert.match(text, /\n  dims:\n    batch = s\d in \[2, 48\]: x\.shape\[0\]\n    slots = s\d in \[0, 64\]: memory\.shape\[0\]\n/);
  assert.match(text, /\n  asserts:\n(    .*\n)*    check batch < slots: fewer rows than the memory/);
  assert.match(text, /\n  outputs: .*\n    \[0\] f32\[batch, 3\] = graph output 0\n    \[1\] int = graph output 1\n/);
  assert.match(text, /\nGraph 1 exported program 'head':\n(  .*\n)*  .*= matmul\(/);
  assert.match(text, /\n  compiled by backend cpu: \d+ kernels?\n/);
  assert.match(text, /\nOps: .*matmul×1/);
});

Explain('a program read back from its saved bytes explains the same signature, dims and asserts', () => {
  const program = exportProgram(head, args(), { dims });
  const again = explain(readProgram(saveProgram(program)));
  const first = explain(program).exported[0]!;
  const read = again.exported[0]!;
  assert.is(read.text, first.text);
  assert.equal(read.dims, first.dims);
  assert.equal(read.asserts, first.asserts);
  assert.is(again.backends[0]!.kernels, explain(program).backends[0]!.kernels);
});

Explain('exportProgram announces each program on its compiler (programExported): what the report draws', () => {
  const seen: ExportedProgramInfo[] = [];
  const compiler = new Compiler().use({ name: 'listener', apply: (c) => void c.hooks.programExported.tap('listener', (p) => void seen.push(p)) });
  exportProgram(head, args(), { dims, compiler });
  assert.is(seen.length, 1);
  assert.is(seen[0]!.name, 'head');
  assert.match(seen[0]!.apiGraphText ?? '', /matmul\(/, 'the graph as captured, before the passes');
  assert.ok(seen[0]!.graph.nodes.some((n) => n.kind === 'call'), 'the core graph itself, for pictures');
});

Explain('explain() of something that is neither a function nor a program is a typed error naming both', () => {
  assert.throws(() => explain({} as never), /explain\(\) expects a function or an exported program, got object/);
});

Explain.run();
