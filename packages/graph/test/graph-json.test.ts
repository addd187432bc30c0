// Graph JSON from outside: deserializeGraph checks it at the boundary, so bad input is a GraphError naming
// the node and field — never a raw TypeError, never a graph that computes garbage. A seeded fuzzer mutates
// valid graphs: every mutation must give a graph that verifies and runs (or raises a Kiln error as eager
// would), or a typed error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import { Graph, GraphError, Interpreter, Node, NodeExecutionError, deserializeGraph, serializeGraph, traceOps, verify, type GraphJson } from '@kiln/graph';
import { assertClose } from './support.js';
import { fuzzSettings, fuzzTimeLeft } from '../../../test-support/fuzz-settings.js';
import { mutateJson, seededRandom } from '../../../test-support/json-mutation.js';

const c = k.tensor([[1, 2]]);
const addConst = traceOps((x: k.Tensor) => x.add(c), [k.randn([3, 2])]).coreGraph;
const json = () => JSON.parse(JSON.stringify(serializeGraph(addConst))) as GraphJson & { nodes: any[] };
const constantNode = (j: { nodes: any[] }) => j.nodes.find((n) => n.kind === 'constant');

function rejected(mutate: (j: any) => void, message: string): void {
  const j = json();
  mutate(j);
  try {
    deserializeGraph(j);
    assert.unreachable(`accepted ${JSON.stringify(j).slice(0, 200)}`);
  } catch (error) {
    if (!(error instanceof GraphError)) throw new Error(`raised ${String(error)}, not a GraphError`);
    assert.ok(String(error).includes(message), `${String(error)}\nshould say: ${message}`);
  }
}

const boundary = suite('graph JSON: checked at the boundary');

boundary('a constant whose data contradicts its shape is refused (it used to compute NaN)', () => {
  rejected((j) => (constantNode(j).args[0].tensor.data = [1]), 'node %1: a int32 constant of shape [1, 2] needs 2 values, but its data has 1');
  rejected((j) => (constantNode(j).args[0].tensor.data = [1, 2, 3]), 'needs 2 values, but its data has 3');
  rejected((j) => (constantNode(j).args[0].tensor.data = [1, 2.5]), 'a int32 constant holds 2.5');
  rejected((j) => (constantNode(j).args[0].tensor.shape = [1, -2]), 'a tensor size is -2, not an integer >= 0');
  rejected((j) => (constantNode(j).args[0].tensor.dtype = 'float16'), 'the dtype "float16" is not one of');
  rejected((j) => (constantNode(j).meta.val.fake.shape = [2, 2]), 'its value is recorded as int32[2, 2] but the constant is int32[1, 2]');
});

boundary('null and missing fields are GraphErrors naming the node and field, not TypeErrors', () => {
  rejected((j) => (j.nodes[0].meta = null), 'node %arg0: meta is null, not an object');
  rejected((j) => (j.nodes[1].args = null), 'node %1: args is null, not a list');
  rejected((j) => (j.nodes[2].kwargs = null), 'node %2: kwargs is null');
  rejected((j) => (j.nodes[2].args = [null, { node: 'arg0' }]) && (j.nodes[2].args[0] = { node: null }), 'refers to node null');
  rejected((j) => (j.nodes = null), 'nodes is null, not a list');
  rejected((j) => (j.nodes[0] = null), 'node 0: the node is null');
  rejected((j) => (j.symbols = null), 'symbols is null');
  rejected((j) => (j.asserts = [{ expr: 'u0 > 1', cond: { rel: '>', diff: 1 } }]), 'a condition has the relation ">"');
  for (const bad of [null, 7, 'graph', []]) {
    assert.throws(() => deserializeGraph(bad as never), (e: unknown) => e instanceof GraphError && /top level: the JSON is/.test(String(e)));
  }
});

boundary('names, references, kinds and targets are checked', () => {
  rejected((j) => (j.nodes[1].name = 'arg0'), 'the name "arg0" is used twice');
  rejected((j) => (j.nodes[2].args[0] = { node: '3' }), 'refers to node "3", which is not defined before it');
  rejected((j) => (j.nodes[2].target = 'no_such_op'), "unknown op 'no_such_op'");
  rejected((j) => (j.nodes[1].target = 'add'), 'a constant node has the target "add"');
  rejected((j) => (j.nodes[2].kind = 'eval'), 'kind is "eval"');
  rejected((j) => j.nodes.pop(), 'has no output node');
  rejected((j) => j.nodes.push({ ...j.nodes[3], name: 'again' }), 'graph already has an output node');
  rejected((j) => (j.nodes[2].args[1] = { node: 'arg0', tensor: {} }), 'has more than one tag');
  // Found by the fuzzer: a (fake) tensor inside a call's arguments sent Node.inputs() round a cycle.
  rejected((j) => (j.nodes[2].args[1] = j.nodes[0].meta.val), 'node %2: a { fake } value cannot appear in the arguments of a node');
  rejected((j) => (j.nodes[2].args[1] = j.nodes[1].args[0]), 'a { tensor } value cannot appear in the arguments of a node');
  rejected((j) => (j.nodes[1].args[0] = { node: 'arg0' }), 'a { node } value cannot appear in a constant');
});

boundary('symbolic sizes: symbol names must be identifiers, expressions well-formed', () => {
  const fake = (j: any) => j.nodes[0].meta.val.fake;
  rejected((j) => (fake(j).shape[0].sym.terms[0][1][0][0] = { sym: 's0; globalThis.pwned = 1' }), 'a symbol name is "s0; globalThis.pwned = 1", not an identifier');
  rejected((j) => (fake(j).shape[0].sym.terms[0][1][0][1] = 0.5), 'a power is 0.5');
  rejected((j) => (fake(j).shape[0].sym.terms[0][1][0][0] = { call: 'Mod', args: [1] }), 'Mod has 1 arguments');
  rejected((j) => (fake(j).shape[0].sym.terms = null), 'the terms of a size expression is null');
  rejected((j) => (fake(j).strides = [1]), 'a fake tensor has 2 sizes but 1 strides');
  rejected((j) => (j.symbols[0].name = '__proto__ x'), 'a symbol name is "__proto__ x"');
  assert.is((globalThis as { pwned?: unknown }).pwned, undefined);
});

boundary('non-finite constants survive the round trip (JSON used to turn NaN and Infinity into 0)', () => {
  const special = k.tensor([NaN, Infinity, -Infinity, -0, 1.5]);
  const g = traceOps((x: k.Tensor) => x.add(special), [k.zeros([5])]).coreGraph;
  const back = deserializeGraph(JSON.parse(JSON.stringify(serializeGraph(g))));
  const out = (new Interpreter(back).run([k.zeros([5])]) as k.Tensor[])[0]!;
  assert.equal(Array.from(out.toTypedArray()), [NaN, Infinity, -Infinity, 0, 1.5]);
});

boundary('Tensor.fromData refuses data that does not fill its shape, before any compiled code runs', () => {
  const short = () => k.Tensor.fromData(new Float32Array(2), [100000], 'float32');
  assert.throws(short, (e: unknown) => e instanceof k.ShapeError && /shape \[100000\] has 100000 elements but the Float32Array holds 2/.test(String(e)));
  assert.throws(() => k.Tensor.fromData(new Float64Array(4), [2, 2], 'float32'), (e: unknown) => e instanceof k.KilnTypeError && /float32 data must be a Float32Array, got a Float64Array/.test(String(e)));
  assert.throws(() => k.Tensor.fromData([1, 2] as never, [2], 'float32'), (e: unknown) => e instanceof k.KilnTypeError);
  assert.throws(() => k.Tensor.fromData(new Int32Array(2), [2], 'int64' as never), (e: unknown) => e instanceof k.KilnTypeError && /dtype must be one of/.test(String(e)));
  assert.throws(() => k.Tensor.fromData(new Float32Array(2), [2.5] as never, 'float32'), (e: unknown) => e instanceof k.ValueError && /2.5, not a non-negative integer/.test(String(e)));
  assert.throws(() => k.Tensor.fromData(new Float32Array(0), [-1, 0], 'float32'), (e: unknown) => e instanceof k.ValueError);
  assert.equal(k.Tensor.fromData(new Int32Array([1, 2, 3, 4]), [2, 2], 'int32').toArray(), [[1, 2], [3, 4]]);
});

boundary('verify (run on every deserialized graph) asks each node for its inputs once, not once per input', () => {
  // A 5,000-input cat took 26 s to verify (and so to deserialize): each input re-collected the cat's inputs.
  const g = new Graph('api');
  const inputs = Array.from({ length: 2000 }, (_, i) => g.placeholder(`p${i}`));
  g.output([g.call('cat', [inputs, 0])]);
  const original = Node.prototype.inputs;
  let calls = 0;
  Node.prototype.inputs = function (this: Node) {
    calls++;
    return original.call(this);
  };
  try {
    deserializeGraph(JSON.parse(JSON.stringify(serializeGraph(g))));
  } finally {
    Node.prototype.inputs = original;
  }
  assert.ok(calls <= 2 * g.nodes.length, `inputs() called ${calls} times for ${g.nodes.length} nodes`);
});

boundary.run();

const fuzz = suite('graph JSON: mutation fuzz');

const REPLACEMENTS: unknown[] = [null, 0, -1, 1.5, 2 ** 31, NaN, '', 'x', '__proto__', 'constructor', [], {}, true, { node: 'arg0' }, { undef: true }, { num: 'NaN' }, [[]]];

fuzz('every mutation of a valid graph gives a verified graph or a typed error, never a raw TypeError', () => {
  const W = k.randn([4, 3]);
  const cases: [GraphJson, k.Tensor[]][] = [
    [serializeGraph(addConst), [k.randn([3, 2])]],
    [serializeGraph(traceOps((x: k.Tensor, y: k.Tensor) => x.matmul(W).softmax(-1).add(y.sum(0, true)), [k.randn([5, 4]), k.randn([2, 3])]).coreGraph), [k.randn([5, 4]), k.randn([2, 3])]],
    [serializeGraph(traceOps((x: k.Tensor) => x.reshape([-1, 2]).transpose(0, 1).amax(1), [k.randn([4, 3])]).coreGraph), [k.randn([4, 3])]],
  ];
  // CI: 1,500 mutations from a fixed seed; `pnpm fuzz graph-json --runs N --seed S` for a long run.
  const settings = fuzzSettings({ runs: 1500, seed: 0x5eed });
  const next = seededRandom(settings.seed);
  let accepted = 0;
  let refused = 0;
  let run = 0;
  for (; run < settings.runs && fuzzTimeLeft() > 0; run++) {
    const [base, inputs] = cases[run % cases.length]!;
    const mutated = mutateJson(base, next, REPLACEMENTS);
    let graph;
    try {
      graph = deserializeGraph(mutated as GraphJson);
    } catch (error) {
      if (!(error instanceof k.KilnError)) throw new Error(`run ${run}: deserializeGraph raised ${String(error)}\n${JSON.stringify(mutated).slice(0, 600)}`);
      refused++;
      continue;
    }
    accepted++;
    verify(graph);
    try {
      new Interpreter(graph).run(inputs);
    } catch (error) {
      // The interpreter wraps what an op raised; the op's own error must be typed too.
      const cause = error instanceof NodeExecutionError ? error.cause : error;
      if (!(cause instanceof k.KilnError)) throw new Error(`run ${run}: running the graph raised ${String(cause)}\n${JSON.stringify(mutated).slice(0, 600)}`);
    }
  }
  if (settings.long) console.log(`[fuzz graph-json] ${run} mutations from seed ${settings.seed}: ${accepted} accepted, ${refused} refused, 0 untyped errors`);
  // Both outcomes happen: the fuzzer reaches past the first check.
  if (!settings.long) assert.ok(accepted > 50 && refused > 500, `accepted ${accepted}, refused ${refused}`);
});

fuzz('an unmutated graph still round-trips and computes what eager computes', () => {
  const x = k.randn([6, 2]);
  const back = deserializeGraph(json());
  assertClose((new Interpreter(back).run([x]) as k.Tensor[])[0]!, x.add(c));
});

fuzz.run();
