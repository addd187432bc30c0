import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorModule from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { formatHtml, formatJson, formatMarkdown, runAudit, runAuditCli } from '../src/index.js';
import type { AuditReport } from '../src/index.js';

const passing = runAudit();
// A failing report: one planted unclassified export.
const failing = runAudit({
  sources: { tensorExports: { ...tensorModule, policyTestReportOnly: function policyTestReportOnly() {} }, tensorPrototype: Tensor.prototype, tensorClass: Tensor },
});

const formats = suite('audit report formats');

formats('Markdown: summary first, then checks; findings listed; full tables on request', () => {
  const md = formatMarkdown(failing, { full: false });
  const lines = md.split('\n');
  assert.is(lines[0], '# Kiln policy audit');
  assert.match(lines[2]!, /^\*\*FAIL: \d+\/\d+ public tensor functions classified \(\d+\.\d%\), \d+ allowed in the graph; 1 failure, 0 warnings\*\*$/);
  assert.match(md, /- ❌ unclassified: @kiln\/tensor#policyTestReportOnly is public/);
  assert.not.match(md, /## Public tensor API/);
  assert.match(formatMarkdown(passing), /## Public tensor API[\s\S]*\| `@kiln\/tensor#add` \| allowInGraph \| add \|/);
});

formats('JSON: the report object, round-trips', () => {
  const parsed = JSON.parse(formatJson(failing)) as AuditReport;
  assert.is(parsed.passed, false);
  assert.is(parsed.summary.failures, 1);
  assert.is(parsed.functions.length, failing.functions.length);
});

formats('HTML: self-contained, summary at the top, sortable tables, escaped text', () => {
  const html = formatHtml(failing);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.not.match(html, /<script src|<link /);
  assert.ok(html.indexOf('class="summary fail"') < html.indexOf('<h2>Checks</h2>'));
  assert.match(html, /<table class="sortable">/);
  assert.match(html, /addEventListener\('click'/);
  const evil = runAudit({ sources: { tensorExports: { ...tensorModule, ['x<img>']: () => 0 }, tensorPrototype: Tensor.prototype, tensorClass: Tensor } });
  const out = formatHtml(evil);
  assert.not.match(out, /x<img>/);
  assert.match(out, /x&lt;img&gt;/);
});

formats.run();

const cli = suite('kiln audit CLI');

function capture() {
  const io = { out: '', err: '', files: {} as Record<string, string> };
  return {
    io,
    sink: { stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t), writeFile: (p: string, t: string) => void (io.files[p] = t) },
  };
}

cli('exit code 0 when every check passes, 1 when one fails', async () => {
  const a = capture();
  assert.is(await runAuditCli([], a.sink), 0);
  assert.match(a.io.out, /\*\*PASS: /);
  const b = capture();
  const code = await runAuditCli([], b.sink, { sources: { tensorExports: { ...tensorModule, policyTestCli: () => 0 }, tensorPrototype: Tensor.prototype, tensorClass: Tensor } });
  assert.is(code, 1);
  assert.match(b.io.out, /\*\*FAIL: /);
});

cli('--format and --out', async () => {
  const c = capture();
  assert.is(await runAuditCli(['--format', 'json', '--out', 'report.json'], c.sink), 0);
  assert.is((JSON.parse(c.io.files['report.json']!) as AuditReport).passed, true);
  assert.match(c.io.out, /^kiln audit: PASS: .* — report written to report\.json\n$/);
  const h = capture();
  assert.is(await runAuditCli(['--format=html'], h.sink), 0);
  assert.ok(h.io.out.startsWith('<!doctype html>'));
});

cli('bad arguments: exit code 2 with usage', async () => {
  const c = capture();
  assert.is(await runAuditCli(['--format', 'pdf'], c.sink), 2);
  assert.match(c.io.err, /--format must be md, json or html, got 'pdf'/);
  const d = capture();
  assert.is(await runAuditCli(['--frobnicate'], d.sink), 2);
  assert.match(d.io.err, /unknown argument '--frobnicate'[\s\S]*usage: kiln audit/);
});

cli.run();
