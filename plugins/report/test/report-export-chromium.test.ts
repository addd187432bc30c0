// Exported programs in the compile report, end to end: a program whose kiln.config.mjs lists the report plugin
// exports a model (@kiln/export) and compiles a call; headless Chromium opens the report written at exit. The
// exported program has its own section: inputs and lifted state by name, the Dims with their ranges, the
// runtime assert, the outputs, and the exported graph drawn (a screenshot shows its boxes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { countColor, noChromium, probePage, screenshot } from '../../../test-support/chromium.js';
import type { Box } from '../../../test-support/chromium.js';
import { NODE_FILL } from '../src/picture/svg.js';

const program = fileURLToPath(new URL('./fixtures/export/program.mjs', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const WIDTH = 1400;

interface ExportFacts {
  readonly sections: number;
  readonly heading: string;
  readonly tables: readonly (readonly string[])[];
  readonly picture: { readonly caption: string; readonly box: Box; readonly labels: readonly string[] } | undefined;
  readonly summary: string;
  readonly scrollWidth: number;
}

// Runs in the page: the exported program's section, its tables' rows as text, and its picture.
const PROBE = `
  const section = document.querySelector('section.exported');
  const svg = section?.querySelector('svg.graph-picture');
  const r = svg?.getBoundingClientRect();
  return {
    sections: document.querySelectorAll('section.exported').length,
    heading: section?.querySelector('h2')?.textContent ?? '',
    tables: [...(section?.querySelectorAll('tr') ?? [])].map((tr) => [...tr.children].map((td) => td.textContent)),
    picture: svg ? { caption: svg.getAttribute('aria-label'), box: { x: r.x, y: r.y, width: r.width, height: r.height }, labels: [...svg.querySelectorAll('g.node')].map((g) => g.getAttribute('data-label')) } : undefined,
    summary: document.querySelector('p.summary')?.textContent ?? '',
    scrollWidth: document.documentElement.scrollWidth,
  };
`;

const Browser = suite('plugin-report: exported programs, in headless Chromium');
if (noChromium) console.error(`[plugin-report export browser tests] skipped: ${noChromium}`);
const test = noChromium ? Browser.skip : Browser;

let dir = '';
let report = '';
let facts: ExportFacts;

Browser.before(() => {
  if (noChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'kiln-report-export-'));
  const run = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', tsx, program], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  assert.is(run.status, 0, `the program failed:\n${run.stderr}`);
  report = join(dir, 'kiln-report', 'index.html');
  facts = probePage<ExportFacts>(report, PROBE, { width: WIDTH, height: 1000 });
});

Browser.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const row = (first: string) => facts.tables.find((r) => r[0] === first || r[1] === first);

test('one section for the exported program, counted in the summary beside the compiles', () => {
  assert.is(facts.sections, 1);
  assert.match(facts.heading, /^Exported program 'head' kiln [\d.]+$/);
  assert.match(facts.summary, /^1 exported program, 1 compile of 1 frame/);
});

test('inputs and lifted state by name with their types; Dims with ranges; the runtime assert; the outputs', () => {
  assert.equal(row('x'), ['x', 'f32[batch, 6]', '%x']);
  assert.equal(row('memory'), ['memory', 'f32[slots, 6]', '%memory']);
  assert.equal(row('model.weight'), ['parameter', 'model.weight', 'f32[6, 3]', '%model_weight']);
  assert.equal(row('model.bias'), ['buffer', 'model.bias', 'f32[3]', '%model_bias']);
  assert.equal(row('batch')?.slice(0, 3), ['batch', 's0', '[2, 48]']);
  assert.equal(row('slots')?.slice(0, 3), ['slots', 's1', '[0, 64]']);
  assert.equal(row('check')?.slice(0, 3), ['check', 'batch < slots', 'fewer rows than the memory']);
  assert.equal(row('[0]'), ['[0]', 'f32[batch, 3] = graph output 0']);
});

test("the exported graph is drawn: its ops as node labels, boxes in each kind's color", () => {
  const p = facts.picture!;
  assert.is(p.caption, 'Exported graph of export 1');
  for (const op of ['matmul', 'add', 'relu']) assert.ok(p.labels.some((l) => l.endsWith(`= ${op}`)), `${op} in ${p.labels.join(' | ')}`);
  const shot = screenshot(report, { width: WIDTH, height: Math.ceil(p.box.y + p.box.height + 40) });
  for (const kind of ['placeholder', 'call', 'output'] as const) {
    const n = countColor(shot, p.box, [1, 3, 5].map((i) => parseInt(NODE_FILL[kind].slice(i, i + 2), 16)) as [number, number, number], 3);
    assert.ok(n > 400, `${kind} boxes: ${n} pixels of ${NODE_FILL[kind]}`);
  }
  assert.ok(facts.scrollWidth <= WIDTH, `scrollWidth ${facts.scrollWidth}`);
});

Browser.run();
