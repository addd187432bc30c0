// One `[frame/compile]` of the report: why it compiled, its breaks, timings, the API and core graphs as
// pictures and text, its guards with their source lines, what the backend made and ran eagerly.
import type { BreakRecord } from '@kiln/core';
import type { BackendReport } from '@kiln/lower';
import type { CompileRecord } from '../collect.js';
import { anchorId, escapeXml } from '../escape.js';
import { EAGER_FILL, NODE_FILL, renderGraphSvg } from '../picture/svg.js';
import type { GraphPicture } from '../picture/snapshot.js';
import type { SourceLines } from '../source-lines.js';
import { clipLines, details, html, mark, ms, pre, table } from './elements.js';

/** Larger graphs are listed as text only: a picture of them would be too big to read or to lay out quickly. */
export const MAX_PICTURE_NODES = 400;
const MAX_CODE_LINES = 3000;

const where = (loc: BreakRecord['location']): string => (loc ? `${loc.file}:${loc.line}` : 'unknown');

/** How the compile ended, as a plain-text mark and a sentence. */
export function outcome(r: CompileRecord): { mark: string; text: string } {
  const info = r.info;
  if (!info) return { mark: mark('SKIPPED', 'bad'), text: `never traced: ${r.breaks[0]?.reason ?? 'no entry was made'}` };
  if (info.kind === 'eager' && info.noOps) return { mark: mark('EAGER', 'info'), text: 'no tensor ops: nothing to compile, the frame runs eagerly under these guards' };
  if (info.kind === 'eager') return { mark: mark('EAGER', 'bad'), text: 'graph break: the frame runs eagerly under these guards' };
  if (info.kind === 'split') return { mark: mark('SPLIT', 'warn'), text: 'graph before a break; a resume function continues after it' };
  return { mark: mark('OK', 'ok'), text: 'the whole frame compiled to one graph' };
}

export function pictureBlock(title: string, picture: GraphPicture | undefined, text: string | undefined, tag: string): string {
  if (!picture && !text) return '';
  const kinds = picture ? [...new Set(picture.nodes.map((n) => n.kind))] : [];
  const eager = picture?.nodes.some((n) => n.eager) ? `<span style="background:${EAGER_FILL}">eager step</span>` : '';
  const legend = `<div class="legend">${kinds.map((k) => `<span style="background:${NODE_FILL[k]}">${escapeXml(k === 'placeholder' ? 'input' : k)}</span>`).join('')}${eager}</div>`;
  const drawing = !picture
    ? ''
    : picture.nodes.length > MAX_PICTURE_NODES
      ? `<p>${escapeXml(`${picture.nodes.length} nodes: too many to draw; the text follows.`)}</p>`
      : `<div class="picture">${renderGraphSvg(picture, `${title} of ${tag}`)}</div>${legend}`;
  return `<h3>${escapeXml(title)}</h3>${drawing}${text ? details(`${title} as text`, pre(text)) : ''}`;
}

function breaksBlock(r: CompileRecord, lines: SourceLines): string {
  if (!r.breaks.length) return '';
  const rows = r.breaks.map((b) => [
    b.reason,
    html(`<span class="mono">${escapeXml(where(b.location))}</span>${sourceLine(lines, b.location ? where(b.location) : undefined)}`),
    b.hint ?? 'move this code out of the compiled function, or after its last tensor operation',
    b.resumed
      ? `runs ${b.resumed.eager} (line ${b.resumed.line ?? '?'}) eagerly; ${b.resumed.resumes.length ? `resumes in ${b.resumed.resumes.join(', ')}` : 'nothing follows it'}`
      : 'the whole frame runs eagerly',
  ]);
  return `<h3>Graph breaks</h3>${table(['reason', 'where', 'hint', 'what runs'], rows, [34, 22, 24])}`;
}

const sourceLine = (lines: SourceLines, location: string | undefined): string => {
  const text = lines.lineAt(location);
  return text ? `<pre class="source">${escapeXml(text)}</pre>` : '';
};

function timingsBlock(r: CompileRecord): string {
  const info = r.info;
  if (!info) return '';
  const phases = Object.entries(info.phasesMs ?? {});
  const accounted = phases.reduce((s, [, v]) => s + v, 0);
  const rest = info.compileMs - accounted;
  const cols = [...phases.map(([k]) => k), ...(rest > 0.05 && phases.length ? ['other'] : []), 'total'];
  const values = [...phases.map(([, v]) => ms(v)), ...(rest > 0.05 && phases.length ? [ms(rest)] : []), ms(info.compileMs)];
  return `<h3>Compile time (ms)</h3>${table(cols, [values])}`;
}

function guardsBlock(r: CompileRecord, lines: SourceLines): string {
  const guards = r.info?.guards ?? [];
  if (!guards.length) return '';
  const rows = guards.map((g, i) => [String(i + 1), html(`<span class="mono">${escapeXml(g.text)}</span>`), g.location ?? '', html(sourceLine(lines, g.location))]);
  return `<h3>Guards (${guards.length})</h3>${table(['#', 'guard', 'from', 'source line'], rows, [4, 46, 14])}`;
}

function backendBlock(r: CompileRecord): string {
  const b = r.backendReport;
  if (!b) return '';
  const fusions = Object.entries(b.fusions ?? {}).map(([rule, n]) => `${rule} x${n}`).join(', ');
  const facts = [`backend ${b.backend}: ${b.kernels} kernel${b.kernels === 1 ? '' : 's'}`, fusions && `fusion rules: ${fusions}`].filter(Boolean).join('; ');
  let out = `<h3>Backend</h3><p>${escapeXml(facts)}</p>`;
  if (b.wholeGraphFallback) out += `<p>${mark('INTERPRETED', 'bad')} ${escapeXml(`not lowered, the interpreter runs the graph: ${b.wholeGraphFallback}`)}</p>`;
  if (b.eagerSteps.length) {
    out += `<h3>Eager steps (${b.eagerSteps.length})</h3>${table(['node', 'op', 'reason'], b.eagerSteps.map((s) => [s.node ? `%${s.node}` : '', s.op, s.reason]), [12, 18])}`;
  } else out += `<p>${mark('NO EAGER STEPS', 'ok')} every node runs in generated kernels</p>`;
  out += stepTimesBlock(b);
  if (b.code) out += details('Lowered program (loop IR)', pre(clipLines(b.code, MAX_CODE_LINES)));
  const generated = b.generatedCode?.();
  if (generated) out += details(b.backend === 'webgpu' ? 'Generated kernels (WGSL)' : 'Generated kernels (wasm)', pre(clipLines(generated, MAX_CODE_LINES)));
  return out;
}

/** Per-step times, when a profiler (@kiln/plugin-profile) asked the backend to time the program's steps. */
function stepTimesBlock(b: BackendReport): string {
  const steps = (b.stepTimes?.() ?? []).filter((s) => s.calls > 0);
  if (!steps.length) return '';
  const total = steps.reduce((sum, s) => sum + s.ms, 0) || 1;
  const rows = [...steps].sort((x, y) => y.ms - x.ms).map((s) => [s.name, s.kind, s.ops.join(', '), String(s.calls), ms(s.ms), (s.ms / s.calls).toFixed(3), `${((100 * s.ms) / total).toFixed(1)}%`]);
  return `<h3>Step times (profiler)</h3>${table(['step', 'kind', 'ops', 'calls', 'total ms', 'mean ms', 'share'], rows, [16, 8, 30, 8, 10, 10])}`;
}

export function compileSection(r: CompileRecord, lines: SourceLines): string {
  const { mark: m, text } = outcome(r);
  const reason = r.info?.recompileReason;
  return `<section class="compile" id="${anchorId('frame', r.tag)}">
<h2>${escapeXml(`${r.tag} ${r.name}`)} <span class="meta mono">${escapeXml(r.location)}</span></h2>
<p>${m} ${escapeXml(text)}</p>
${reason ? `<p>${mark('RECOMPILE', 'info')} ${escapeXml(`because the previous entry's guard failed: ${reason}`)}</p>` : ''}
${breaksBlock(r, lines)}
${timingsBlock(r)}
${pictureBlock('API graph', r.apiPicture, r.info?.apiGraphText, r.tag)}
${pictureBlock('Core graph', r.corePicture, r.coreGraphText, r.tag)}
${guardsBlock(r, lines)}
${backendBlock(r)}
</section>`;
}
