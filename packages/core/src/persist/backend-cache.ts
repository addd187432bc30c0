// The backend level of the persistent cache, like PT2's FX graph cache: what a backend made of one graph,
// keyed by the graph itself (a SHA-256 of its JSON: every node, shape, dtype, constant and source line), the
// backend's name, capabilities and code stamp, and Kiln's identity. Reusing it can only give what compiling
// that graph gives. The key holds the graph's digest, not its JSON: a key the size of the graph cost a cached
// compile its stringification, a hash of the whole text and a comparison with the file's copy.
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { serializeGraph } from '@kiln/graph';
import type { Graph, GraphJson } from '@kiln/graph';
import type { Backend, CompiledGraph } from '@kiln/lower';
import { getOp, isBuiltinOp } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
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

/** The digest of a graph's JSON (serializeGraph's), as the backend key holds it: -0 apart from 0 (keyJson). */
export const graphDigest = (json: GraphJson): string => createHash('sha256').update(keyJson(json)).digest('hex');

/**
 * Graphs read back from a frame entry, with the digest of the JSON they were read from, written beside it by
 * the process that stored it (what graphDigest(serializeGraph(graph)) gives, without writing the graph out).
 */
const keptDigest = new WeakMap<Graph, string>();
export const rememberGraphDigest = (graph: Graph, digest: string): void => void keptDigest.set(graph, digest);

/**
 * What an op's code contributes to the key: its kernel, meta and decomposition texts, and for an op with a
 * registry formula, the formula's expression for each argument structure the graph calls it with. A formula op's
 * kernel and meta are the registry's generic wrappers: the wasm code comes from the expression alone, and the
 * formula itself (its text, the values it closes over) is out of reach, so the expression stands for it.
 */
function opCode(op: OpDef, extras: readonly (readonly unknown[])[]): string {
  const hash = createHash('sha256').update(`${op.kernel}\0${op.meta}\0${op.decompose}`);
  if (op.formula) for (const args of extras) hash.update(`\0${JSON.stringify(op.formula.expression(args))}`);
  return hash.digest('hex').slice(0, 16);
}

/** The key for `graph` on `backend`, or undefined when the graph holds what the key could not spell. */
function backendKey(backend: Backend, graph: Graph): PersistentCacheKey | undefined {
  const base = backendKeyBase();
  if (!base || !backend.persist) return undefined;
  // Per op: the non-tensor arguments of each call (what a formula's expression depends on).
  const calls = new Map<string, (readonly unknown[])[]>();
  for (const n of graph.nodes) {
    // Free-form meta a plugin pass set could steer lowering: not in the key, so not cached.
    if (Object.keys(n.meta).some((k) => !NODE_META.has(k))) return undefined;
    if (n.kind !== 'call') continue;
    if (!isRegistryOp(n.target)) return undefined;
    let extras = calls.get(n.target);
    if (!extras) calls.set(n.target, (extras = []));
    extras.push(n.args.slice(getOp(n.target)?.formula?.arity ?? n.args.length));
  }
  try {
    // An op a plugin or the user defined is keyed by its code too (Kiln's own are covered by Kiln's stamp).
    const ops: Record<string, string> = {};
    for (const [target, extras] of calls) {
      const op = getOp(target);
      if (op && !isBuiltinOp(op)) ops[target] = opCode(op, extras);
    }
    const text = keyJson({ ...base, backend: backend.name, capabilities: backend.capabilities, stamp: backend.persist.stamp(), ops, graph: keptDigest.get(graph) ?? graphDigest(serializeGraph(graph)) });
    return { kind: 'backend', text, label: `backend ${backend.name}` };
  } catch {
    // A formula that throws for these arguments: compiling reports it, uncached.
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
