// exportProgram's contract beyond the demo models: fullgraph errors naming the line, dynamic dims that run at
// sizes never seen, Dim constraints the trace cannot keep, the asserts a trace relies on, baked-in
// constants, nested argument and return structures, and the typed errors a call raises.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '@kiln/backend-cpu';
import { FullGraphError, check } from '@kiln/core';
import * as k from '@kiln/tensor';
import {
  ConstraintViolationError, Dim, DimRangeError, ExportError, InputConstantError, InputRelationError, InputStructureError,
  exportProgram, loadProgram, programModule, saveProgram,
} from '@kiln/export';

const Capture = suite('export: fullgraph capture');
const Dims = suite('export: dynamic dims and constraints');
const Specs = suite('export: argument and return specs');

const rand = (shape: number[], seed = 1) => k.randn(shape, { generator: new k.Generator(seed) });
const roundTrip = <T>(p: ReturnType<typeof exportProgram>) => loadProgram(saveProgram(p), { backend: 'cpu' }) as (...a: unknown[]) => T;
const throwsWith = (run: () => unknown, cls: Function, pattern: RegExp) =>
  assert.throws(run, (e: unknown) => e instanceof cls && pattern.test((e as Error).message), `${cls.name} ${pattern}`);

Capture('a graph break is a FullGraphError that names the source line and the reason', () => {
  function logs(x: k.Tensor) {
    const h = x.mul(2);
    console.log('rows', h.shape[0]);
    return h.relu();
  }
  throwsWith(() => exportProgram(logs, [rand([3, 4])]), FullGraphError, /export-specs\.test\.ts:\d+: call to 'console\.log' is skipped/);
  function branches(x: k.Tensor) {
    if ((x.sum().item() as number) > 0) return x;
    return x.neg();
  }
  throwsWith(() => exportProgram(branches, [rand([3])]), FullGraphError, /export-specs\.test\.ts:\d+: .*item/);
});

Dims('dynamic: true makes every dim symbolic; the program runs at sizes never seen at export time', () => {
  const W = rand([5, 6], 2);
  const f = (x: k.Tensor) => x.matmul(W).softmax(-1).sum(0);
  const program = exportProgram(f, [rand([4, 5])], { dynamic: true });
  assert.equal(program.inputs[0]!.kind === 'tensor' && program.inputs[0]!.shape, [{ sym: 's0' }, 5]);
  assert.equal(program.dims.map((d) => [d.name, d.min, d.max]), [['s0', 2, Infinity]]);
  const run = roundTrip<k.Tensor>(program);
  for (const n of [2, 3, 17, 100]) {
    const x = rand([n, 5], n);
    assert.ok((run(x).sub(f(x)).abs().max().item() as number) < 1e-5, `rows ${n}`);
  }
  throwsWith(() => run(rand([1, 5])), DimRangeError, /x\.shape\[0\] \(s0\) is 1, outside the exported range \[2, Infinity\]/);
});

Dims('two inputs the code adds share a symbol; a call where they differ is an InputRelationError naming the input', () => {
  const program = exportProgram((x: k.Tensor, y: k.Tensor) => x.add(y), [rand([3, 4]), rand([3, 4])], { dynamic: true });
  assert.equal(program.dims.map((d) => d.places), [['x.shape[0]', 'y.shape[0]'], ['x.shape[1]', 'y.shape[1]']]);
  const run = roundTrip<k.Tensor>(program);
  assert.equal(run(rand([6, 2]), rand([6, 2])).shape, [6, 2]);
  throwsWith(() => run(rand([6, 2]), rand([5, 2])), InputRelationError, /input 'y' dim 0 is 5, but the program needs it equal to s0 \(x\.shape\[0\]\) = 6/);
});

Dims('a Dim the code specializes, two Dims the code equates, and a range the code narrows are ConstraintViolationErrors', () => {
  const bias = rand([5]);
  throwsWith(() => exportProgram((x: k.Tensor) => x.add(bias), [rand([3, 5])], { dims: [{ 1: Dim('features') }] }), ConstraintViolationError, /x\.shape\[1\] is declared dynamic as Dim\('features'.*specialized it to 5/);
  throwsWith(
    () => exportProgram((x: k.Tensor, y: k.Tensor) => x.add(y), [rand([3, 4]), rand([3, 4])], { dims: [{ 0: Dim('a') }, { 0: Dim('b') }] }),
    ConstraintViolationError,
    /x\.shape\[0\] \(a\) and y\.shape\[0\] \(b\) must be equal.*\n.*use the same Dim/,
  );
  const a = Dim('a');
  assert.equal(exportProgram((x: k.Tensor, y: k.Tensor) => x.add(y), [rand([3, 4]), rand([3, 4])], { dims: [{ 0: a }, { 0: a }] }).dims.map((d) => d.name), ['a']);
  function capped(x: k.Tensor) {
    if (x.shape[0]! > 16) return x.mul(2);
    return x;
  }
  throwsWith(() => exportProgram(capped, [rand([8])], { dims: [{ 0: Dim('n', { max: 1024 }) }] }), ConstraintViolationError, /only works for n in \[2, 16\][^]*Dim\('n', \{ min: 2, max: 16 \}\)/);
  const ok = loadProgram(saveProgram(exportProgram(capped, [rand([8])], { dims: [{ 0: Dim('n', { min: 2, max: 16 }) }] })));
  assert.equal((ok(rand([16])) as k.Tensor).shape, [16]);
  throwsWith(() => ok(rand([17])), DimRangeError, /x\.shape\[0\] \(n\) is 17, outside the exported range \[2, 16\]/);
});

Dims('bad Dim and dims specs are ExportErrors naming the argument', () => {
  throwsWith(() => Dim('two words'), ExportError, /name must be an identifier/);
  throwsWith(() => Dim('n', { min: 5, max: 2 }), ExportError, /max must be an integer >= min/);
  throwsWith(() => exportProgram((x: k.Tensor) => x.relu(), [rand([3])], { dims: [{ 2: Dim('n') }] }), ExportError, /dims for 'x': dim 2 is out of range for a tensor of rank 1/);
  throwsWith(() => exportProgram((x: k.Tensor) => x.relu(), [rand([1, 4])], { dims: [{ 0: Dim('n') }] }), ConstraintViolationError, /x\.shape\[0\] is 1 in the example inputs/);
  throwsWith(() => exportProgram((x: k.Tensor) => x.relu(), [rand([40])], { dims: [{ 0: Dim('n', { max: 32 }) }] }), ConstraintViolationError, /x\.shape\[0\] is 40 in the example inputs, outside Dim\('n'/);
  throwsWith(() => exportProgram((x: k.Tensor) => x.relu(), [rand([3])], { dynamc: true } as never), ExportError, /unknown option 'dynamc'/);
});

Dims('a relation between two dims the trace branched on is an assert of the program, checked on every call', () => {
  function shorter(x: k.Tensor, y: k.Tensor) {
    if (x.shape[0]! < y.shape[0]!) return x.sum();
    return y.sum();
  }
  const program = exportProgram(shorter, [rand([3]), rand([5])], { dims: [{ 0: Dim('a') }, { 0: Dim('b') }] });
  assert.equal(program.asserts.map((a) => [a.kind, a.text]), [['relation', 'a < b']]);
  const run = roundTrip<k.Tensor>(program);
  assert.ok(Math.abs((run(rand([4], 3), rand([9], 4)).item() as number) - (rand([4], 3).sum().item() as number)) < 1e-5, 'takes the branch for a < b');
  throwsWith(() => run(rand([9]), rand([4])), InputRelationError, /the inputs break a relation the program relies on: a < b/);
});

Dims('check() in the function becomes an assert with its message', () => {
  function even(x: k.Tensor) {
    check(x.shape[0]! > 3, 'need more than 3 rows');
    return x.mul(2);
  }
  const run = roundTrip<k.Tensor>(exportProgram(even, [rand([6, 2])], { dynamic: true }));
  assert.equal(run(rand([4, 2])).shape, [4, 2]);
  throwsWith(() => run(rand([3, 2])), InputRelationError, /check failed for these inputs: .*need more than 3 rows/);
});

Specs('nested arguments and return values keep their structure; sizes and constants are returned as numbers', () => {
  const f = (batch: { ids: k.Tensor; scale: k.Tensor }, pair: [k.Tensor, k.Tensor], label: string) => ({
    out: batch.ids.mul(batch.scale).add(pair[0]),
    rows: batch.ids.shape[0],
    extra: [pair[1].relu(), label],
    same: pair[1],
  });
  const args = [{ ids: rand([3, 4]), scale: rand([4]) }, [rand([3, 4]), rand([2])], 'tag'];
  const program = exportProgram(f, args, { dims: [{ ids: { 0: Dim('n') } }, [{ 0: Dim('n') }, null]] });
  assert.equal(program.inputs.map((i) => i.name), ['batch.ids', 'batch.scale', 'pair[0]', 'pair[1]', 'label']);
  const run = roundTrip<any>(program);
  const call = [{ ids: rand([7, 4], 5), scale: rand([4], 6) }, [rand([7, 4], 7), rand([2], 8)], 'tag'] as const;
  const got = run(...call);
  const want = f(call[0], call[1] as [k.Tensor, k.Tensor], call[2]);
  assert.equal(Object.keys(got), ['out', 'rows', 'extra', 'same']);
  assert.ok(got.out.sub(want.out).abs().max().item() < 1e-6);
  assert.is(got.rows, 7);
  assert.equal(got.extra[0].toArray(), (want.extra[0] as k.Tensor).toArray());
  assert.is(got.extra[1], 'tag');
  assert.is(got.same, call[1][1], 'an input returned as itself is the same tensor');
  throwsWith(() => run(call[0], call[1], 'other'), InputConstantError, /input 'label' must be "tag"/);
  throwsWith(() => run(call[0], call[1]), InputStructureError, /the arguments have structure/);
});

Specs('a non-contiguous example and call inputs are accepted (the program makes inputs contiguous)', () => {
  const f = (x: k.Tensor) => x.mul(3);
  const program = programModule(exportProgram(f, [rand([4, 3]).transpose(0, 1)], { dynamic: true }));
  const x = rand([5, 6]).transpose(0, 1);
  assert.equal((program(x) as k.Tensor).toArray(), f(x).toArray());
});

Capture.run();
Dims.run();
Specs.run();
