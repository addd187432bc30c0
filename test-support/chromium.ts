// Headless Chromium for tests that check what a page shows: the DOM after layout (through a copy of the page
// with a probe script that writes its findings into the DOM, read back with --dump-dom) and screenshots
// decoded with pngjs. scripts/setup-chromium.sh installs Debian's `chromium`; without one the tests skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

function findChromium(): string | undefined {
  const candidates = [process.env.KILN_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0 && /chrom/i.test(r.stdout)) return c;
  }
  return undefined;
}

const chromium = findChromium();

/** Why browser tests cannot run here (undefined when they can); the suites print it and skip. */
export const noChromium: string | undefined = chromium
  ? undefined
  : 'no Chromium found (chromium, chromium-browser, google-chrome or $KILN_CHROMIUM); scripts/setup-chromium.sh installs it';

export interface Viewport {
  readonly width: number;
  readonly height: number;
}

function runChromium(args: readonly string[], viewport: Viewport): string {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
  try {
    const r = spawnSync(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1',
      '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`,
      `--window-size=${viewport.width},${viewport.height}`, ...args,
    ], { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`chromium exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Loads `htmlFile` with `probe` (a script body that returns a JSON-serializable value) appended, and returns
 * what the probe returned: facts about the rendered page (boxes, text, overflow) from a real browser.
 */
export function probePage<T>(htmlFile: string, probe: string, viewport: Viewport): T {
  const copy = `${htmlFile}.probe.html`;
  const marker = 'kiln-probe-result';
  const script = `<script>(() => { const out = document.createElement('pre'); out.id = '${marker}';`
    + ` try { out.textContent = JSON.stringify({ ok: (() => { ${probe} })() }); } catch (e) { out.textContent = JSON.stringify({ error: String(e) }); }`
    + ' document.body.append(out); })();</script>';
  writeFileSync(copy, readFileSync(htmlFile, 'utf8').replace(/<\/body>\s*<\/html>\s*$/, `${script}</body></html>`));
  try {
    const dom = runChromium(['--dump-dom', pathToFileURL(copy).href], viewport);
    const m = new RegExp(`<pre id="${marker}">(.*?)</pre>`, 's').exec(dom);
    if (!m) throw new Error(`the probe wrote nothing; page DOM starts: ${dom.slice(0, 500)}`);
    const text = m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    const result = JSON.parse(text) as { ok?: T; error?: string };
    if (result.error !== undefined) throw new Error(`the probe failed in the page: ${result.error}`);
    return result.ok as T;
  } finally {
    rmSync(copy, { force: true });
  }
}

export interface Screenshot {
  readonly width: number;
  readonly height: number;
  /** RGBA bytes, row by row. */
  readonly data: Uint8Array;
}

/** A screenshot of the page's first `viewport` pixels, decoded. */
export function screenshot(htmlFile: string, viewport: Viewport): Screenshot {
  const png = `${htmlFile}.screenshot.png`;
  try {
    runChromium([`--screenshot=${png}`, pathToFileURL(htmlFile).href], viewport);
    const image = PNG.sync.read(readFileSync(png));
    return { width: image.width, height: image.height, data: image.data };
  } finally {
    rmSync(png, { force: true });
  }
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Pixels in `box` whose color is within `tolerance` (per channel) of `rgb`. */
export function countColor(shot: Screenshot, box: Box, rgb: readonly [number, number, number], tolerance = 6): number {
  let n = 0;
  const x1 = Math.min(shot.width, Math.floor(box.x + box.width));
  const y1 = Math.min(shot.height, Math.floor(box.y + box.height));
  for (let y = Math.max(0, Math.ceil(box.y)); y < y1; y++) {
    for (let x = Math.max(0, Math.ceil(box.x)); x < x1; x++) {
      const i = (y * shot.width + x) * 4;
      if (Math.abs(shot.data[i]! - rgb[0]) <= tolerance && Math.abs(shot.data[i + 1]! - rgb[1]) <= tolerance && Math.abs(shot.data[i + 2]! - rgb[2]) <= tolerance) n++;
    }
  }
  return n;
}

/** The share of pixels in `box` that are not the background color. */
export function inkShare(shot: Screenshot, box: Box, background: readonly [number, number, number] = [255, 255, 255]): number {
  const area = Math.max(1, Math.floor(box.width) * Math.floor(box.height));
  return 1 - countColor(shot, box, background, 2) / area;
}
