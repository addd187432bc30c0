// The ONNX rules against the differential corpus: each corpus program that exports as one graph and has an
// ONNX form for all its ops is written as ONNX and run in ONNX Runtime at each corpus shape the program
// admits; its outputs must equal Kiln's programModule on the same inputs. Programs using an op without a
// mapping must fail with OnnxExportError naming it (never a model that computes something else).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FullGraphError } from '@kiln/core';
import { treeLeaves } from '@kiln/pytree';
import { CheckFailedError } from '@kiln/shapes';
import * as k from '@kiln/tensor';
import { ExportError, OnnxExportError, ProgramInputError, exportProgram, programModule, toOnnx } from '@kiln/export';
import '../../backend-cpu/test/differential-corpus.test.js';
import '../../backend-cpu/test/differential-corpus-ops.test.js';
import '../../backend-cpu/test/differential-corpus-edges.test.js';
import { Gen, checkedPrograms } from '../../backend-cpu/test/differential-support.js';
import { relativeDiff, runOnnx, session } from './onnx-support.js';

const Corpus = suite('export: the differential corpus as ONNX models in ONNX Runtime');

Corpus('every corpus program with an ONNX form equals Kiln in ONNX Runtime at each shape it admits', async () => {
  const problems: string[] = [];
  const unmapped = new Map<string, number>();
  let models = 0;
  let calls = 0;
  for (const { name, program } of checkedPrograms) {
    const world = program.world();
    if (world.beforeCall || world.observe) continue;
    const fn = world.thisArg === undefined ? world.fn : world.fn.bind(world.thisArg);
    let exported;
    try {
      exported = exportProgram(fn, program.args(new Gen(1000), program.shapes[0]!, 0), { dynamic: true });
    } catch (err) {
      // Not one graph (FullGraphError), not exportable (ExportError), or eager itself refuses the example.
      if (err instanceof FullGraphError || err instanceof ExportError || err instanceof k.KilnError) continue;
      throw err;
    }
    let bytes: Uint8Array;
    try {
      bytes = toOnnx(exported);
    } catch (err) {
      if (!(err instanceof OnnxExportError)) throw err;
      const op = /op '(\w+)'/.exec(err.message)?.[1] ?? err.message.split('\n')[0]!.slice(0, 60);
      unmapped.set(op, (unmapped.get(op) ?? 0) + 1);
      continue;
    }
    models++;
    const s = await session(bytes).catch((err: Error) => void problems.push(`${name}: ONNX Runtime refused the model: ${err.message.split('\n')[0]}`));
    if (!s) continue;
    const kiln = programModule(exported, { backend: 'cpu' });
    for (const [i, shape] of program.shapes.entries()) {
      const args = program.args(new Gen(3000 + i), shape, i);
      // ONNX Runtime gets the arguments as they were before Kiln's call wrote any of them in place.
      const tensors = exported.inputs.filter((x) => x.kind === 'tensor' && x.placeholder !== null).map((x) => (treeLeaves(args)[exported.inputs.indexOf(x)] as k.Tensor).clone());
      let want: unknown;
      try {
        want = kiln(...args);
      } catch (err) {
        // Sizes the program refuses, and calls eager raises on too (a failing check()), have no answer to compare.
        if (err instanceof ProgramInputError || err instanceof k.KilnError || err instanceof CheckFailedError) continue;
        throw err;
      }
      calls++;
      try {
        const got = await runOnnx(s, tensors);
        // The function's outputs, then each written argument's new value (the model's `<target>.mutated` outputs).
        const written = exported.mutations.map((m) => (m.kind === 'input' ? (treeLeaves(args)[exported.inputs.findIndex((x) => x.name === m.target)] as k.Tensor) : kiln.state.get(m.target)!));
        const wanted = [...(treeLeaves(want) as (k.Tensor | number)[]), ...written];
        if (got.length !== wanted.length) problems.push(`${name} ${JSON.stringify(shape)}: ${got.length} ONNX outputs for ${wanted.length} values`);
        wanted.forEach((w, j) => {
          if (typeof w === 'number') {
            if (got[j]!.item() !== w) problems.push(`${name} ${JSON.stringify(shape)} output ${j}: size ${String(got[j]!.item())} vs Kiln ${w}`);
            return;
          }
          if (got[j]!.shape.join() !== w.shape.join()) problems.push(`${name} ${JSON.stringify(shape)} output ${j}: shape [${got[j]!.shape}] vs Kiln [${w.shape}]`);
          else if (got[j]!.dtype !== w.dtype) problems.push(`${name} ${JSON.stringify(shape)} output ${j}: ${got[j]!.dtype} vs Kiln ${w.dtype}`);
          else if (relativeDiff(got[j]!, w) > (program.tol ?? 1e-5) * 10) problems.push(`${name} ${JSON.stringify(shape)} output ${j}: differs by ${relativeDiff(got[j]!, w)}`);
        });
      } catch (err) {
        problems.push(`${name} ${JSON.stringify(shape)}: ONNX Runtime raised ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  console.log(`  onnx corpus: ${models} models, ${calls} calls compared; ops without a mapping: ${[...unmapped].map(([op, n]) => `${op} ×${n}`).join(', ') || 'none'}`);
  assert.equal(problems, []);
  assert.ok(models >= 25, `only ${models} corpus programs became ONNX models`);
});

Corpus.run();
