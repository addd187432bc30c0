// One exported program (@kiln/export's exportProgram) in the report, as torch.export's ExportedProgram reads:
// its signature (user inputs, lifted parameters and buffers under their state-dict names, outputs), the dims
// with their ranges and where they appear, the runtime asserts checked before every call, then the core graph
// as a picture and as text, and the exporter's own printed form of the whole program.
import type { ExportRecord } from '../collect.js';
import { anchorId, escapeXml } from '../escape.js';
import { pictureBlock } from './compile-section.js';
import { details, html, pre, table } from './elements.js';

const mono = (text: string) => html(`<span class="mono">${escapeXml(text)}</span>`);
const range = (min: number, max: number) => `[${min}, ${max === Infinity ? 'inf' : max}]`;

export function exportSection(r: ExportRecord, index: number): string {
  const p = r.info;
  const id = `export ${index + 1}`;
  const inputs = table(['input', 'type', 'graph input'], p.inputs.map((i) => [i.name, mono(i.type), i.kind === 'constant' ? 'baked in (a call must pass this value)' : i.placeholder ? `%${i.placeholder}` : 'unused']), [30, 40]);
  const state = p.state.length
    ? `<h3>Lifted state (${p.state.length})</h3>${table(['kind', 'name', 'type', 'graph input'], p.state.map((s) => [s.kind, mono(s.name), mono(s.type), `%${s.placeholder}`]), [12, 38, 30])}`
    : '';
  const dims = p.dims.length
    ? `<h3>Dims (${p.dims.length})</h3>${table(['dim', 'symbol', 'range', 'sizes'], p.dims.map((d) => [mono(d.name), mono(d.symbol), range(d.min, d.max), d.places.join(', ')]), [18, 12, 18])}`
    : '<h3>Dims</h3><p>every size is static</p>';
  const asserts = p.asserts.length
    ? `<h3>Runtime asserts (${p.asserts.length})</h3>${table(['kind', 'assert', 'message', 'from'], p.asserts.map((a) => [a.kind, mono(a.text), a.message ?? '', a.location ?? '']), [10, 34, 34])}`
    : '';
  const outputs = table(['output', 'what'], p.outputs.map((o, i) => [`[${i}]`, mono(o)]), [10]);
  return `<section class="compile exported" id="${anchorId('export', String(index + 1))}">
<h2>${escapeXml(`Exported program '${p.name}'`)} <span class="meta">${escapeXml(`kiln ${p.kilnVersion}`)}</span></h2>
<h3>Inputs</h3>${inputs}
${state}
${dims}
${asserts}
<h3>${escapeXml(`Outputs ${p.outputTree}`)}</h3>${outputs}
${pictureBlock('Exported graph', r.picture, r.graphText, id)}
${p.apiGraphText ? details('Graph as captured (before the passes)', pre(p.apiGraphText)) : ''}
${details('The program as printed (printProgram)', pre(p.text))}
</section>`;
}
