import { summaryLine } from './markdown.js';
import { groupedMissing } from './missing.js';
import type { AuditReport } from '../types.js';

const escapeHtml = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const yesNo = (b: boolean | undefined) => (b === undefined ? '' : b ? 'yes' : 'no');

// Sorting is a few lines of plain DOM code: the page stays self-contained (no CDN, no build step), and the
// script reads only the table's own cells, never report data spliced into code.
const SORT_SCRIPT = `
for (const table of document.querySelectorAll('table.sortable')) {
  const headers = table.querySelectorAll('th');
  headers.forEach((th, col) => th.addEventListener('click', () => {
    const body = table.tBodies[0];
    const asc = th.dataset.dir !== 'asc';
    headers.forEach((h) => { delete h.dataset.dir; });
    th.dataset.dir = asc ? 'asc' : 'desc';
    const rows = [...body.rows];
    rows.sort((a, b) => {
      const x = a.cells[col].textContent, y = b.cells[col].textContent;
      const nx = Number(x), ny = Number(y);
      const c = x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    body.append(...rows);
  }));
}
`;

// Fits a 1400 px window: tables take the page's width with fixed column widths and wrap long cells instead
// of widening. Status marks are words (PASS, WARN, FAIL): emoji render as empty boxes where no emoji font is
// installed (headless browsers, CI machines).
const STYLE = `
* { box-sizing: border-box; }
body { font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; margin: 0 auto; padding: 1em 20px; max-width: 1400px; color: #222; overflow-wrap: anywhere; }
.summary { padding: 1em; border-radius: 6px; margin-bottom: 1.5em; font-size: 1.1em; }
.pass { background: #e6f4ea; } .fail { background: #fce8e6; } .warn { background: #fef7e0; }
.mark { display: inline-block; min-width: 3.6em; text-align: center; padding: 0 6px; border-radius: 3px; font-size: 12px; font-weight: bold; }
.mark.pass { color: #0b6e2e; } .mark.warn { color: #8a5a00; } .mark.fail { color: #b00020; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; table-layout: fixed; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: #f3f3f3; cursor: pointer; user-select: none; overflow-wrap: break-word; }
th[data-dir=asc]::after { content: ' (asc)'; } th[data-dir=desc]::after { content: ' (desc)'; }
td.kind-allowInGraph { color: #0b6e2e; } td.kind-skip { color: #8a5a00; } td.kind-unclassified { color: #b00020; font-weight: bold; }
code { font-size: 0.95em; }
`;

const STATUS_MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** A sortable table; `widths` in percent per column (the others share what is left). */
function table(headers: readonly string[], rows: readonly (readonly string[])[], classes: readonly (readonly string[])[] = [], widths: readonly number[] = []): string {
  const cols = headers.map((_, i) => (widths[i] ? `<col style="width:${widths[i]}%">` : '<col>')).join('');
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r, i) => `<tr>${r.map((c, j) => `<td${classes[i]?.[j] ? ` class="${classes[i]![j]}"` : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="sortable"><colgroup>${cols}</colgroup><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A self-contained page: summary at the top, the checks with their findings, then sortable tables. */
export function formatHtml(report: AuditReport): string {
  const status = report.passed ? (report.summary.warnings ? 'warn' : 'pass') : 'fail';
  const checks = report.checks
    .map((c) => {
      const items = c.findings.map((f) => `<li class="${f.severity === 'info' ? '' : f.severity}">${escapeHtml(f.message)}</li>`).join('');
      return `<h3><span class="mark ${c.status}">${STATUS_MARK[c.status]}</span> ${escapeHtml(c.title)}</h3>${items ? `<ul>${items}</ul>` : ''}`;
    })
    .join('\n');
  const fnTable = table(
    ['function', 'decision', 'op', 'category', 'meta', 'decomposition', 'derivative', 'fake tensors', 'purity', 'core ops', 'backends', 'rule'],
    report.functions.map((f) => [
      f.name, f.kind, f.op ?? '', f.category ?? '', yesNo(f.hasMeta), yesNo(f.hasDecomposition), f.derivative ?? '', f.fake ?? '', f.purity ?? '',
      f.coreOps?.join(' ') ?? '', Object.entries(f.backends ?? {}).map(([b, how]) => `${b}:${how}`).join(' '), f.rule,
    ]),
    report.functions.map((f) => ['', `kind-${f.kind}`]),
    [15, 6, 6, 6, 4, 9, 7, 6, 6, 9, 9],
  );
  const mathTable = table(
    ['function', 'decision', 'constant-fold', 'SymInt', 'purity'],
    report.math.map((m) => [m.name, m.kind, yesNo(m.constantFold), yesNo(m.symInt), m.purity ?? '']),
  );
  const backendTable = report.backends.length
    ? table(['backend', 'lowered', 'total', 'missing', 'plugin overrides (lowerOp hook)'], report.backends.map((b) => [
      b.backend, String(b.lowered), String(b.total), groupedMissing(b.missing, b.missingMeans),
      b.overrides.map((o) => `${o.op} (${o.plugin}: ${o.lowering === 'rule' ? 'its rule' : 'eager kernel'})`).join(', '),
    ]), [], [10, 7, 7, 52])
    : '<p><em>No backend lowering tables were given: backend coverage is empty.</em></p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln policy audit</title><style>${STYLE}</style></head>
<body>
<h1>Kiln policy audit</h1>
<div class="summary ${status}">${escapeHtml(summaryLine(report))}</div>
<h2>Checks</h2>
${checks}
<h2>Backend coverage</h2>
${backendTable}
<h2>Public tensor API</h2>
${fnTable}
<h2>Math</h2>
${mathTable}
<script>${SORT_SCRIPT}</script>
</body></html>
`;
}
