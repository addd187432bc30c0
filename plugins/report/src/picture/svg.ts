// Draws a laid-out graph as inline SVG: one box per node (colored by kind), its label lines as <text>, and
// each edge as a path ending in an arrowhead. Every label is escaped (labels hold the user's names).
import { escapeXml } from '../escape.js';
import { LABEL_PADDING, LINE_HEIGHT, layoutPicture } from './layout.js';
import type { PictureLayout, PlacedEdge, PlacedNode } from './layout.js';
import type { GraphPicture, PictureNodeKind } from './snapshot.js';

/** Box fill per node kind; the legend under each picture names them. */
export const NODE_FILL: Readonly<Record<PictureNodeKind, string>> = {
  placeholder: '#dbeafe',
  call: '#fde68a',
  constant: '#e5e7eb',
  output: '#bbf7d0',
};

/** Fill of a node the backend runs on its eager kernel instead of generated code. */
export const EAGER_FILL = '#fca5a5';

const STROKE = '#1f2937';
const EDGE = '#475569';

const round = (v: number): string => String(Math.round(v * 10) / 10);

function drawNode(p: PlacedNode): string {
  const text = p.lines
    .map((line, i) => `<text x="${round(p.x + LABEL_PADDING.x)}" y="${round(p.y + LABEL_PADDING.y + (i + 1) * LINE_HEIGHT - 4)}"${i === 0 ? ' font-weight="bold"' : ''}>${escapeXml(line)}</text>`)
    .join('');
  const eager = p.node.eager === true;
  const tooltip = `${p.node.full}${eager ? '  (eager step)' : ''}`;
  return `<g class="node node-${p.node.kind}${eager ? ' eager-step' : ''}" data-label="${escapeXml(p.node.title)}"><title>${escapeXml(tooltip)}</title>`
    + `<rect x="${round(p.x)}" y="${round(p.y)}" width="${round(p.width)}" height="${round(p.height)}" rx="4" fill="${eager ? EAGER_FILL : NODE_FILL[p.node.kind]}" stroke="${STROKE}"${eager ? ' stroke-dasharray="4 2"' : ''}/>${text}</g>`;
}

/** The arrowhead at the edge's last point, pointing along its last segment. */
function arrowhead(edge: PlacedEdge): string {
  const pts = edge.points;
  const [a, b] = [pts[pts.length - 2]!, pts[pts.length - 1]!];
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const [ux, uy] = [(b.x - a.x) / len, (b.y - a.y) / len];
  const size = 7;
  const base = { x: b.x - ux * size, y: b.y - uy * size };
  const left = `${round(base.x - uy * size * 0.5)},${round(base.y + ux * size * 0.5)}`;
  const right = `${round(base.x + uy * size * 0.5)},${round(base.y - ux * size * 0.5)}`;
  return `<polygon points="${round(b.x)},${round(b.y)} ${left} ${right}" fill="${EDGE}"/>`;
}

function drawEdge(edge: PlacedEdge): string {
  if (edge.points.length < 2) return '';
  const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)},${round(p.y)}`).join(' ');
  return `<g class="edge"><path d="${d}" fill="none" stroke="${EDGE}" stroke-width="1.2"/>${arrowhead(edge)}</g>`;
}

export function renderLayout(layout: PictureLayout, caption: string): string {
  const w = Math.max(layout.width, 1);
  const h = Math.max(layout.height, 1);
  return `<svg class="graph-picture" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeXml(caption)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"`
    + ` font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">`
    + `<rect class="background" x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`
    + layout.edges.map(drawEdge).join('')
    + layout.nodes.map(drawNode).join('')
    + '</svg>';
}

/** Lays out and draws a graph picture. */
export function renderGraphSvg(picture: GraphPicture, caption: string): string {
  return renderLayout(layoutPicture(picture), caption);
}
