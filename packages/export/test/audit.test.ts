// The audit lists which core ops have an ONNX mapping: @kiln/export as a config plugin adds an `onnx`
// coverage column, whose missing ops are the ones toOnnx refuses.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Compiler } from '@kiln/core';
import { formatMarkdown, runAudit } from '@kiln/policy';
import { ONNX_MAPPED_OPS, exportPlugin } from '@kiln/export';

const Audit = suite('export: the ONNX column of the policy audit');

Audit('the plugin adds the onnx table; the audit counts mapped ops and names the missing ones with what that means', () => {
  const tables = new Compiler().use(exportPlugin).hooks.auditTables.call([]);
  assert.equal(tables.map((t) => t.name), ['onnx']);
  const report = runAudit({ backends: tables });
  const onnx = report.backends.find((b) => b.backend === 'onnx')!;
  assert.ok(onnx.lowered >= 80, `${onnx.lowered} ops mapped`);
  assert.ok(onnx.missing.includes('randn'));
  assert.not.ok(onnx.missing.includes('atan2'));
  for (const op of ['matmul', 'softmax', 'layerNorm', 'gelu', 'where', 'arange']) assert.not.ok(onnx.missing.includes(op), `${op} (directly or through its decomposition)`);
  assert.ok(ONNX_MAPPED_OPS.includes('matmul'));
  assert.match(formatMarkdown(report), /\| onnx \| \d+\/\d+ \| .*no ONNX mapping: toOnnx raises OnnxExportError naming the op: .*randn/);
});

Audit.run();
