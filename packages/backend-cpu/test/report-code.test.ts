// The CPU report's `code` (the lowered program as text) is printed when something reads it (explain, the
// report plugin, KILN_LOGS, a persistent cache's saved report), not by every compile: a plain compile never
// reads it, and the printer's first run in a fresh process is about a millisecond of the first call.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { explain } from '@kiln/core';
import { traceOps } from '@kiln/graph';
import { printProgram } from '@kiln/lower';
import { compileGraphForCpu } from '@kiln/backend-cpu';

const ReportCode = suite('CPU report: the lowered program printed on read');

k.manualSeed(3);
const fn = (x: k.Tensor) => x.softmax(-1).mul(2);
const x = k.randn([4, 24]);

ReportCode('a compile leaves `code` unprinted; reading it prints the program once, the same text as printProgram', () => {
  const compiled = compileGraphForCpu(traceOps(fn, [x]).coreGraph);
  const descriptor = Object.getOwnPropertyDescriptor(compiled.report, 'code')!;
  assert.type(descriptor.get, 'function', 'a getter, not a string made at compile time');
  assert.ok(descriptor.enumerable, 'still listed with the report (spread, JSON)');
  const text = compiled.report.code!;
  assert.is(text, printProgram(compiled.runner!.program));
  assert.ok(compiled.report.code === text, 'printed once');
  assert.is({ ...compiled.report }.code, text, 'a spread copy (a persistent cache saves one) holds the text');
  assert.match(JSON.stringify(compiled.report), /"code":"/);
});

ReportCode('explain still shows each program', () => {
  const report = explain(fn)(x);
  assert.match(report.backends[0]!.code ?? '', /reduce/);
});

ReportCode.run();
