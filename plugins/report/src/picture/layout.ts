// Places a graph picture's boxes and routes its edges with dagre (a layered, Sugiyama-style layout: inputs
// at the top, data flowing down). Synchronous on purpose: the report is written from the process's exit
// handler, where nothing asynchronous runs.
import { Graph as LayoutGraph, layout } from '@dagrejs/dagre';
import type { EdgeLabel, GraphLabel, NodeLabel, Point } from '@dagrejs/dagre';
import type { GraphPicture, PictureNode } from './snapshot.js';

/** The SVG draws labels in a 12 px monospace font: this is its advance per character, rounded up. */
export const CHAR_WIDTH = 7.3;
export const LINE_HEIGHT = 15;
const PAD_X = 10;
const PAD_Y = 6;
/** Longer label lines are cut (the box's tooltip and the text listing keep the whole line). */
export const MAX_LABEL_CHARS = 60;

export interface PlacedNode {
  readonly node: PictureNode;
  readonly lines: readonly string[];
  /** Top-left corner and size, in SVG user units (px). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface PictureLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
}

export const clip = (line: string): string => (line.length > MAX_LABEL_CHARS ? `${line.slice(0, MAX_LABEL_CHARS - 3)}...` : line);

const MARGIN = 8;

export function layoutPicture(picture: GraphPicture): PictureLayout {
  const g = new LayoutGraph<GraphLabel, NodeLabel, EdgeLabel>();
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 32, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  const lines = new Map(picture.nodes.map((n) => [n.id, [n.title, n.detail].filter(Boolean).map(clip)]));
  for (const n of picture.nodes) {
    const ls = lines.get(n.id)!;
    g.setNode(n.id, { width: Math.ceil(Math.max(...ls.map((l) => l.length)) * CHAR_WIDTH) + 2 * PAD_X, height: ls.length * LINE_HEIGHT + 2 * PAD_Y });
  }
  for (const [from, to] of picture.edges) g.setEdge(from, to);
  layout(g);
  const nodes = picture.nodes.map((node) => {
    const p = g.node(node.id);
    return { node, lines: lines.get(node.id)!, x: p.x! - p.width / 2, y: p.y! - p.height / 2, width: p.width, height: p.height };
  });
  const edges = g.edges().map((e: { v: string; w: string }) => ({ from: e.v, to: e.w, points: (g.edge(e).points ?? []).map((p: Point) => ({ x: p.x, y: p.y })) }));
  const size = g.graph();
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes, edges };
}

export const LABEL_PADDING = { x: PAD_X, y: PAD_Y } as const;
