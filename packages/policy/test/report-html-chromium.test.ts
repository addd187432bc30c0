// The audit's HTML page as a browser shows it (headless Chromium, 1400 px wide): check marks are words that
// render in any font (emoji showed as empty boxes), and no table runs past the window.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorModule from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import { formatHtml, runAudit } from '../src/index.js';
import { countColor, noChromium, probePage, screenshot } from '../../../test-support/chromium.js';
import type { Box } from '../../../test-support/chromium.js';

const WIDTH = 1400;

interface AuditPage {
  readonly marks: readonly string[];
  readonly failMark: Box;
  readonly pictographs: readonly string[];
  readonly scrollWidth: number;
  readonly tableRights: readonly number[];
}

const PROBE = `
  const r = document.querySelector('.mark.fail').getBoundingClientRect();
  return {
    marks: [...document.querySelectorAll('h3 .mark')].map((m) => m.textContent),
    failMark: { x: r.x, y: r.y, width: r.width, height: r.height },
    pictographs: document.body.textContent.match(/\\p{Extended_Pictographic}/gu) ?? [],
    scrollWidth: document.documentElement.scrollWidth,
    tableRights: [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right),
  };
`;

const AuditHtml = suite('audit HTML in headless Chromium');
if (noChromium) console.error(`[audit HTML browser tests] skipped: ${noChromium}`);
const test = noChromium ? AuditHtml.skip : AuditHtml;

let dir = '';
let file = '';
let page: AuditPage;

AuditHtml.before(() => {
  if (noChromium) return;
  // A failing report with every table filled: a planted unclassified export with a long name, and a backend
  // that lowers few ops (its missing list is long).
  const longName = `policyTestHtml${'VeryLongExportName'.repeat(8)}`;
  const report = runAudit({
    sources: { tensorExports: { ...tensorModule, [longName]: () => 0 }, tensorPrototype: Tensor.prototype, tensorClass: Tensor },
    backends: [{ name: 'toy', ops: ['add', 'mul', 'exp'] }],
  });
  dir = mkdtempSync(join(tmpdir(), 'kiln-audit-html-'));
  file = join(dir, 'audit.html');
  writeFileSync(file, formatHtml(report));
  page = probePage<AuditPage>(file, PROBE, { width: WIDTH, height: 900 });
});

AuditHtml.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('check marks are the words PASS / WARN / FAIL, and the page has no emoji', () => {
  assert.ok(page.marks.length >= 5, page.marks.join(' '));
  assert.ok(page.marks.every((m) => m === 'PASS' || m === 'WARN' || m === 'FAIL'), page.marks.join(' '));
  assert.ok(page.marks.includes('FAIL') && page.marks.includes('PASS'));
  assert.equal(page.pictographs, []);
});

test('the page fits 1400 px: no horizontal scroll, every table inside the window', () => {
  assert.ok(page.scrollWidth <= WIDTH, `scrollWidth ${page.scrollWidth}`);
  assert.ok(page.tableRights.length >= 3);
  for (const right of page.tableRights) assert.ok(right <= WIDTH, `a table ends at ${right} px`);
});

test('a screenshot shows the FAIL mark drawn in its color', () => {
  const box = page.failMark;
  const shot = screenshot(file, { width: WIDTH, height: Math.ceil(box.y + box.height + 20) });
  assert.ok(box.width > 20, `mark box ${JSON.stringify(box)}`);
  const red = countColor(shot, box, [0xb0, 0x00, 0x20], 60);
  assert.ok(red > 15, `${red} pixels of the mark's red text`);
});

AuditHtml.run();
