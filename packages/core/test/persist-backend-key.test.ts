// The backend key of a graph a frame entry kept (its digest and call targets beside it, the graph decoded only
// when read) is the key the decoded graph itself gets: without decoding it when every op is Kiln's own (their
// code is in Kiln's stamp), by decoding it when an op a user or a plugin defined must be keyed by its code.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Graph, deserializeGraph, serializeGraph } from '@kiln/graph';
import type { Node } from '@kiln/graph';
import { EAGER_CAPABILITIES } from '@kiln/lower';
import type { Backend, CompiledGraph } from '@kiln/lower';
import { defineOp, scalar } from '@kiln/tensor';
import { Compiler } from '../src/compiler.js';
import { compileThroughCache, graphDigest, keyTargets } from '../src/persist/backend-cache.js';
import type { KeptGraph } from '../src/persist/backend-cache.js';

const Key = suite('persistent cache: the backend key of a kept graph');
// As the frame cache reads its own entries (these graphs carry no shapes, which a verified read wants).
const TRUSTED = { madeByThisCode: true } as const;

// Registered here, after Kiln's own: an op keyed by its code.
defineOp({ name: 'keyTestSquare', category: 'pointwise', method: false, positional: [{ name: 'self', type: 'Tensor', hasDefault: false }], formula: ([x]) => scalar.mul(x, x) });

function graphOf(...targets: string[]): Graph {
  const g = new Graph('core');
  let last: Node = g.placeholder('x');
  for (const t of targets) last = g.call(t, [last]);
  g.output(last);
  return g;
}

/** The key compileThroughCache asks the cache plugins for (nothing is found; the stub backend keeps nothing). */
function keyFor(source: Graph | KeptGraph): string {
  const compiler = new Compiler();
  let asked: string | undefined;
  compiler.hooks.compileCacheLoad.tap('test', (key) => {
    asked = key.text;
    return undefined;
  });
  const compiled = { run: () => [], report: undefined } as unknown as CompiledGraph;
  const backend: Backend = { name: 'keytest', priority: 0, capabilities: EAGER_CAPABILITIES, compile: () => compiled, persist: { stamp: () => 'stamp', save: () => undefined, load: () => undefined } };
  compileThroughCache(compiler, backend, source, () => compiled);
  assert.ok(asked !== undefined, 'the cache was asked');
  return asked!;
}

/** As a frame entry keeps it: JSON, digest and targets, and a graph decoded from the JSON when asked for. */
function kept(graph: Graph): { kept: KeptGraph; decodes: () => number } {
  const json = serializeGraph(graph);
  let decodes = 0;
  const kept: KeptGraph = { graph: () => (decodes++, deserializeGraph(json, undefined, TRUSTED)), digest: graphDigest(json), targets: keyTargets(graph) };
  return { kept, decodes: () => decodes };
}

Key("Kiln's own ops: the same key as the decoded graph's, and the graph is never decoded", () => {
  const graph = graphOf('neg', 'exp');
  const { kept: source, decodes } = kept(graph);
  assert.is(keyFor(source), keyFor(deserializeGraph(serializeGraph(graph), undefined, TRUSTED)));
  assert.is(decodes(), 0);
});

Key("an op a user defined: the same key as the decoded graph's, which holds the op's code (read from the graph)", () => {
  const graph = graphOf('neg', 'keyTestSquare');
  const { kept: source, decodes } = kept(graph);
  const text = keyFor(source);
  assert.is(text, keyFor(deserializeGraph(serializeGraph(graph), undefined, TRUSTED)));
  assert.ok(decodes() > 0, 'decoded for the op code');
  assert.match(text, /"keyTestSquare":"[0-9a-f]{16}"/);
  // Without its targets (meta the key refuses, say) the graph is read too, with the same answer.
  assert.is(keyFor({ ...source, targets: undefined }), text);
});

Key('targets leave out nothing the key reads: a node with meta a plugin set has none', () => {
  const graph = graphOf('neg');
  assert.equal(keyTargets(graph), ['neg']);
  graph.nodes[1]!.meta.fromPlugin = true;
  assert.is(keyTargets(graph), undefined);
});

Key.run();
