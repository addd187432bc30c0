// The whole report page: a summary table of every compile, the stack trie of where compiles were
// triggered, then one section per `[frame/compile]`. Self-contained: inline CSS and SVG, no script.
import { isAbsolute, relative } from 'node:path';
import type { CompileRecord, ExportRecord } from '../collect.js';
import { anchorId, escapeXml } from '../escape.js';
import { SourceLines } from '../source-lines.js';
import { buildStackTrie } from '../stack.js';
import type { StackTrieNode } from '../stack.js';
import { compileSection, outcome } from './compile-section.js';
import { exportSection } from './export-section.js';
import { STYLE, html, ms, table } from './elements.js';

const opCount = (r: CompileRecord): number => r.apiPicture?.nodes.filter((n) => n.kind === 'call').length ?? 0;

function summaryTable(records: readonly CompileRecord[]): string {
  const rows = records.map((r) => [
    html(`<a href="#${anchorId('frame', r.tag)}">${escapeXml(r.tag)}</a>`),
    r.name,
    r.location,
    html(outcome(r).mark),
    String(opCount(r)),
    String(r.backendReport?.kernels ?? ''),
    String(r.backendReport?.eagerSteps.length ?? ''),
    String(r.breaks.length || ''),
    r.info?.recompileReason ?? '',
    ms(r.info?.compileMs),
  ]);
  return table(['compile', 'function', 'defined at', 'result', 'ops', 'kernels', 'eager steps', 'breaks', 'recompile reason', 'ms'], rows, [6, 12, 12, 7, 5, 6, 7, 6, 30]);
}

function trieList(node: StackTrieNode, cwd: string): string {
  const items = node.children.map((child) => {
    const f = child.frame!;
    // Paths inside the working directory are shown relative to it, others in full.
    const rel = isAbsolute(f.file) ? relative(cwd, f.file) : f.file;
    const file = rel.startsWith('..') ? f.file : rel;
    const links = child.compiles.map((tag) => `<a href="#${anchorId('frame', tag)}">${escapeXml(tag)}</a>`).join(' ');
    return `<li><span class="mono" title="${escapeXml(f.file)}">${escapeXml(`${f.fn} (${file}:${f.line})`)}</span>${links ? ` compiles ${links}` : ''}${trieList(child, cwd)}</li>`;
  });
  const own = node.frame === undefined && node.compiles.length
    ? [`<li>${escapeXml('(no user frame on the stack)')} ${node.compiles.map((tag) => `<a href="#${anchorId('frame', tag)}">${escapeXml(tag)}</a>`).join(' ')}</li>`]
    : [];
  return items.length || own.length ? `<ul class="trie">${[...own, ...items].join('')}</ul>` : '';
}

export interface PageInfo {
  readonly title: string;
  readonly command: string;
  readonly cwd: string;
}

/** Counts shown at the top (and returned by writeReport for a one-line message). */
export function reportCounts(records: readonly CompileRecord[]) {
  return {
    compiles: records.length,
    frames: new Set(records.map((r) => r.tag.replace(/^\[(\d+)\/.*$/, '$1'))).size,
    graphBreaks: records.reduce((s, r) => s + r.breaks.length, 0),
    recompiles: records.filter((r) => r.info?.recompileReason).length,
    eagerSteps: records.reduce((s, r) => s + (r.backendReport?.eagerSteps.length ?? 0), 0),
  };
}

export function renderPage(records: readonly CompileRecord[], info: PageInfo, exported: readonly ExportRecord[] = []): string {
  const lines = new SourceLines();
  for (const r of records) {
    for (const path of r.sourcePaths.values()) lines.addPath(path);
    for (const f of r.stack) lines.addPath(f.file);
  }
  const c = reportCounts(records);
  const totalMs = records.reduce((s, r) => s + (r.info?.compileMs ?? 0), 0);
  const summary = `${exported.length ? `${exported.length} exported program${exported.length === 1 ? '' : 's'}, ` : ''}${c.compiles} compile${c.compiles === 1 ? '' : 's'} of ${c.frames} frame${c.frames === 1 ? '' : 's'}, ${c.graphBreaks} graph break${c.graphBreaks === 1 ? '' : 's'}, ${c.recompiles} recompile${c.recompiles === 1 ? '' : 's'}, ${c.eagerSteps} eager step${c.eagerSteps === 1 ? '' : 's'}, ${totalMs.toFixed(1)} ms compiling`;
  const compiles = records.length
    ? `<h2>Compiles</h2>${summaryTable(records)}
<h2>Stack trie</h2><p class="meta">Where each compile was triggered from in your program (outermost call first).</p>${trieList(buildStackTrie(records.map((r) => ({ stack: r.stack, tag: r.tag }))), info.cwd)}
${records.map((r) => compileSection(r, lines)).join('\n')}`
    : '<p>Nothing was compiled: no function wrapped by compile() was called while the report plugin listened.</p>';
  const programs = exported.length
    ? `<h2>Exported programs (${exported.length})</h2><ul>${exported.map((e, i) => `<li><a href="#${anchorId('export', String(i + 1))}">${escapeXml(e.info.name)}</a></li>`).join('')}</ul>
${exported.map((e, i) => exportSection(e, i)).join('\n')}`
    : '';
  const body = `${compiles}\n${programs}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeXml(info.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeXml(info.title)}</h1>
<p class="meta">${escapeXml(info.command)}</p>
<p class="summary">${escapeXml(summary)}</p>
${body}
</body></html>
`;
}
