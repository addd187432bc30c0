// Headless Chromium for the AOT browser tests: a static file server over a temp folder (ES modules and
// fetch need an http origin, not file:) that also takes the page's result as a POST to /result. The page is
// given real time, not --virtual-time-budget: virtual time runs ahead of work in Chromium's GPU process
// (adapter requests, pipeline compiles on SwiftShader), so a page waiting on WebGPU was dumped before it
// finished. Chromium runs asynchronously, so the server in this process can answer it.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

const candidates = [process.env.KILN_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => !!c);
const chromium = candidates.find((c) => spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 30_000 }).status === 0);

/** Why the browser tests cannot run (undefined when they can). */
export const noChromium: string | undefined = chromium ? undefined : 'no Chromium found (chromium, chromium-browser, google-chrome or $KILN_CHROMIUM); scripts/setup-chromium.sh installs it';

const TYPES: Record<string, string> = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json', '.safetensors': 'application/octet-stream' };

/** A folder served on 127.0.0.1 (a random port), and the body of the page's first POST to /result. */
export interface PageServer {
  readonly url: string;
  readonly result: Promise<string>;
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 (a random port); only files inside it. */
export async function serveFolder(root: string): Promise<PageServer> {
  let deliver!: (body: string) => void;
  const result = new Promise<string>((resolve) => (deliver = resolve));
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        deliver(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
      return;
    }
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
  return { url: `http://127.0.0.1:${port}`, result, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A page script's wrapper: runs `script` (an async function body) and POSTs its JSON result (or error) to /result. */
export const PAGE = (script: string): string => `<!doctype html><html><body><script type="module">
let result;
try { result = await (async () => { ${script} })(); }
catch (e) { result = { error: String(e && e.stack || e) }; }
await fetch('/result', { method: 'POST', body: JSON.stringify(result) });
</script></body></html>`;

/**
 * Opens `page` (under `server`) in headless Chromium and returns the JSON text the page POSTs to /result,
 * within `timeoutMs` of real time; Chromium is ended then.
 */
export async function pageResult(server: PageServer, page: string, extraFlags: readonly string[] = [], timeoutMs = 150_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-aot-chromium-'));
  const child = spawn(chromium!, ['--headless', '--no-sandbox', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`, ...extraFlags, `${server.url}/${page}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      server.result,
      new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`chromium exited (${String(code)}) before the page posted a result\n${stderr.slice(-2000)}`)))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the page posted no result within ${timeoutMs / 1000} s\n${stderr.slice(-2000)}`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
    // Its own process group: Chromium's GPU and renderer processes end with it instead of writing on.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}
