// The report plugin's parts: graph pictures laid out by dagre (boxes apart, edges from input to user, labels
// cut to fit), every user string escaped in SVG and HTML, options checked, and the plugin used inline on a
// compiler with writeReport().
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import '@kiln/backend-cpu';
import { Compiler, KilnConfigError, compile } from '@kiln/core';
import { Graph } from '@kiln/graph';
import { profilePlugin } from '@kiln/plugin-profile';
import { escapeXml, layoutPicture, renderGraphSvg, reportPlugin, snapshotGraph, writeReport } from '../src/index.js';
import { MAX_LABEL_CHARS } from '../src/picture/layout.js';

const HOSTILE = '</script><img src=x onerror=alert(1)>';

/** in0, in1 → add → relu → output, plus a node whose input source is hostile HTML. */
function sampleGraph(): Graph {
  const g = new Graph();
  const a = g.placeholder('a', { inputSource: `L[0]["${HOSTILE}"]` });
  const b = g.placeholder('b', { inputSource: 'L[1]' });
  const sum = g.call('add', [a, b]);
  const r = g.call('relu', [sum]);
  g.output([r, sum]);
  return g;
}

const Layout = suite('plugin-report: graph layout');

/** Whether a point lies on a box's outline (the arrow touches the box, neither inside nor short of it). */
function onBorder(p: { x: number; y: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  const within = (v: number, lo: number, hi: number) => v >= lo - 1 && v <= hi + 1;
  const near = (v: number, edge: number) => Math.abs(v - edge) < 1.5;
  return (within(p.x, b.x, b.x + b.width) && (near(p.y, b.y) || near(p.y, b.y + b.height)))
    || (within(p.y, b.y, b.y + b.height) && (near(p.x, b.x) || near(p.x, b.x + b.width)));
}

Layout('boxes never overlap, edges run from an input down to its user and end on its box', () => {
  const picture = snapshotGraph(sampleGraph());
  const layout = layoutPicture(picture);
  const box = new Map(layout.nodes.map((n) => [n.node.id, n]));
  for (const [i, p] of layout.nodes.entries()) {
    assert.ok(p.x >= 0 && p.y >= 0 && p.x + p.width <= layout.width && p.y + p.height <= layout.height, `${p.node.title} inside the picture`);
    for (const q of layout.nodes.slice(i + 1)) {
      const apart = p.x + p.width <= q.x || q.x + q.width <= p.x || p.y + p.height <= q.y || q.y + q.height <= p.y;
      assert.ok(apart, `${p.node.title} and ${q.node.title} overlap`);
    }
  }
  assert.is(layout.edges.length, picture.edges.length);
  assert.equal(picture.edges.length, 5, 'a→add, b→add, add→relu, relu→output, add→output');
  for (const [from, to] of picture.edges) {
    const [src, dst] = [box.get(from)!, box.get(to)!];
    assert.ok(src.y + src.height <= dst.y, `${src.node.title} is above ${dst.node.title}`);
    const edge = layout.edges.find((e) => e.from === from && e.to === to)!;
    const [start, end] = [edge.points[0]!, edge.points.at(-1)!];
    assert.ok(onBorder(start, src), `the edge ${src.node.title} -> ${dst.node.title} starts on its input's box`);
    assert.ok(onBorder(end, dst), `the edge ${src.node.title} -> ${dst.node.title} ends on its user's box`);
  }
});

Layout('labels: name, op, type; long lines cut with "..." (the tooltip keeps the whole line)', () => {
  const g = new Graph();
  const x = g.placeholder('x', { inputSource: `L[0].${'very_long_attribute_name.'.repeat(6)}weight` });
  g.output(g.call('neg', [x]));
  const layout = layoutPicture(snapshotGraph(g));
  const [input, neg] = layout.nodes;
  assert.is(neg!.lines[0], '%neg = neg'.replace('%neg', `%${g.nodes[1]!.name}`));
  assert.is(input!.lines[0]!.length, MAX_LABEL_CHARS);
  assert.ok(input!.lines[0]!.endsWith('...'));
  assert.ok(input!.node.full.endsWith('weight'), 'the full label is kept');
  assert.ok(input!.width >= MAX_LABEL_CHARS * 7, 'the box is as wide as its label');
});

const Escaping = suite('plugin-report: escaping');

Escaping('a node label holding </script><img onerror=…> stays text in the SVG', () => {
  const svg = renderGraphSvg(snapshotGraph(sampleGraph()), `caption ${HOSTILE}`);
  assert.not.match(svg, '<img');
  assert.not.match(svg, '</script>');
  assert.match(svg, '&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
  assert.match(svg, 'aria-label="caption &lt;/script&gt;');
});

Escaping('escapeXml covers text and quoted attributes', () => {
  assert.is(escapeXml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  assert.is(escapeXml(undefined), '');
});

const Plugin = suite('plugin-report: the plugin');

Plugin('options are checked: unknown keys and wrong types are config errors naming the key', () => {
  assert.throws(() => reportPlugin({ outptu: 'x.html' } as never), (e: unknown) => e instanceof KilnConfigError && /outptu: unknown option/.test(e.message) && /output, writeOnExit, title/.test(e.message));
  assert.throws(() => reportPlugin({ output: '' }), (e: unknown) => e instanceof KilnConfigError && /output: must be a file path/.test(e.message));
  assert.throws(() => reportPlugin('report.html' as never), (e: unknown) => e instanceof KilnConfigError && /must be an object/.test(e.message));
});

Plugin('inline on a compiler: records each compile, writeReport() writes the page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-report-unit-'));
  try {
    const output = join(dir, 'sub', 'report.html');
    const report = reportPlugin({ output, writeOnExit: false, title: `Report ${HOSTILE}` });
    const compiler = new Compiler().use(report);
    const f = compile((t: Tensor) => t.mul(2).add(1), { compiler });
    f(k.randn([3]));
    f(k.randn([3]));
    assert.is(report.records.length, 1, 'the second call hit the cache');
    assert.ok(writeReport().includes(output));
    assert.ok(existsSync(output));
    const page = readFileSync(output, 'utf8');
    assert.match(page, '<svg class="graph-picture"');
    assert.match(page, `<title>Report &lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</title>`);
    assert.not.match(page, '<img');
    assert.not.match(page, '<script');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Plugin('with @kiln/plugin-profile on the same compiler, each program shows its step times', () => {
  const report = reportPlugin({ writeOnExit: false });
  const compiler = new Compiler().use(report).use(profilePlugin({ printOnExit: false }));
  const f = compile((t: Tensor) => t.exp().sum(-1), { compiler });
  for (let i = 0; i < 3; i++) f(k.randn([4, 8]));
  const page = report.html();
  assert.match(page, '<h3>Step times (profiler)</h3>');
  assert.match(page, /<td>reduce\d<\/td><td>kernel<\/td><td>[^<]*exp[^<]*<\/td><td>3<\/td>/);
});

Plugin('a frame that is never traced shows as SKIPPED with the reason', () => {
  const report = reportPlugin({ writeOnExit: false });
  const compiler = new Compiler().use(report);
  const f = compile(async (t: Tensor) => t.add(1), { compiler });
  void f(k.randn([2]));
  const page = report.html();
  assert.match(page, 'SKIPPED');
  assert.match(page, /never traced: [^<]*async/);
});

Layout.run();
Escaping.run();
Plugin.run();
