// The tracer/differential corpus of @kiln/backend-cpu (item/nonzero, symbolic sizes as numbers, outside
// numbers, view chains, indexing, matmul, numeric edges, size arithmetic, aliasing, in-place writes, side
// effects, language features) replayed on the WebGPU backend against eager. Importing the corpus files runs
// their CPU suites first (in the full test run they run once either way); each program they checked is
// recorded, and here runs again through a compiler that loads the WebGPU plugin: results are read back
// asynchronously, then results, thrown errors, arguments after the call, outside state and aliasing are
// compared exactly as the CPU harness does. One configuration (automatic dynamic shapes, as users get it):
// every program's shape list already runs the static and then the symbolic path, and the eager-backend and
// full-dynamic variants add lavapipe compile time without exercising anything the GPU does differently.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Compiler, CompileRecorder, compileWith } from '@kiln/core';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import '../../backend-cpu/test/differential-corpus.test.js';
import '../../backend-cpu/test/differential-corpus-ops.test.js';
import '../../backend-cpu/test/differential-corpus-edges.test.js';
import '../../backend-cpu/test/differential-corpus-effects.test.js';
import {
  attempt, callSequence, checkedPrograms, compareAliasing, compareOutcome, compareTree, eagerCall, type Outcome, type Program,
} from '../../backend-cpu/test/differential-support.js';
import { noDevice, readBack, suiteDone, suiteStarted } from './support.js';

const Corpus = suite('backend-webgpu: the differential corpus against eager');
suiteStarted();
Corpus.after(suiteDone);

const gpuCompiler = new Compiler().use(webgpuBackendPlugin);

/**
 * Programs whose webgpu result differs from eager today (real bugs, reported to the coordinator), left out
 * so the rest of the corpus guards against regressions: none. Add a name only with the bug's reason.
 */
const KNOWN_DIFFERENT = new Set<string>([]);

/** The CPU harness's `differences`, for one configuration, with device results read back before comparing. */
async function gpuDifferences(program: Program<any>): Promise<string[]> {
  const found: string[] = [];
  const eagerWorld = program.world();
  const compiledWorld = program.world();
  const compiled = compileWith(compiledWorld.fn, { compiler: gpuCompiler }, new CompileRecorder());
  const tol = program.tol ?? 1e-5;
  for (const [i, shape] of callSequence(program).entries()) {
    const { eagerArgs, compiledArgs, want } = eagerCall(program, eagerWorld, compiledWorld, shape, i);
    const raw = attempt(() => compiled.apply(compiledWorld.thisArg, compiledArgs));
    // A program that launched returns device tensors at once; a failure found while it runs on the device
    // (a gather index out of range) rejects the readback instead of throwing at the call, as with any
    // asynchronous device (CUDA in PyTorch). The corpus counts it as the call's error.
    const got: Outcome = raw.ok ? await readBack(raw.value).then((value) => ({ ok: true, value }), (error) => ({ ok: false, error })) : raw;
    const diff = [
      ...compareOutcome(got, want, tol, program.errorsDiffer !== undefined),
      ...compareTree(await readBack(compiledArgs), eagerArgs, 'arguments after the call', tol),
      ...compareTree(await readBack(compiledWorld.observe?.()), eagerWorld.observe?.(), 'outside state', tol),
      ...(raw.ok && want.ok ? compareAliasing([raw.value, compiledArgs], [want.value, eagerArgs]) : []),
    ];
    for (const d of diff) found.push(`call ${i} (${JSON.stringify(shape)}): ${d}`);
  }
  return found;
}

const test = noDevice ? Corpus.skip : Corpus;

test('every corpus program compiled for webgpu equals eager', async () => {
  await gpuCompiler.ready();
  assert.ok(checkedPrograms.length >= 60, `the corpus recorded ${checkedPrograms.length} programs`);
  const failures: string[] = [];
  for (const { name, program } of checkedPrograms) {
    if (KNOWN_DIFFERENT.has(name)) continue;
    const t0 = performance.now();
    const found = await gpuDifferences(program).catch((error: Error) => [`the harness threw ${error.stack}`]);
    if (process.env.KILN_GPU_TIMES) console.log(`${(performance.now() - t0).toFixed(0)}ms ${name}`);
    if (found.length > 0) failures.push(`${name}:\n    ${found.slice(0, 4).join('\n    ')}`);
  }
  if (failures.length > 0) assert.unreachable(`${failures.length} program(s) differ on webgpu:\n  ${failures.join('\n  ')}`);
});

Corpus.run();
