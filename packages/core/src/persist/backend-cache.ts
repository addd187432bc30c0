// The backend level of the persistent cache, like PT2's FX graph cache: what a backend made of one graph,
// keyed by the graph itself (every node, shape, dtype, constant and source line), the backend's name,
// capabilities and code stamp, and Kiln's identity. Reusing it can only give what compiling that graph gives.
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { serializeGraph } from '@kiln/graph';
import type { Graph, GraphJson } from '@kiln/graph';
import type { Backend, CompiledGraph } from '@kiln/lower';
import { getOp } from '@kiln/tensor';
import type { Compiler } from '../compiler.js';
import { backendKeyBase, keyJson } from './key.js';
import type { PersistentCacheKey } from '../hooks.js';
import { log } from '../logs/index.js';

const NODE_META = new Set(['val', 'source', 'inputSource']);

/** Targets a later process resolves by name alone: registry ops (a user's opaque function is not one). */
export function isRegistryOp(target: string): boolean {
  if (target === 'getitem' || target.startsWith('sym.')) return true;
  try {
    return getOp(target) !== undefined;
  } catch {
    return false;
  }
}

/** Graphs read back from a frame entry, with the JSON they were read from (what serializeGraph would write). */
const keptJson = new WeakMap<Graph, GraphJson>();
export const rememberGraphJson = (graph: Graph, json: GraphJson): void => void keptJson.set(graph, json);

/** The key for `graph` on `backend`, or undefined when the graph holds what the key could not spell. */
function backendKey(backend: Backend, graph: Graph): PersistentCacheKey | undefined {
  const base = backendKeyBase();
  if (!base || !backend.persist) return undefined;
  const ops: Record<string, string> = {};
  for (const n of graph.nodes) {
    // Free-form meta a plugin pass set could steer lowering: not in the key, so not cached.
    if (Object.keys(n.meta).some((k) => !NODE_META.has(k))) return undefined;
    if (n.kind !== 'call') continue;
    if (!isRegistryOp(n.target)) return undefined;
    // An op a plugin or the user defined is keyed by its code too (Kiln's own are covered by the stamps).
    const op = getOp(n.target);
    if (op && !(n.target in ops)) ops[n.target] = createHash('sha256').update(`${op.kernel}\0${op.meta}\0${op.decompose}`).digest('hex').slice(0, 16);
  }
  try {
    const text = keyJson({ ...base, backend: backend.name, capabilities: backend.capabilities, stamp: backend.persist.stamp(), ops, graph: keptJson.get(graph) ?? serializeGraph(graph) });
    return { kind: 'backend', text, label: `backend ${backend.name}` };
  } catch {
    return undefined;
  }
}

/**
 * `compile()` through the persistent cache when a plugin taps it: a stored result for exactly this graph is
 * loaded; otherwise the graph is compiled and the result offered for storing.
 */
export function compileThroughCache(compiler: Compiler, backend: Backend, graph: Graph, compile: () => CompiledGraph): CompiledGraph {
  const { compileCacheLoad, compileCacheStore } = compiler.hooks;
  if (!compileCacheLoad.isUsed() && !compileCacheStore.isUsed()) return compile();
  if (!backend.persist) {
    log('cache', '', `backend ${backend.name}: programs not kept in the persistent cache (the backend offers no persistence; its traced frames still are)`);
    return compile();
  }
  const key = backendKey(backend, graph);
  if (!key) return compile();
  const payload = compileCacheLoad.call(key);
  if (payload) {
    try {
      const loaded = backend.persist!.load(deserialize(payload), graph);
      if (loaded) return loaded;
    } catch {
      // An entry this process cannot read back is a miss (the plugin logs what it found).
    }
  }
  const compiled = compile();
  try {
    const saved = backend.persist!.save(compiled);
    if (saved !== undefined) compileCacheStore.call(key, serialize(saved));
  } catch {
    // Not storable (a structured clone refused it): the next process compiles again.
  }
  return compiled;
}
