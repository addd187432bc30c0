// A fresh process's first compile reads the user's functions without turning on the Debugger domain (which
// replays every script loaded: ≈55–90 ms of CPU there): script URLs come from one coverage listing and a
// module's source from its file, where the file provably holds what V8 loaded. These tests run fresh
// processes and count what the inspector did; where the file no longer holds the loaded text, V8's copy is read.
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { project, repoRoot, runNode, tensorUrl } from './support/project.js';

const Cold = suite('cold start: the first compile of a process');
const coreUrl = pathToFileURL(join(repoRoot, 'packages/core/src/index.ts')).href;
const inspectorUrl = pathToFileURL(join(repoRoot, 'packages/core/src/trace/inspector.ts')).href;
const closuresUrl = pathToFileURL(join(repoRoot, 'packages/core/src/trace/closures.ts')).href;

const model = `let scale = 2;\nconst offset = 1;\nexport const f = (t) => t.mul(scale).add(offset);\nexport const bump = () => { scale += 1; };\n`;
/** Compiles f, reassigns its captured `scale`, calls again: a binding wrongly taken as constant gives 3 twice. */
const main = (before: string) => `
import { readFileSync, writeFileSync } from 'node:fs';
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
import { inspectorActivity } from '${inspectorUrl}';
import { wholeScriptParseCount } from '${closuresUrl}';
import { f, bump } from './model.mjs';
${before}
const g = compile(f);
const first = g(ones([2])).toArray()[0];
bump();
const second = g(ones([2])).toArray()[0];
const a = inspectorActivity();
console.log(JSON.stringify({ first, second, enables: a.enables, listings: a.coverageListings, parses: wholeScriptParseCount() }));
`;

/** Captures that are an import, a function declaration and a const, only called or dereferenced. */
const helpers = `import { relu } from '${tensorUrl}';\nconst config = { scale: 3 };\nfunction double(t) { return t.add(t); }\nexport const f = (t) => relu(double(t)).mul(config.scale);\nexport const bump = () => {};\n`;

const run = (before = '', moduleText = model) => {
  const dir = project({ 'model.mjs': moduleText, 'main.mjs': main(before) });
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'model.mjs'), old, old);
  const r = runNode(dir, ['main.mjs']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { first: number; second: number; enables: number; listings: number; parses: number };
};

Cold('compiling a module function in a fresh process never enables the Debugger, and a reassigned capture stays guarded', () => {
  const r = run();
  assert.equal([r.first, r.second], [3, 4]);
  assert.is(r.enables, 0, 'the Debugger domain was turned on');
  assert.is(r.listings, 1);
});

Cold('captures that are imports, declarations and consts, only called or dereferenced, parse no whole script', () => {
  // acorn runs cold (interpreted) in a fresh process: a whole-script parse to learn that nothing reassigns
  // these bindings cost more than tracing the function.
  const r = run('', helpers);
  assert.equal([r.first, r.second], [6, 6]);
  assert.is(r.parses, 0, 'a whole script was parsed');
  const reassigned = run();
  assert.equal([reassigned.first, reassigned.second], [3, 4]);
  assert.is(reassigned.parses, 1, 'the module that reassigns a capture must be parsed');
});

Cold('a module file changed after it was loaded is not trusted: its loaded source is read from V8', () => {
  // The file on disk no longer assigns `scale`: read from disk, `scale` would look constant and the second
  // call would return a stale 3.
  const r = run(`writeFileSync(new URL('./model.mjs', import.meta.url), readFileSync(new URL('./model.mjs', import.meta.url), 'utf8').replace(/export const bump.*\\n/, ''));`);
  assert.equal([r.first, r.second], [3, 4]);
  assert.is(r.enables, 1);
});

/** Runs `files` (model.mjs among them) with main.mjs printing its last line as JSON. */
const runProject = (files: Record<string, string>) => {
  const dir = project(files);
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'model.mjs'), old, old);
  const r = runNode(dir, ['main.mjs']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
};

Cold("a module's top-level var, assigned only where it is declared, is read once, not on every call", () => {
  // What a bundler makes of `const` (esbuild writes `var`; the built @kiln/tensor is such a bundle): before,
  // every `var` counted as reassignable, so each call read the binding again through the inspector.
  const r = runProject({
    'model.mjs': 'var scale = 3;\nexport const f = (t) => t.mul(scale);\n',
    'main.mjs': `
import inspector from 'node:inspector';
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
import { f } from './model.mjs';
let posts = 0;
const post = inspector.Session.prototype.post;
inspector.Session.prototype.post = function (...args) { posts++; return post.apply(this, args); };
const g = compile(f);
const first = g(ones([2])).toArray()[0];
const before = posts;
let last;
for (let i = 0; i < 10; i++) last = g(ones([2])).toArray()[0];
console.log(JSON.stringify({ first, last, postsPerCall: (posts - before) / 10 }));
`,
  });
  assert.equal([r.first, r.last], [3, 3]);
  assert.is(r.postsPerCall, 0, 'the compiled calls read the binding through the inspector');
});

Cold('a top-level var captured before its declaration ran is read again on every call', () => {
  // Hoisted, `scale` is undefined when the module's first call runs; its declaration then assigns it once.
  // Taken as constant at the first compile, the second call would still multiply by 1.
  const r = runProject({
    'model.mjs': `import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
export const f = (t) => t.mul(scale ?? 1);
const g = compile(f);
export const first = g(ones([2])).toArray()[0];
var scale = 2;
export const second = g(ones([2])).toArray()[0];
`,
    'main.mjs': "import { first, second } from './model.mjs';\nconsole.log(JSON.stringify({ first, second }));\n",
  });
  assert.equal([r.first, r.second], [1, 2]);
});

Cold("reading a function's captures costs three inspector round trips, and one release for the whole compile", () => {
  // Before, each function cost six: an evaluate, its internals, a listing of its scope list, one of each scope,
  // a fetch of a scope holding objects, and a release of its own.
  const r = runProject({
    'model.mjs': `const table = { scale: 2 };\nlet bias = 1;\nconst square = (t) => t.mul(t);\nfunction outer() { const k = 3; return (t) => square(t).mul(k).mul(table.scale).add(bias); }\nexport const f = outer();\n`,
    'main.mjs': `
import inspector from 'node:inspector';
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
import { f } from './model.mjs';
const calls = {};
const post = inspector.Session.prototype.post;
inspector.Session.prototype.post = function (method, ...rest) { calls[method] = (calls[method] ?? 0) + 1; return post.call(this, method, ...rest); };
const value = compile(f)(ones([2])).toArray()[0];
await new Promise((done) => setTimeout(done, 0));
console.log(JSON.stringify({ value, calls }));
`,
  });
  assert.is(r.value, 7);
  const calls = r.calls as Record<string, number>;
  // Two functions read (f and square): an evaluate, the internals and the scope list fetched into the heap.
  assert.is(calls['Runtime.evaluate'], 2);
  assert.is(calls['Runtime.getProperties'], 2, JSON.stringify(calls));
  assert.is(calls['Runtime.callFunctionOn'], 2, JSON.stringify(calls));
  assert.is(calls['Runtime.releaseObjectGroup'], 1, JSON.stringify(calls));
});

Cold("a function inside a \`with\` block reads the object's properties, non-enumerable ones too, as its captures", () => {
  // A with scope is the user's object itself, not a copy of the bindings: it is read as the inspector lists it.
  const r = runProject({
    'model.mjs': "export const make = new Function('o', 'with (o) { return (t) => t.mul(k).add(j); }');\n",
    'main.mjs': `
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
import { make } from './model.mjs';
const o = { k: 3 };
Object.defineProperty(o, 'j', { value: 1, enumerable: false });
const f = make(o);
console.log(JSON.stringify({ compiled: compile(f)(ones([2])).toArray()[0], eager: f(ones([2])).toArray()[0] }));
`,
  });
  assert.equal([r.compiled, r.eager], [4, 4]);
});

Cold.run();
