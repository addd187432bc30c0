import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import {
  Graph, GraphError, Interpreter, NodeExecutionError, cse, constantFold, dce, deserializeGraph, printGraph,
  runPasses, serializeGraph, traceOps, verify,
} from '@kiln/graph';
import { assertClose, assertGolden } from './support.js';

k.manualSeed(1);
const W1 = k.randn([16, 32]);
const W2 = k.randn([32, 8]);
function mlp(x: k.Tensor) {
  const h = x.matmul(W1).add(1).gelu();
  return h.matmul(W2).softmax(-1);
}

const printing = suite('graph printing');

printing('API and core graphs of an MLP print as golden files', () => {
  const { apiGraph, coreGraph } = traceOps(mlp, [k.randn([4, 16])]);
  assertGolden('graph-mlp/api.txt', printGraph(apiGraph));
  assertGolden('graph-mlp/core.txt', printGraph(coreGraph));
});

printing('printing is deterministic and one line per node', () => {
  const { coreGraph } = traceOps(mlp, [k.randn([4, 16])]);
  const once = printGraph(coreGraph);
  assert.is(printGraph(coreGraph), once);
  const nodeLines = once.split('\n').filter((l) => !l.startsWith('#'));
  assert.is(nodeLines.length, coreGraph.nodes.length);
});

printing.run();

const levels = suite('API graph and core graph');

levels('the API graph keeps composite ops; the core graph has only core ops', () => {
  const { apiGraph, coreGraph } = traceOps(mlp, [k.randn([4, 16])]);
  const targets = (g: Graph) => g.nodes.filter((n) => n.kind === 'call').map((n) => n.target);
  assert.ok(targets(apiGraph).includes('softmax'));
  assert.not.ok(targets(coreGraph).includes('softmax'));
  for (const t of targets(coreGraph)) assert.ok(t === 'getitem' || k.getOp(t)!.isCore, `${t} is core`);
  verify(apiGraph);
  verify(coreGraph);
});

levels('every core node carries a shape and dtype', () => {
  const { coreGraph } = traceOps(mlp, [k.randn([4, 16])]);
  for (const n of coreGraph.nodes) if (n.kind !== 'output') assert.ok(n.meta.val !== undefined, `%${n.name}`);
});

levels.run();

const interp = suite('interpreter');

interp('runs the core graph with eager kernels and matches eager, also at a new size', () => {
  const { coreGraph, apiGraph } = traceOps(mlp, [k.randn([4, 16])]);
  for (const rows of [4, 9]) {
    const x = k.randn([rows, 16]);
    const expected = mlp(x);
    assertClose((new Interpreter(coreGraph).run([x]) as k.Tensor[])[0]!, expected, 1e-5);
    assertClose((new Interpreter(apiGraph).run([x]) as k.Tensor[])[0]!, expected, 1e-6);
  }
});

interp('an error names the failing node and its printed form', () => {
  const g = new Graph();
  const a = g.placeholder('a');
  const b = g.placeholder('b');
  g.output(g.call('add', [a, b]));
  try {
    new Interpreter(g).run([k.ones([2]), k.ones([3])]);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, NodeExecutionError);
    assert.match((err as Error).message, /while executing %2: \? = add\(%a, %b\)/);
    assert.match((err as Error).message, /cannot be broadcast/);
  }
});

interp.run();

const passes = suite('passes');

passes('cse merges repeated pure calls and dce removes what nobody reads', () => {
  const { apiGraph } = traceOps((x: k.Tensor) => {
    x.exp();
    return x.add(1).mul(x.add(1));
  }, [k.randn([3])]);
  const count = (t: string) => apiGraph.nodes.filter((n) => n.target === t).length;
  assert.is(count('add'), 2);
  assert.ok(cse(apiGraph));
  assert.is(count('add'), 1);
  assert.is(count('exp'), 1);
  assert.ok(dce(apiGraph));
  assert.is(count('exp'), 0);
  verify(apiGraph);
  const x = k.tensor([1, 2, 3]);
  assert.equal((new Interpreter(apiGraph).run([x]) as k.Tensor[])[0]!.toArray(), x.add(1).mul(x.add(1)).toArray());
});

passes('dce keeps random ops even when unused', () => {
  const { apiGraph } = traceOps((x: k.Tensor) => {
    k.rand([2]);
    return x.neg();
  }, [k.randn([3])]);
  dce(apiGraph);
  assert.ok(apiGraph.nodes.some((n) => n.target === 'rand'));
});

passes('constantFold evaluates ops on constants and leaves inputs alone', () => {
  const c = k.tensor([1, 2, 3]);
  const { apiGraph } = traceOps((x: k.Tensor) => x.add(c.mul(2).exp()), [k.randn([3])]);
  runPasses(apiGraph, undefined, { verifyEach: true });
  assert.not.ok(apiGraph.nodes.some((n) => n.target === 'exp' || n.target === 'mul'));
  const x = k.tensor([0.5, 0.25, 0]);
  assertClose((new Interpreter(apiGraph).run([x]) as k.Tensor[])[0]!, x.add(c.mul(2).exp()));
});

passes('the pass manager names each pass in its dumps', () => {
  const { apiGraph } = traceOps((x: k.Tensor) => x.add(1).add(1), [k.randn([3])]);
  const seen: string[] = [];
  runPasses(apiGraph, undefined, { dump: (name) => seen.push(name) });
  assert.equal(seen, ['constantFold', 'cse', 'dce']);
});

passes('verify rejects a graph whose users are out of sync', () => {
  const g = new Graph();
  const a = g.placeholder('a');
  const n = g.call('neg', [a]);
  g.output(n);
  a.users.delete(n);
  assert.throws(() => verify(g), (e: unknown) => e instanceof GraphError && /missing from the users of %a/.test((e as Error).message));
});

passes.run();

const serial = suite('serialization');

serial('graph JSON round-trips exactly, symbols, constants and all', () => {
  const c = k.tensor([[1, 2]]);
  const { coreGraph } = traceOps((x: k.Tensor, y: k.Tensor) => x.add(c).mul(y.sum(0)), [k.randn([3, 2]), k.randn([5, 2])]);
  const json = JSON.stringify(serializeGraph(coreGraph));
  const back = deserializeGraph(JSON.parse(json));
  assert.is(printGraph(back), printGraph(coreGraph));
  assert.is(JSON.stringify(serializeGraph(back)), json);
  verify(back);
  const x = k.randn([4, 2]);
  const y = k.randn([6, 2]);
  assertClose((new Interpreter(back).run([x, y]) as k.Tensor[])[0]!, x.add(c).mul(y.sum(0)));
});

serial.run();
