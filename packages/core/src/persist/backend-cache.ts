// The backend level of the persistent cache, like PT2's FX graph cache: what a backend made of one graph,
// keyed by the graph itself (a SHA-256 of its JSON: every node, shape, dtype, constant and source line), the
// backend's name, capabilities and code stamp, and Kiln's identity. Reusing it can only give what compiling
// that graph gives. The key holds the graph's digest, not its JSON: a key the size of the graph cost a cached
// compile its stringification, a hash of the whole text and a comparison with the file's copy. A graph a
// frame entry kept (KeptGraph) is keyed without being decoded when its ops are all Kiln's own, and handed to
// the backend as a function: a cached compile whose program is kept too never builds it.
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
 * A graph a frame entry kept, read back from its JSON only when something asks for it (a backend compiling it
 * afresh or running an eager step, explain, a plugin), with what its backend key needs written beside it by
 * the process that stored it.
 */
export interface KeptGraph {
  /** Decodes the graph on the first call, the same Graph after. */
  readonly graph: () => Graph;
  /** graphDigest of the JSON it is read from (what graphDigest(serializeGraph(graph)) gives). */
  readonly digest: string;
  /** Its call targets (keyTargets), or undefined: the key then reads the graph. */
  readonly targets: readonly string[] | undefined;
}

/** Told apart by shape, not `instanceof Graph`: a graph from another copy of @kiln/graph is still a graph. */
export const isKeptGraph = (x: Graph | KeptGraph): x is KeptGraph => typeof (x as KeptGraph).digest === 'string' && typeof (x as KeptGraph).graph === 'function';

/** The graph itself (a kept one decoded, once). */
export const graphOf = (x: Graph | KeptGraph): Graph => (isKeptGraph(x) ? x.graph() : x);

/**
 * The distinct call targets of a graph, kept with it so that a later process can key it without decoding it;
 * undefined when a node has meta the key refuses (backendKey reads such a graph itself, and refuses it).
 */
export function keyTargets(graph: Graph): string[] | undefined {
  const targets = new Set<string>();
  for (const n of graph.nodes) {
    if (Object.keys(n.meta).some((k) => !NODE_META.has(k))) return undefined;
    if (n.kind === 'call') targets.add(n.target);
  }
  return [...targets];
}

/** A target whose code Kiln's identity in the key does not cover (an op a plugin or the user registered). */
function keyedByItsCode(target: string): boolean {
  const op = getOp(target);
  return op !== undefined && !isBuiltinOp(op);
}

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

/** The key for a graph on `backend`, or undefined when the graph holds what the key could not spell. */
function backendKey(backend: Backend, source: Graph | KeptGraph): PersistentCacheKey | undefined {
  const base = backendKeyBase();
  if (!base || !backend.persist) return undefined;
  const kept = isKeptGraph(source) ? source : undefined;
  // Ops that are all Kiln's own contribute nothing to the key (their code is in Kiln's stamp): what reading
  // the graph would give, without reading it. Checked against this process's registry, as reading would be.
  const ops = kept?.targets?.every((t) => isRegistryOp(t) && !keyedByItsCode(t)) ? {} : graphOps(graphOf(source));
  if (!ops) return undefined;
  try {
    const digest = kept?.digest ?? graphDigest(serializeGraph(source as Graph));
    const text = keyJson({ ...base, backend: backend.name, capabilities: backend.capabilities, stamp: backend.persist.stamp(), ops, graph: digest });
    return { kind: 'backend', text, label: `backend ${backend.name}` };
  } catch {
    // A graph that cannot be written out (a value JSON cannot hold): compiled, uncached.
    return undefined;
  }
}

/**
 * What the ops of `graph` add to its key: an op a plugin or the user defined is keyed by its code. Undefined
 * when the graph cannot be keyed (meta a plugin set, a node no registry op names, a formula that throws).
 */
function graphOps(graph: Graph): Record<string, string> | undefined {
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
    const ops: Record<string, string> = {};
    for (const [target, extras] of calls) if (keyedByItsCode(target)) ops[target] = opCode(getOp(target)!, extras);
    return ops;
  } catch {
    // A formula that throws for these arguments: compiling reports it, uncached.
    return undefined;
  }
}

/**
 * `compile()` through the persistent cache when a plugin taps it: a stored result for exactly this graph is
 * loaded; otherwise the graph is compiled and the result offered for storing.
 */
export function compileThroughCache(compiler: Compiler, backend: Backend, source: Graph | KeptGraph, compile: () => CompiledGraph): CompiledGraph {
  const { compileCacheLoad, compileCacheStore } = compiler.hooks;
  if (!compileCacheLoad.isUsed() && !compileCacheStore.isUsed()) return compile();
  if (!backend.persist) {
    log('cache', '', `backend ${backend.name}: programs not kept in the persistent cache (the backend offers no persistence; its traced frames still are)`);
    return compile();
  }
  const key = backendKey(backend, source);
  if (!key) return compile();
  const payload = compileCacheLoad.call(key);
  if (payload) {
    try {
      const loaded = backend.persist!.load(deserialize(payload), () => graphOf(source));
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
