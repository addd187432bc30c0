// The lowering table is keyed by core op: every core op of the registry has an entry (a rule or 'eager'),
// checked by the compiler for the op table's types and here for the ops registered at run time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tensorLib from '@kiln/tensor';
import { LOWERING_TABLE, loweredOps } from '@kiln/lower';

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
