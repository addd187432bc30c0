// @kiln/plugin-report: a self-contained HTML compile report of the user's program, as tlparse gives for
// PyTorch 2. Load it from the config (`plugins: ['@kiln/plugin-report']`) or apply it inline
// (`compiler.use(reportPlugin({ output }))`); the page is written when the process exits (when anything was
// compiled) and on writeReport().
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { KilnConfigError, atProcessEnd, plural } from '@kiln/core';
import type { Compiler, KilnPlugin } from '@kiln/core';
import { CompileCollector } from './collect.js';
import type { CompileRecord } from './collect.js';
import { renderPage, reportCounts } from './html/page.js';

export interface ReportOptions {
  /** The report's path, relative to the working directory (default `kiln-report/index.html`). */
  readonly output?: string;
  /** Write the report when the process exits (default true). */
  readonly writeOnExit?: boolean;
  /** The page's heading (default `Kiln compile report`). */
  readonly title?: string;
}

export const DEFAULT_OUTPUT = 'kiln-report/index.html';
const OPTION_KEYS = ['output', 'writeOnExit', 'title'] as const;
const WHERE = '@kiln/plugin-report options';

function checkOptions(options: unknown): ReportOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new KilnConfigError(WHERE, '<root>', `must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, "e.g. reportPlugin({ output: 'kiln-report/index.html' })");
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw new KilnConfigError(WHERE, key, 'unknown option', `known options: ${OPTION_KEYS.join(', ')}`);
  }
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output === '')) throw new KilnConfigError(WHERE, 'output', `must be a file path (a non-empty string), got ${JSON.stringify(o.output)}`, `the default is '${DEFAULT_OUTPUT}'`);
  if (o.writeOnExit !== undefined && typeof o.writeOnExit !== 'boolean') throw new KilnConfigError(WHERE, 'writeOnExit', `must be true or false, got ${JSON.stringify(o.writeOnExit)}`);
  if (o.title !== undefined && typeof o.title !== 'string') throw new KilnConfigError(WHERE, 'title', `must be a string, got ${JSON.stringify(o.title)}`);
  return o as ReportOptions;
}

/** Every report applied in this process, for writeReport(). */
const liveReports = new Set<CompileReport>();

/** The plugin object: collects from every compiler it is applied to; `write()` renders and saves the page. */
export class CompileReport implements KilnPlugin {
  readonly name = '@kiln/plugin-report';
  /** Absolute path of the report file. */
  readonly output: string;
  private readonly collector = new CompileCollector();
  private readonly options: ReportOptions;
  private exitHandler: (() => void) | undefined;

  constructor(options?: ReportOptions) {
    this.options = checkOptions(options);
    this.output = resolve(this.options.output ?? DEFAULT_OUTPUT);
  }

  apply(compiler: Compiler): void {
    this.collector.attach(compiler);
    liveReports.add(this);
    if (this.options.writeOnExit !== false && !this.exitHandler) {
      // Also on Ctrl-C and SIGTERM: a run stopped that way still leaves its report.
      this.exitHandler = () => this.writeAtExit();
      atProcessEnd(this.exitHandler);
    }
  }

  /** What was compiled so far, one record per `[frame/compile]`, in compile order. */
  get records(): readonly CompileRecord[] {
    return [...this.collector.records.values()];
  }

  /** The report page as HTML. */
  html(): string {
    return renderPage(this.records, {
      title: this.options.title ?? 'Kiln compile report',
      command: `${process.argv.slice(1).map((a) => relative(process.cwd(), a) || a).join(' ')} (node ${process.version}, ${new Date().toISOString()})`,
      cwd: process.cwd(),
    }, this.collector.exported);
  }

  /** Writes the page to `output` (folders made as needed); returns the path. */
  write(): string {
    mkdirSync(dirname(this.output), { recursive: true });
    writeFileSync(this.output, this.html());
    return this.output;
  }

  private writeAtExit(): void {
    // A process that compiled nothing (`kiln audit`, a mistyped `kiln run`) leaves the last real report alone.
    if (this.collector.records.size === 0 && this.collector.exported.length === 0) {
      process.stderr.write(`[kiln] compile report: nothing was compiled, ${relative(process.cwd(), this.output)} not written\n`);
      return;
    }
    try {
      const path = this.write();
      const c = reportCounts(this.records);
      process.stderr.write(`[kiln] compile report: ${relative(process.cwd(), path)} (${plural(c.compiles, 'compile')}, ${plural(c.graphBreaks, 'graph break')}, ${plural(c.recompiles, 'recompile')})\n`);
    } catch (err) {
      // Exit handlers must not throw: say what failed and let the process end as it was going to.
      process.stderr.write(`[kiln] compile report: cannot write ${this.output}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

/** The plugin, for `compiler.use(reportPlugin({ output }))` or an inline entry in a config's plugins. */
export function reportPlugin(options?: ReportOptions): CompileReport {
  return new CompileReport(options);
}

/** Writes every report plugin applied in this process now (besides at exit); returns their paths. */
export function writeReport(): string[] {
  return [...liveReports].map((r) => r.write());
}

export { escapeXml } from './escape.js';
export { snapshotGraph } from './picture/snapshot.js';
export type { GraphPicture, PictureNode } from './picture/snapshot.js';
export { layoutPicture } from './picture/layout.js';
export type { PictureLayout } from './picture/layout.js';
export { renderGraphSvg } from './picture/svg.js';
export type { CompileRecord, ExportRecord } from './collect.js';
export type { StackFrame } from './stack.js';

export default reportPlugin;
