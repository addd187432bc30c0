// A script may carry what it reassigns as a build-time comment (scripts/bundle-packages.mjs stamps every Kiln
// bundle): the tracer then needs neither the text scan nor a whole-script parse to know which captured
// bindings may change. The comment holds a hash of the text it describes; a script edited after it was
// stamped is analysed as any other, so an edit that reassigns a binding is never missed.
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'acorn';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assignmentsComment, builtAssignments } from '../src/trace/built-assignments.js';
import { project, repoRoot, runNode, tensorUrl } from './support/project.js';

const Built = suite('build-time assignments of a script');
const coreUrl = pathToFileURL(join(repoRoot, 'packages/core/src/index.ts')).href;
const closuresUrl = pathToFileURL(join(repoRoot, 'packages/core/src/trace/closures.ts')).href;

const stamped = (text: string) => `${text}\n${assignmentsComment(text, parse(text, { ecmaVersion: 'latest', sourceType: 'module' }))}\n`;

Built('the comment gives the same answer as parsing the script, and only for the text it was made from', () => {
  const text = 'var scale = 3;\nlet step = 1;\nexport const bump = () => { step += 1; };\nexport const f = (t) => t.mul(scale).add(step);';
  const got = builtAssignments(stamped(text));
  assert.ok(got, 'a fresh stamp is read');
  assert.equal([...got.assigned], ['step']);
  assert.equal([...got.setOnceAtTopLevel], ['scale']);
  assert.is(builtAssignments(stamped(text).replace('step += 1', 'step += 2')), undefined, 'an edited script is not trusted');
  assert.is(builtAssignments(stamped(text).replace('"sha1":"', '"sha1":"0')), undefined);
  assert.is(builtAssignments(`${text}\n//# kilnAssignments={not json\n`), undefined);
  assert.is(builtAssignments(text), undefined);
});

const main = `
import { compile } from '${coreUrl}';
import { ones } from '${tensorUrl}';
import { wholeScriptParseCount } from '${closuresUrl}';
import { f, bump } from './model.mjs';
const g = compile(f);
const first = g(ones([2])).toArray()[0];
bump();
const second = g(ones([2])).toArray()[0];
console.log(JSON.stringify({ first, second, parses: wholeScriptParseCount() }));
`;

const run = (model: string) => {
  const dir = project({ 'model.mjs': model, 'main.mjs': main });
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'model.mjs'), old, old);
  const r = runNode(dir, ['main.mjs']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { first: number; second: number; parses: number };
};

Built("a stamped module's captures need no whole-script parse", () => {
  // `var` (what esbuild makes of a module's const) is beyond the text scan: unstamped, the script is parsed.
  const model = 'var scale = 3;\nexport const f = (t) => t.mul(scale);\nexport const bump = () => {};';
  assert.equal(run(model), { first: 3, second: 3, parses: 1 });
  assert.equal(run(stamped(model)), { first: 3, second: 3, parses: 0 });
});

Built('a module edited after it was stamped is parsed: a reassignment the stamp does not know stays guarded', () => {
  // Stamped when nothing assigned `scale`, then given a function that does (a hand fix of a built file). Taken
  // at its word, the stamp would make `scale` a constant and the second call would return a stale 2.
  const model = stamped('var scale = 2;\nexport const f = (t) => t.mul(scale);\nexport let bump = () => {};').replace('export let bump = () => {};', 'export let bump = () => { scale = 3; };');
  assert.equal(run(model), { first: 2, second: 3, parses: 1 });
});

Built.run();
