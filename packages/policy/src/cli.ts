import { writeFileSync } from 'node:fs';
import type { AuditOptions } from './audit/audit.js';
import { runAudit } from './audit/audit.js';
import { formatHtml, formatJson, formatMarkdown, summaryLine } from './audit/report/index.js';

const USAGE = `usage: kiln audit [--format md|json|html] [--out FILE] [--full]
  Checks the policy tables against the live tensor API and writes a report.
  --format  md (default), json or html
  --out     write the report to FILE instead of stdout (prints the summary line)
  --full    in Markdown on stdout, include the per-function tables
Exit code 1 when a check fails, 2 on bad arguments.`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly writeFile: (path: string, text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  writeFile: (p, t) => writeFileSync(p, t),
};

/** `kiln audit`: returns the exit code (core's CLI and bin/kiln-audit.mjs both call this). */
export async function runAuditCli(argv: readonly string[], io: CliIo = defaultIo, options: AuditOptions = {}): Promise<number> {
  let format = 'md';
  let out: string | undefined;
  let full = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--format') format = value() ?? '';
    else if (flag === '--out') out = value();
    else if (flag === '--full') full = true;
    else if (flag === '--help' || flag === '-h') {
      io.stdout(USAGE + '\n');
      return 0;
    } else {
      io.stderr(`kiln audit: unknown argument '${a}'\n${USAGE}\n`);
      return 2;
    }
  }
  if (!['md', 'json', 'html'].includes(format)) {
    io.stderr(`kiln audit: --format must be md, json or html, got '${format}'\n`);
    return 2;
  }
  if (out === '') {
    io.stderr('kiln audit: --out needs a file name\n');
    return 2;
  }
  const report = runAudit(options);
  const text =
    format === 'json' ? formatJson(report) : format === 'html' ? formatHtml(report) : formatMarkdown(report, { full: full || out !== undefined });
  if (out !== undefined) {
    io.writeFile(out, text);
    io.stdout(`kiln audit: ${summaryLine(report)} — report written to ${out}\n`);
  } else {
    io.stdout(text);
  }
  return report.passed ? 0 : 1;
}
