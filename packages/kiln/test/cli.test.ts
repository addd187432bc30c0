import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { coreUrl, project, repoRoot, runNode, tensorUrl } from '../../core/test/support/project.js';

const bin = join(repoRoot, 'packages/kiln/src/cli/bin.ts');
const kiln = (cwd: string, args: readonly string[], env: Record<string, string> = {}) => runNode(cwd, [bin, ...args], env);
const Cli = suite('the kiln command');

Cli('kiln --help lists every command; an unknown command is usage error 2', () => {
  const help = kiln(repoRoot, ['--help']);
  assert.is(help.status, 0);
  for (const c of ['run', 'explain', 'report', 'audit', 'ops']) assert.match(help.stdout, new RegExp(`\\n  ${c}\\s`));
  const bad = kiln(repoRoot, ['nope']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'nope'/);
});

Cli('each command has --help', () => {
  for (const c of ['run', 'explain', 'report', 'audit', 'ops', 'aot']) {
    const r = kiln(repoRoot, [c, '--help']);
    assert.is(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: kiln ${c}`));
  }
});

Cli('kiln ops | head: a closed pipe ends the output without an EPIPE crash', () => {
  const out = execFileSync('bash', ['-c', `${process.execPath} --conditions=kiln-source --import tsx/esm ${bin} ops | head -1; echo "status \${PIPESTATUS[0]}"`], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /^\S+\(.*\n/);
  assert.match(out, /status 0/);
});

const program = `
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
function step(x) {
  const h = x.mul(2);
  console.log('rows', h.shape[0]);
  return h.add(1);
}
const f = compile(step);
console.log('result', f(ones([2])).toArray().join(','), f(ones([3])).toArray().join(','));
console.log('argv', process.argv.slice(2).join(' '));
console.log('frames', globalThis.framesSeen ?? 0);
`;
const config = `export default { plugins: [{ name: 'count', apply(c) { c.hooks.frameStart.tap('count', () => { globalThis.framesSeen = (globalThis.framesSeen ?? 0) + 1; }); } }] };\n`;

Cli('kiln run loads the config, runs the file with its arguments, and returns its exit code', () => {
  const dir = project({ 'kiln.config.mjs': config, 'main.mjs': program, 'fail.mjs': 'throw new Error("boom");\n' });
  const r = kiln(dir, ['run', 'main.mjs', 'a', 'b']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /result 3,3 3,3,3/);
  assert.match(r.stdout, /argv a b/);
  assert.ok(Number(/frames (\d+)/.exec(r.stdout)![1]) >= 1);
  const fail = kiln(dir, ['run', 'fail.mjs']);
  assert.is(fail.status, 1);
  assert.match(fail.stderr, /boom/);
  const missing = kiln(dir, ['run', 'nope.mjs']);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /nope\.mjs does not exist/);
});

Cli('kiln run awaits a plugin whose apply() is async before the program runs (the automatic load cannot)', () => {
  const asyncConfig = `export default { plugins: [{ name: 'slow', async apply() { await new Promise((r) => setTimeout(r, 20)); globalThis.slowReady = true; } }] };\n`;
  const main = `import { compile } from '${coreUrl}';\nimport { ones } from '${tensorUrl}';\nconsole.log('ready', globalThis.slowReady === true, compile((x) => x.add(1))(ones([2])).toArray().join(','));\n`;
  const dir = project({ 'kiln.config.mjs': asyncConfig, 'main.mjs': main });
  const r = kiln(dir, ['run', 'main.mjs']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /ready true 2,2/);
  const plain = runNode(dir, ['main.mjs']);
  assert.is(plain.status, 1, 'without kiln run, the first compile() cannot wait for it');
  assert.match(plain.stderr, /plugin 'slow' has an async apply\(\).*\n  hint: call `await configure\(\)` before compiling, or start the program with `kiln run`/);
});

Cli('kiln run FILE.ts on Node 20 with tsx in the project: registers tsx and runs the TypeScript program', () => {
  const dir = project({ 'main.ts': `import { compile } from '${coreUrl}';\nimport { ones } from '${tensorUrl}';\nconst double = (x: ReturnType<typeof ones>): ReturnType<typeof ones> => x.mul(2);\nconsole.log('result', compile(double)(ones([2])).toArray().join(','));\n` });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(dirname(createRequire(join(repoRoot, 'package.json')).resolve('tsx/package.json')), join(dir, 'node_modules', 'tsx'));
  // The source CLI runs under tsx already (bin.ts); registering tsx from the project failed all the same.
  const r = kiln(dir, ['run', 'main.ts']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /result 2,2/);
  assert.not.match(r.stderr, /ERR_MODULE_NOT_FOUND/);
});

Cli('kiln explain prints the full explain() output of each compiled function: graphs, guards, breaks, recompiles, kernels', () => {
  const dir = project({ 'main.mjs': program });
  const r = kiln(dir, ['explain', 'main.mjs']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /result 3,3 3,3,3/, 'the program ran as under kiln run');
  const out = r.stderr;
  // Two calls (2 rows, then 3): each compile splits at console.log into the graph before it and a resume function.
  assert.match(out, /=== step \(main\.mjs:\d+\): 4 graphs, 2 graph breaks, 2 recompiles\n/, out);
  // What explain(fn)(...args) prints, section by section.
  assert.match(out, /\nBackends: cpu /);
  assert.match(out, /\nBreak 1 \[\d+\/0\]: .*console\.log.*\n  at .*main\.mjs:6\n  hint: /);
  assert.match(out, /\nRecompile \[\d+\/1\]: .*expected 2, got 3/);
  assert.match(out, /\nGraph 1 \[\d+\/0\] before the break at .*main\.mjs:6:\n  .*\n  .*= mul\(/);
  assert.match(out, /\nGraph 2 \[\d+\/0\] resume function 'step_resume_\d+':\n/);
  assert.match(out, /\n  compiled by backend cpu: 1 kernel\n/);
  assert.match(out, /\nGuards of entry 1:\n(  .*\n)*?  L\['x'\]: Tensor float32/);
  assert.match(out, /\nOps: .*mul×/);
  assert.match(out, /\nCompile times: [\d.]+ ms \(trace /);
  const none = kiln(project({ 'plain.mjs': 'console.log(1);\n' }), ['explain', 'plain.mjs']);
  assert.is(none.status, 0, none.stderr);
  assert.match(none.stderr, /kiln explain: the program compiled nothing/);
});

// A model's method compiled from the eager statement of a split frame (the concise arrow splits at the break
// inside forward), called with three batch sizes: explain must not change what the program compiles.
const modelProgram = `
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
class Model {
  forward(x) {
    const h = x.mul(2);
    console.log('rows', h.shape[0]);
    return h.add(1);
  }
}
const model = new Model();
const fast = compile((x) => model.forward(x));
for (const rows of [4, 8, 3]) fast(ones([rows, 2]));
`;

Cli('kiln explain compiles what kiln run compiles: a callee of a split frame keeps its cache across the caller\'s recompile', () => {
  const dir = project({ 'main.mjs': modelProgram });
  const logs = (command: string) => {
    const r = kiln(dir, [command, 'main.mjs'], { KILN_LOGS: 'recompiles,dynamo' });
    assert.is(r.status, 0, r.stderr);
    return r.stderr.split('\n').filter((l) => /^\[kiln\] \[[\d/_]+\] (recompiles|dynamo): (recompiling|tracing)/.test(l));
  };
  const run = logs('run');
  // The batch size changes once (4 → 8): each frame recompiles once with a dynamic size, and 3 rows reuse it.
  assert.is(run.filter((l) => l.includes('recompiling')).length, 3, run.join('\n'));
  assert.equal(logs('explain'), run);
});

Cli('kiln explain --help documents what it prints', () => {
  const r = kiln(repoRoot, ['explain', '--help']);
  assert.is(r.status, 0);
  for (const part of ['graph breaks', 'recompiles', 'kernels', 'guards of each entry', 'compile times', 'stderr']) assert.ok(r.stdout.includes(part), part);
});

Cli('kiln report without @kiln/plugin-report installed says how to install it', () => {
  const dir = project({ 'main.mjs': program });
  const r = kiln(dir, ['report', 'main.mjs'], { NODE_PATH: '' });
  if (r.status === 0) {
    // The plugin is in this workspace: then the report ran.
    assert.match(r.stdout, /result/);
    return;
  }
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /kiln report: the report plugin is not installed; install it with `npm i -D @kiln\/plugin-report`/);
});

Cli('kiln report with the report plugin already in the config writes one report, as the config set it up', () => {
  const reportPlugin = join(repoRoot, 'plugins/report/src/index.ts');
  const dir = project({ 'main.mjs': program, 'kiln.config.mjs': `export default { plugins: [${JSON.stringify(reportPlugin)}] };\n` });
  const r = kiln(dir, ['report', 'main.mjs']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stderr.match(/\[kiln\] compile report: kiln-report\/index\.html/g), ['[kiln] compile report: kiln-report/index.html'], r.stderr);
});

Cli('a report survives a later kiln audit and a mistyped kiln run (nothing compiled: the page is left as it was)', () => {
  const reportPlugin = join(repoRoot, 'plugins/report/src/index.ts');
  const dir = project({ 'main.mjs': program, 'kiln.config.mjs': `export default { plugins: [${JSON.stringify(reportPlugin)}] };\n` });
  const page = join(dir, 'kiln-report', 'index.html');
  const ran = kiln(dir, ['run', 'main.mjs']);
  assert.is(ran.status, 0, ran.stderr);
  const written = readFileSync(page, 'utf8');
  assert.match(written, /<svg class="graph-picture"/);
  const audit = kiln(dir, ['audit', '--out', join(dir, 'audit.md')]);
  assert.is(audit.status, 0, audit.stderr);
  assert.match(audit.stderr, /compile report: nothing was compiled, kiln-report\/index\.html not written/);
  const typo = kiln(dir, ['run', 'mian.mjs']);
  assert.is(typo.status, 2);
  assert.match(typo.stderr, /kiln run: mian\.mjs does not exist/);
  assert.not.match(typo.stderr, /compile report/, 'a usage error loads no plugin');
  assert.is(readFileSync(page, 'utf8'), written, 'the report of the real run is still there');
});

Cli("kiln audit audits the config's rules: a stale module path, a package that is not installed, a skip/inline conflict", () => {
  const dir = project({
    'kiln.config.json': JSON.stringify({ policy: { skip: ['./old-lib/**', 'not-installed-pkg'] } }),
  });
  const r = kiln(dir, ['audit', '--out', join(dir, 'audit.md')]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /policy\.skip\[0\]: stale module path: '\.\/old-lib\/\*\*' matches nothing/);
  assert.match(r.stderr, /policy\.skip\[1\]: rule matches nothing: package 'not-installed-pkg' is not installed/);
  const conflict = kiln(project({ 'kiln.config.json': JSON.stringify({ policy: { skip: ['lodash-like'], inline: ['lodash-like'] } }) }), ['audit']);
  assert.is(conflict.status, 1);
  assert.match(conflict.stderr, /policy\.inline\[0\]\): conflicts with skip\('lodash-like'\)/);
});

Cli("kiln audit: a rule written as a builtin's path ('Math.hypot', 'console.log') says how to name the builtin", () => {
  const r = kiln(project({ 'kiln.config.json': JSON.stringify({ policy: { skip: ['Math.hypot', 'console.log', 'left-pad'] } }) }), ['audit']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /policy\.skip\[0\]: rule matches nothing: package 'Math\.hypot' is not installed where the config is; to name the builtin function Math\.hypot, write 'globalThis#Math\.hypot'/);
  assert.match(r.stderr, /policy\.skip\[1\]: .*write 'globalThis#console\.log'/);
  assert.match(r.stderr, /policy\.skip\[2\]: rule matches nothing: package 'left-pad' is not installed where the config is; fix or remove it/);
});

Cli('kiln audit fails (exit 1) on a config error, naming the file and key', () => {
  const dir = project({ 'kiln.config.json': JSON.stringify({ policy: { allowInGraph: ['./helpers.mjs#gone'] } }), 'helpers.mjs': 'export function fused(x) { return x; }\n' });
  const r = kiln(dir, ['audit']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /kiln\.config\.json: policy\.allowInGraph\[0\]/);
  assert.match(r.stderr, /'gone' does not exist/);
});

Cli.run();
