// The text scan that spares a fresh process's first compile a whole-script parse (trace/unassigned-scan.ts).
// It may answer "not proven" too often, never "unassigned" for a binding the script reassigns: checked case
// by case on the forms that assign, and against acorn's assignedNames on every identifier of real files.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'acorn';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assignedNames, scriptAssignments } from '../src/trace/ast-util.js';
import { provablyUnassigned } from '../src/trace/unassigned-scan.js';

const Scan = suite('unassigned scan: proving a binding is never reassigned without parsing');

Scan('imported, const, class and function bindings that are only called or dereferenced are proven', () => {
  const source = [
    "import { linear, layerNorm as norm } from 'kiln';",
    "import * as ns from './ns.mjs';",
    'import {',
    '  arange,',
    "} from 'kiln';",
    'const model = make();',
    'class Block { forward(x) { return linear(x, model.weight)[0]; } }',
    'function helper(x) { return ns.f(arange(x)); }',
    'export const y = norm(model?.bias, helper(1), Block.name, other.model);',
  ].join('\n');
  for (const name of ['linear', 'norm', 'ns', 'arange', 'model', 'Block', 'helper']) assert.ok(provablyUnassigned(source, name), name);
});

Scan('every form that assigns or declares without a value is not proven', () => {
  const cases: [string, string][] = [
    ['x = 1', 'plain assignment'],
    ['x += 1', 'compound assignment'],
    ['x ??= 1', 'logical assignment'],
    ['x++', 'postfix update'],
    ['++x', 'prefix update'],
    ['--\nx', 'prefix update across a line'],
    ['[a, x] = pair', 'array pattern'],
    ['({ x } = o)', 'object shorthand pattern'],
    ['({ k: x } = o)', 'object pattern value'],
    ['[...x] = list', 'rest element'],
    ['(x) = 1', 'parenthesized target'],
    ['for (x of xs) {}', 'for-of head'],
    ['for (x in o) {}', 'for-in head'],
    ['let x;', 'let without a value'],
    ['var x = 1;', 'var (may be redeclared)'],
    ['let x\n(f)', 'let, then a parenthesis on the next line (ASI)'],
    ['var x\n[0].map(g)', 'var, then a bracket on the next line (ASI)'],
    ['let x\n.5', 'let, then a number on the next line (ASI)'],
    ['x /* ( */ = 1', 'a comment between the name and the operator'],
    ['// ends with a dot.\nx = 1', 'a line comment ending in a dot before the name'],
    ['n\\u0061me = 1; x', 'unicode escapes anywhere'],
    ["const s = 'import { x } from'; x = 2", 'an import-like string'],
  ];
  for (const [code, why] of cases) {
    const name = why === 'unicode escapes anywhere' ? 'name' : 'x';
    assert.not.ok(provablyUnassigned(`const y = 0;\n${code}\n`, name), why);
  }
});

Scan('a name that only appears inside longer identifiers or property names is proven', () => {
  assert.ok(provablyUnassigned('let xs = 1; xs = 2; o.x = 3; o?.x; box = 1; const x = 1;', 'x'));
});

/** Identifiers of a parsed file, for the differential check. */
function identifiers(ast: any): Set<string> {
  const out = new Set<string>();
  const walk = (n: any): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Identifier') out.add(n.name);
    for (const k of Object.keys(n)) if (k !== 'type' && typeof n[k] === 'object') walk(n[k]);
  };
  walk(ast);
  return out;
}

Scan('never claims unassigned where acorn finds an assignment, on every identifier of real files', () => {
  const require = createRequire(import.meta.url);
  const acornDir = dirname(require.resolve('acorn'));
  const files = [
    ...readdirSync(acornDir).filter((f) => f.endsWith('.mjs')).map((f) => join(acornDir, f)),
    join(import.meta.dirname, '..', '..', '..', 'examples', 'models.mjs'),
    join(import.meta.dirname, '..', '..', '..', 'bench', 'cold-start', 'child.mjs'),
  ];
  let proven = 0;
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const ast = parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true });
    const assigned = assignedNames(ast);
    for (const name of identifiers(ast)) {
      if (!provablyUnassigned(source, name)) continue;
      proven++;
      assert.not.ok(assigned.has(name), `${file}: '${name}' is assigned, yet the scan proved it unassigned`);
    }
  }
  assert.ok(proven > 50, `the scan proved only ${proven} names: it no longer spares the parse`);
});

Scan('a top-level var with a value, declared once and assigned nowhere else, is set once; any other form is assigned', () => {
  const sets = (source: string) => {
    const { assigned, setOnceAtTopLevel } = scriptAssignments(parse(source, { ecmaVersion: 'latest', sourceType: 'module' }));
    return { assigned: [...assigned].sort(), once: [...setOnceAtTopLevel].sort() };
  };
  assert.equal(sets('var a = 1;\nexport var b = f(a), c = 2;\nvar d = class _d {};'), { assigned: [], once: ['a', 'b', 'c', 'd'] });
  const notOnce: [string, string][] = [
    ['var x = 1; x = 2;', 'assigned later'],
    ['var x = 1; x++;', 'updated'],
    ['var x = 1; var x = 2;', 'declared twice'],
    ['var x = 1; function g() { var x = 2; }', 'a nested var of the name'],
    ['var x;', 'no value'],
    ['{ var x = 1; }', 'not a top-level statement'],
    ['for (var x = 0; x < 1;) {}', "a loop's"],
    ['var x = 1; function g() { function x() {} }', 'a function of the same name'],
    ['var x = 1; const g = (x) => x;', 'a parameter of the same name'],
    ['var x = 1; try {} catch (x) {}', 'a catch binding of the same name'],
    ['var [x] = [1];', 'a pattern'],
  ];
  for (const [source, why] of notOnce) {
    const { assigned, once } = sets(source);
    assert.not.ok(once.includes('x'), `${why}: ${source}`);
    assert.ok(assigned.includes('x'), `${why}: ${source}`);
  }
});

Scan.run();
