// A program stopped with Ctrl-C (SIGINT) or killed (SIGTERM) never reaches Node's 'exit' event: the report is
// written on the signal too, and the program still ends as the signal would have ended it (or as its own
// handler decides). Each case runs a small program in a child process that signals itself after compiling.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..', '..', '..');
const url = (path: string) => pathToFileURL(join(root, path)).href;
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx/esm')).href;

/** A program that compiles one function with the report plugin, then keeps running until `signal` arrives. */
const program = (signal: string, ownHandler: boolean) => `
import * as k from '${url('packages/tensor/src/index.ts')}';
import '${url('packages/backend-cpu/src/index.ts')}';
import { Compiler, compile } from '${url('packages/core/src/index.ts')}';
import { reportPlugin } from '${url('plugins/report/src/index.ts')}';
const compiler = new Compiler().use(reportPlugin());
console.log('sum', compile((x) => x.mul(2).sum(), { compiler })(k.ones([3])).item());
${ownHandler ? `process.on('${signal}', () => { console.log('own handler'); process.exit(0); });` : ''}
setInterval(() => undefined, 1000); // a long run, stopped by the signal
process.kill(process.pid, '${signal}');
`;

function runUntilSignal(signal: string, ownHandler: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-report-signal-'));
  writeFileSync(join(dir, 'main.mjs'), program(signal, ownHandler));
  const r = spawnSync(process.execPath, ['--conditions=kiln-source', '--import', tsx, 'main.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const page = join(dir, 'kiln-report', 'index.html');
  const html = existsSync(page) ? readFileSync(page, 'utf8') : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { ...r, html };
}

const Signal = suite('plugin-report: a program stopped by a signal');

for (const signal of ['SIGINT', 'SIGTERM']) {
  Signal(`${signal}: the report is written, and the program still ends by the signal`, () => {
    const r = runUntilSignal(signal, false);
    assert.match(r.stdout, /sum 6/);
    assert.is(r.signal, signal, `ended by ${signal} (status ${r.status}); stderr: ${r.stderr}`);
    assert.match(r.stderr, /\[kiln\] compile report: kiln-report\/index\.html \(1 compile, 0 graph breaks, 0 recompiles\)/);
    assert.ok(r.html?.includes('<svg class="graph-picture"'), 'the page with the graph picture');
  });
}

Signal("a program with its own SIGINT handler: the report is written and the program's handler decides", () => {
  const r = runUntilSignal('SIGINT', true);
  assert.is(r.signal, null);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /own handler/);
  assert.ok(r.html?.includes('<svg class="graph-picture"'));
});

Signal.run();
