import type { AuditReport, FunctionRow } from '../types.js';
import { groupedMissing } from './missing.js';

const ICON = { pass: '✅', warn: '⚠️', fail: '❌' } as const;
const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|');
const yesNo = (b: boolean | undefined) => (b === undefined ? '' : b ? 'yes' : 'no');

export function summaryLine(report: AuditReport): string {
  const s = report.summary;
  const pct = s.apiFunctions ? ((100 * s.classified) / s.apiFunctions).toFixed(1) : '100.0';
  return `${report.passed ? 'PASS' : 'FAIL'}: ${s.classified}/${s.apiFunctions} public tensor functions classified (${pct}%), ${s.allowlisted} allowed in the graph; ${s.failures} ${s.failures === 1 ? 'failure' : 'failures'}, ${s.warnings} ${s.warnings === 1 ? 'warning' : 'warnings'}`;
}

/** The Markdown report: summary and checks first (what a PR reviewer needs), then the full tables. */
export function formatMarkdown(report: AuditReport, options: { full?: boolean } = {}): string {
  const full = options.full ?? true;
  const out: string[] = ['# Kiln policy audit', '', `**${summaryLine(report)}**`, '', '| check | status | findings |', '|---|---|---|'];
  for (const c of report.checks) out.push(`| ${cell(c.title)} | ${ICON[c.status]} ${c.status} | ${c.findings.length} |`);
  for (const c of report.checks) {
    const shown = c.findings.filter((f) => f.severity !== 'info' || full);
    if (!shown.length) continue;
    out.push('', `## ${c.title}`, '');
    for (const f of shown) out.push(`- ${f.severity === 'fail' ? '❌' : f.severity === 'warn' ? '⚠️' : 'ℹ️'} ${f.message.replace(/\n\s*/g, ' ')}`);
  }
  if (report.backends.length) {
    out.push('', '## Backend coverage', '', '| backend | lowered | missing |', '|---|---|---|');
    for (const b of report.backends) out.push(`| ${b.backend} | ${b.lowered}/${b.total} | ${cell(groupedMissing(b.missing, b.missingMeans))} |`);
    const overrides = report.backends.flatMap((b) => b.overrides.map((o) => ({ ...o, backend: b.backend })));
    if (overrides.length) {
      out.push('', 'Lowerings plugins override (the lowerOp hook):', '', '| backend | op | plugin | lowering |', '|---|---|---|---|');
      for (const o of overrides) out.push(`| ${o.backend} | \`${cell(o.op)}\` | ${cell(o.plugin)} | ${o.lowering === 'rule' ? "the plugin's rule" : 'eager kernel'} |`);
    }
  } else {
    out.push('', '_No backend lowering tables were given: backend coverage is empty._');
  }
  if (full) {
    out.push('', '## Public tensor API', '', '| function | decision | op | category | meta | decomposition | derivative | fake tensors | purity | core ops | backends | rule |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const f of report.functions) out.push(functionLine(f));
    out.push('', '## Math', '', '| function | decision | constant-fold | SymInt | purity |', '|---|---|---|---|---|');
    for (const m of report.math) out.push(`| ${m.name} | ${m.kind} | ${yesNo(m.constantFold)} | ${yesNo(m.symInt)} | ${m.purity ?? ''} |`);
  }
  return out.join('\n') + '\n';
}

function functionLine(f: FunctionRow): string {
  const backends = Object.entries(f.backends ?? {}).map(([b, how]) => `${b}:${how}`).join(' ');
  return `| \`${cell(f.name)}\` | ${f.kind} | ${cell(f.op)} | ${cell(f.category)} | ${yesNo(f.hasMeta)} | ${yesNo(f.hasDecomposition)} | ${cell(f.derivative)} | ${cell(f.fake)} | ${cell(f.purity)} | ${cell(f.coreOps?.join(' '))} | ${cell(backends)} | ${cell(f.rule)} |`;
}
