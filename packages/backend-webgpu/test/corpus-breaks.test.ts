// The graph-break corpus of @kiln/core replayed on the WebGPU backend against eager: every program that the
// corpus checks with `check` (breaks in switch/try/loops/closures, resumed frames, nested and skipped
// callees, method calls) runs again through a compiler that loads the WebGPU plugin, so each graph between
// breaks becomes WGSL kernels and the values crossing a break are device tensors. Importing the corpus files
// runs their CPU suites first (in the full test run they run once either way) and records the programs.
// Left out: breaks-collections and breaks-effects (they compare effect logs with their own harness, nothing
// device-specific) and breaks-fuzz (random programs; its seeds already run on the CPU, and dozens of fresh
// programs would each pay lavapipe's first-compile cost, past this file's time budget).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Compiler, CompileRecorder, compileWith } from '@kiln/core';
import { webgpuBackendPlugin } from '@kiln/backend-webgpu';
import '../../core/test/breaks-corpus.test.js';
import '../../core/test/breaks-resume.test.js';
import '../../core/test/breaks-nested.test.js';
import '../../core/test/breaks-skipped-callees.test.js';
import '../../core/test/breaks-methods.test.js';
import '../../core/test/breaks-callees.test.js';
import { assertSameValue, checkedCalls } from '../../core/test/support/tracer.js';
import { noDevice, readBack, suiteDone, suiteStarted } from './support.js';

const Breaks = suite('backend-webgpu: the graph-break corpus against eager');
suiteStarted();
Breaks.after(suiteDone);
const test = noDevice ? Breaks.skip : Breaks;
const gpuCompiler = new Compiler().use(webgpuBackendPlugin);

test('every graph-break program compiled for webgpu equals eager', async () => {
  await gpuCompiler.ready();
  assert.ok(checkedCalls.length >= 30, `the corpus recorded ${checkedCalls.length} programs`);
  const failures: string[] = [];
  for (const [n, { fn, calls, expected }] of checkedCalls.entries()) {
    const compiled = compileWith(fn, { ...expected.options, compiler: gpuCompiler }, new CompileRecorder());
    for (const [i, args] of calls.entries()) {
      const where = `program #${n} (${fn.toString().slice(0, 60).replace(/\s+/g, ' ')}…), call ${i}`;
      let want: unknown;
      let eagerThrew = false;
      try {
        want = fn(...args);
      } catch {
        eagerThrew = true;
      }
      try {
        const got = await readBack(compiled(...args));
        if (eagerThrew) failures.push(`${where}: eager threw, compiled returned`);
        else assertSameValue(got, want);
      } catch (error) {
        if (!eagerThrew) failures.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (failures.length > 0) assert.unreachable(`${failures.length} call(s) differ on webgpu:\n  ${failures.join('\n  ')}`);
});

Breaks.run();
