// End to end, as a user meets it: a program whose kiln.config.mjs lists '@kiln/plugin-report' runs in its own
// process; at exit the report is written to kiln-report/index.html under its working directory. Headless
// Chromium then opens it: the rendered DOM holds the graph pictures with the program's ops as node labels,
// the hostile object key stays text, the page fits 1400 px, and a screenshot shows the graph drawn.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { countColor, inkShare, noChromium, probePage, screenshot } from '../../../test-support/chromium.js';
import type { Box } from '../../../test-support/chromium.js';
import { NODE_FILL } from '../src/picture/svg.js';

const program = fileURLToPath(new URL('./fixtures/program/program.mjs', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const HOSTILE = '</script><img src=x onerror=alert(1)>';
const WIDTH = 1400;

interface PagePicture {
  readonly caption: string;
  readonly box: Box;
  readonly labels: readonly string[];
  readonly eager: readonly string[];
  readonly texts: readonly string[];
}

interface PageFacts {
  readonly pictures: readonly PagePicture[];
  readonly images: number;
  readonly scripts: number;
  readonly text: string;
  readonly scrollWidth: number;
  readonly widestTable: number;
  readonly trie: string;
}

// Runs in the page: reads the rendered DOM (boxes in page pixels; the page is not scrolled).
const PROBE = `
  const pictures = [...document.querySelectorAll('svg.graph-picture')].map((svg) => {
    const r = svg.getBoundingClientRect();
    return {
      caption: svg.getAttribute('aria-label'),
      box: { x: r.x, y: r.y, width: r.width, height: r.height },
      labels: [...svg.querySelectorAll('g.node')].map((g) => g.getAttribute('data-label')),
      eager: [...svg.querySelectorAll('g.node.eager-step')].map((g) => g.getAttribute('data-label')),
      texts: [...svg.querySelectorAll('text')].map((t) => t.textContent),
    };
  });
  return {
    pictures,
    images: document.querySelectorAll('img').length,
    scripts: document.querySelectorAll('script').length - 1,
    text: document.body.textContent,
    scrollWidth: document.documentElement.scrollWidth,
    widestTable: Math.max(...[...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right)),
    trie: document.querySelector('ul.trie')?.textContent ?? '',
  };
`;

const hex = (c: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];

const Browser = suite('plugin-report: the report of a configured program, in headless Chromium');
if (noChromium) console.error(`[plugin-report browser tests] skipped: ${noChromium}`);
const test = noChromium ? Browser.skip : Browser;

let dir = '';
let report = '';
let facts: PageFacts;

Browser.before(() => {
  if (noChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
  const run = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', tsx, program], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  assert.is(run.status, 0, `the program failed:\n${run.stderr}`);
  assert.match(run.stderr, '[kiln] compile report: kiln-report/index.html (4 compiles, 2 graph breaks, 2 recompiles)');
  report = join(dir, 'kiln-report', 'index.html');
  facts = probePage<PageFacts>(report, PROBE, { width: WIDTH, height: 1000 });
});

Browser.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('written at exit to the default path, with a picture of each API and core graph', () => {
  assert.ok(existsSync(report));
  assert.equal(facts.pictures.map((p) => p.caption), [
    'API graph of [0/0]', 'Core graph of [0/0]', 'API graph of [1/0]', 'Core graph of [1/0]',
    'API graph of [0/1]', 'Core graph of [0/1]', 'API graph of [1/1]', 'Core graph of [1/1]',
  ]);
});

test("the pictures' node labels are the program's ops: as written in the API graph, decomposed in the core graph", () => {
  const [api0, , api1, core1] = facts.pictures;
  assert.ok(api0!.labels.includes('%2 = matmul') && api0!.labels.includes('%3 = relu'), api0!.labels.join(' | '));
  assert.ok(api1!.labels.some((l) => l.endsWith('= softmax')), api1!.labels.join(' | '));
  for (const op of ['amax', 'exp', 'div', 'mul']) assert.ok(core1!.labels.some((l) => l.endsWith(`= ${op}`)), `${op} in ${core1!.labels.join(' | ')}`);
  assert.ok(!core1!.labels.some((l) => l.endsWith('= softmax')), 'softmax is decomposed in the core graph');
  assert.ok(api0!.texts.some((t) => t.includes('f32[2, 8]')), 'the input box shows its type');
  assert.equal(api1!.eager, [], 'the API graph marks no eager step');
  const eagerOps = core1!.eager.map((l) => l.replace(/^%\w+ = /, '')).sort();
  assert.equal(eagerOps, ['mul', 'to', 'to'], 'the float64 nodes are marked as eager steps in the core graph');
});

test('a hostile object key is shown as text and never becomes markup', () => {
  assert.is(facts.images, 0, 'no <img> element was created');
  assert.is(facts.scripts, 0, 'the report has no script of its own');
  assert.ok(facts.text.includes(`["${HOSTILE}"]: Tensor float32, rank 2, contiguous`), 'the guard on the key is shown as written');
});

test('guards with source lines, breaks with reasons and hints, recompile reasons, timings, eager steps, kernels', () => {
  const t = facts.text;
  assert.ok(t.includes('const h = inputs[HOSTILE].matmul(W).relu();'), 'a guard shows its source line');
  assert.ok(t.includes("call to 'console.log' is skipped by the policy"), 'the break reason');
  assert.ok(t.includes("console.log('rows', h.shape[0]);"), "the break's source line");
  assert.ok(t.includes('move the call out of the compiled function'), 'the hint');
  assert.match(t, /RECOMPILE\s*because the previous entry's guard failed: \S+\.shape\[0\] == 2/);
  for (const phase of ['trace', 'passes', 'lower', 'wasm', 'total']) assert.ok(t.includes(phase), phase);
  assert.ok(t.includes('the backend does not compute float64'), 'eager steps with their reason');
  assert.ok(t.includes(';; wasm module:') && /f32x4\.\w+/.test(t), 'the generated wasm, disassembled');
});

test('the stack trie shows where compiles were triggered: main, then train', () => {
  assert.match(facts.trie, /main \([^)]*program\.mjs:\d+\).*train \([^)]*program\.mjs:\d+\) compiles \[0\/0\] \[1\/0\] \[0\/1\] \[1\/1\]/s);
});

test('the page fits 1400 px: no horizontal overflow, tables inside the window', () => {
  assert.ok(facts.scrollWidth <= WIDTH, `scrollWidth ${facts.scrollWidth}`);
  assert.ok(facts.widestTable <= WIDTH, `widest table ends at ${facts.widestTable}`);
});

test("a screenshot shows the first graph drawn: boxes in each kind's color, edges, text", () => {
  const box = facts.pictures[0]!.box;
  const shot = screenshot(report, { width: WIDTH, height: Math.ceil(box.y + box.height + 40) });
  assert.ok(box.width > 100 && box.height > 100, `picture box ${JSON.stringify(box)}`);
  const share = inkShare(shot, box);
  assert.ok(share > 0.1, `only ${(share * 100).toFixed(1)}% of the picture is drawn`);
  for (const kind of ['placeholder', 'call', 'output'] as const) {
    const n = countColor(shot, box, hex(NODE_FILL[kind]), 3);
    assert.ok(n > 400, `${kind} boxes: ${n} pixels of ${NODE_FILL[kind]}`);
  }
  const dark = countColor(shot, box, [31, 41, 55], 40);
  assert.ok(dark > 300, `outlines and label text: ${dark} dark pixels`);
});

Browser.run();
