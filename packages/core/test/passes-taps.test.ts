// Built-in passes are separate named taps on hooks.graphPasses, so a plugin can put its own pass between any
// two of them (constant folding → CSE → DCE → decomposition).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { compileWith } from '../src/compile.js';
import { Compiler } from '../src/compiler.js';
import { CompileRecorder, explain } from '../src/explain.js';
import { PASS_STAGES } from '../src/hooks.js';
import { Node, printGraph } from '@kiln/graph';
import type { Graph } from '@kiln/graph';
import { assertSameValue } from './support/tracer.js';

const x = k.tensor([[0.5, -1, 2], [3, 0.25, -2]]);
const calls = (g: Graph, target: string) => g.nodes.filter((n) => n.kind === 'call' && n.target === target);

/** `add(%a, %a)` → `mul(%a, 2)`; the add is left dead for DCE to remove. */
function doubleToMul(graph: Graph): Graph {
  for (const node of calls(graph, 'add')) {
    const [a, b] = node.args;
    if (!(a instanceof Node) || a !== b) continue;
    const mul = graph.insertBefore(node, () => graph.call('mul', [a, 2], {}, { ...node.meta }));
    graph.replaceAllUsesWith(node, mul);
  }
  return graph;
}

const Passes = suite('passes as plugins');

Passes('each built-in pass is its own named tap, in the documented order', () => {
  const compiler = new Compiler();
  compiler.hooks.graphPasses.tap({ name: 'mine', stage: PASS_STAGES.cse + 1 }, (g) => g);
  compiler.hooks.graphPasses.tap({ name: 'first' }, (g) => g);
  compiler.hooks.graphPasses.tap({ name: 'before-decompose', stage: PASS_STAGES.decompose, before: 'kiln:decompose' }, (g) => g);
  assert.equal(
    compiler.hooks.graphPasses.taps.map((t) => t.name),
    ['first', 'kiln:constantFold', 'kiln:cse', 'mine', 'kiln:dce', 'before-decompose', 'kiln:decompose'],
  );
});

Passes('a plugin pass between CSE and DCE sees CSE output, and DCE cleans up after it', () => {
  const compiler = new Compiler();
  const seen: string[] = [];
  compiler.use({
    name: 'double-to-mul',
    apply(c) {
      c.hooks.graphPasses.tap({ name: 'double-to-mul', stage: PASS_STAGES.cse + 1 }, (graph) => {
        seen.push(printGraph(graph));
        return doubleToMul(graph);
      });
    },
  });
  // Two equal exp() calls: only after CSE is the add's operand one node twice.
  const f = (t: Tensor) => t.exp().add(t.exp()).sum(-1);
  const r = explain(f, { compiler, backend: 'eager' })(x);
  assertSameValue(r.result, f(x));
  assert.is(seen.length, 1);
  assert.is((seen[0]!.match(/ = exp\(/g) ?? []).length, 1, 'CSE already merged the two exp calls');
  assert.match(r.coreGraphs[0]!, /= mul\(%\d+, 2\)/, 'the rewrite reached the backend');
  assert.not.match(r.coreGraphs[0]!, /= add\(/, 'DCE ran after the plugin and removed the dead add');
});

Passes('without a stage a plugin pass runs first, on the graph as captured', () => {
  const compiler = new Compiler();
  let exps = -1;
  compiler.hooks.graphPasses.tap('count', (graph) => ((exps = calls(graph, 'exp').length), graph));
  const f = (t: Tensor) => t.exp().add(t.exp());
  const compiled = compileWith(f, { compiler }, new CompileRecorder());
  assertSameValue(compiled(x), f(x));
  assert.is(exps, 2, 'before CSE');
});

Passes.run();
