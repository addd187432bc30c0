// The lowering table is keyed by core op: every core op of the registry has an entry (a rule or 'eager'),
// checked by the compiler for the op table's types and here for the ops registered at run time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorLib from '@kiln/tensor';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOWERING_TABLE, POINTWISE_RULES, loweredOps, lowerFormula } from '@kiln/lower';

const table = suite('lowering table');

table('every core op of the op table has an entry; no entry names a composite op', () => {
  // The library's own ops (other tests register ops of their own in this process).
  const ops = Object.values(tensorLib).flatMap((v) => (typeof v === 'function' && 'op' in v ? [(v as { op: tensorLib.OpDef }).op] : []));
  const core = [...new Set(ops.filter((op) => op.isCore).map((op) => op.name))].sort();
  assert.equal(Object.keys(LOWERING_TABLE).sort(), core);
});

table('a table without an entry for a core op does not compile', () => {
  const { neg: _dropped, ...rest } = LOWERING_TABLE;
  // @ts-expect-error: 'neg' is missing, and the table type requires every core op
  const incomplete: typeof LOWERING_TABLE = rest;
  assert.is(Object.keys(incomplete).length, Object.keys(LOWERING_TABLE).length - 1);
});

table('loweredOps: the ops with a rule, and composites lowered through their decomposition', () => {
  const ops = loweredOps();
  for (const op of ['add', 'gelu', 'matmul', 'sum', 'cat', 'stack', 'embedding', 'transpose']) assert.ok(ops.includes(op), op);
  for (const op of ['nonzero', 'item', 'rand', 'add_']) assert.not.ok(ops.includes(op), op);
});

table.run();

const once = suite('pointwise formulas are defined once');

once('every op with a registry formula lowers from it; no lowering rule repeats one', () => {
  const withFormula = tensorLib.allOps().filter((op) => op.formula !== undefined);
  for (const name of ['gelu', 'silu', 'sigmoid', 'tanh', 'erf', 'exp', 'neg']) assert.ok(withFormula.some((op) => op.name === name), `${name} has a formula`);
  for (const op of withFormula) {
    if (op.name in LOWERING_TABLE) assert.is(LOWERING_TABLE[op.name as tensorLib.CoreOpName], lowerFormula, `${op.name} lowers from its formula`);
    assert.not.ok(op.name in POINTWISE_RULES, `${op.name} also has a hand-written pointwise rule`);
  }
});

once("the lowering sources hold no composite formula's constants (gelu's, silu's sigmoid product)", () => {
  const dir = fileURLToPath(new URL('../src/lowering/', import.meta.url));
  const sources = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  for (const constant of ['0.044715', 'SQRT1_2', 'Math.sqrt(2 / Math.PI)']) assert.not.ok(sources.includes(constant), `lowering repeats ${constant}`);
  assert.not.match(sources, /\bgelu\b.*=>|\bsilu\b.*=>/, 'a per-op lowering of gelu or silu');
});

once.run();
