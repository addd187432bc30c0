// Headless Chromium for the AOT browser tests: a static file server over a temp folder (ES modules and
// fetch need an http origin, not file:), and a page load whose script writes its results into the DOM,
// read back with --dump-dom. Chromium runs asynchronously, so the server in this process can answer it.
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

const candidates = [process.env.KILN_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => !!c);
const chromium = candidates.find((c) => spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 30_000 }).status === 0);

/** Why the browser tests cannot run (undefined when they can). */
export const noChromium: string | undefined = chromium ? undefined : 'no Chromium found (chromium, chromium-browser, google-chrome or $KILN_CHROMIUM); scripts/setup-chromium.sh installs it';

const TYPES: Record<string, string> = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json', '.safetensors': 'application/octet-stream' };

/** Serves `root` on 127.0.0.1 (a random port); only files inside it. */
export async function serveFolder(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Opens `url` in headless Chromium and returns the text of `<pre id="result">` once the page's scripts are
 * done (--virtual-time-budget lets async work, wasm compiles and fetches finish before the DOM is dumped).
 */
export async function pageResult(url: string, extraFlags: readonly string[] = []): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-aot-chromium-'));
  try {
    const dom = await new Promise<string>((resolve, reject) => {
      execFile(chromium!, [
        '--headless', '--no-sandbox', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`,
        '--virtual-time-budget=30000', ...extraFlags, '--dump-dom', url,
      ], { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`chromium: ${err.message}\n${stderr.slice(-2000)}`)) : resolve(stdout)));
    });
    const m = /<pre id="result">(.*?)<\/pre>/s.exec(dom);
    if (!m) throw new Error(`the page wrote no result; its DOM starts: ${dom.slice(0, 800)}`);
    return m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
