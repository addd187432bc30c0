// JSON form of a TreeSpec. Registered nodes are stored by namespace and registered name, and their
// metadata through the registration's metaToJSON / metaFromJSON; Map keys and node keys are tagged with
// their type so that `1` and `'1'` stay distinct.
//
// Specs share subtrees (flatten shares equal siblings, `compose` shares its inner spec for every leaf), so a
// spec may stand for far more nodes than it holds. Format 2 writes each shared subtree once: nodes with
// children are numbered in the order they end (post-order), and `{ t: 'ref', i }` stands for node i again.
// Text size is then linear in the spec's distinct nodes, not in the tree it describes.
import { SerializationError, withPathStep } from './errors.js';
import { DictKey, SequenceKey } from './paths.js';
import { TreeSpec } from './spec.js';

export const FORMAT = 'kiln-pytree/2';
/** Format 1 is format 2 without refs; still read. */
export const FORMAT_V1 = 'kiln-pytree/1';

export type TaggedKey = [string, unknown?];

/** Parsing a decimal BigInt takes superlinear time (1M digits ≈ 0.5 s), so keys are capped, both ways. */
export const MAX_BIGINT_KEY_DIGITS = 10_000;
export type NodeJson =
  | '*'
  | { t: 'null' }
  | { t: 'undefined' }
  | { t: 'ref'; i: number }
  | { t: 'array'; c: NodeJson[] }
  | { t: 'object' | 'nullProtoObject'; k: string[]; c: NodeJson[] }
  | { t: 'map'; k: TaggedKey[]; c: NodeJson[] }
  | { t: 'custom'; ns: string; name: string; meta?: unknown; k?: TaggedKey[]; c: NodeJson[] };

export function serializeSpec(spec: TreeSpec): string {
  if (!(spec instanceof TreeSpec)) {
    throw new SerializationError(`cannot serialize ${spec === null ? 'null' : typeof spec}: not a TreeSpec`, 'pass a spec from treeStructure(tree) or treeFlatten(tree)[1]');
  }
  return JSON.stringify({ format: FORMAT, root: encode(spec, new Map()) });
}

/** `ids` numbers the nodes with children already written, in post-order. */
function encode(spec: TreeSpec, ids: Map<TreeSpec, number>): NodeJson {
  const seen = ids.get(spec);
  if (seen !== undefined) return { t: 'ref', i: seen };
  const node = encodeNode(spec, ids);
  if (spec.childSpecs.length > 0) ids.set(spec, ids.size);
  return node;
}

function encodeNode(spec: TreeSpec, ids: Map<TreeSpec, number>): NodeJson {
  const children = () =>
    spec.childSpecs.map((child, i) => {
      try {
        return encode(child, ids);
      } catch (error) {
        throw withPathStep(error, spec.kind === 'array' ? new SequenceKey(i) : new DictKey(spec.entries()[i]), null);
      }
    });
  switch (spec.kind) {
    case 'leaf':
      return '*';
    case 'none':
      return { t: spec.meta === null ? 'null' : 'undefined' };
    case 'array':
      return { t: 'array', c: children() };
    case 'object':
    case 'nullProtoObject':
      return { t: spec.kind, k: spec.keys as string[], c: children() };
    case 'map':
      return { t: 'map', k: spec.keys!.map(encodeKey), c: children() };
    case 'custom': {
      const def = spec.node!;
      const meta = checkJson(def.metaToJSON(spec.meta), def.name);
      const node: NodeJson = { t: 'custom', ns: def.namespace, name: def.name, c: children() };
      if (meta !== undefined) node.meta = meta;
      if (spec.keys !== null) node.k = spec.keys.map(encodeKey);
      return node;
    }
    default:
      return spec.kind satisfies never;
  }
}

function encodeKey(key: unknown): TaggedKey {
  switch (typeof key) {
    case 'string':
    case 'boolean':
      return [typeof key, key];
    case 'number':
      return Number.isFinite(key) && !Object.is(key, -0) ? ['number', key] : ['number', String(key)];
    case 'bigint': {
      const text = String(key);
      if (text.length > MAX_BIGINT_KEY_DIGITS) {
        throw new SerializationError(`cannot serialize a bigint key of ${text.length} digits`, `keys are limited to ${MAX_BIGINT_KEY_DIGITS} digits`);
      }
      return ['bigint', text];
    }
    case 'undefined':
      return ['undefined'];
    default:
      if (key === null) return ['null'];
      throw new SerializationError(
        `cannot serialize the key ${String(key)} (a ${typeof key})`,
        'only string, number, boolean, bigint, null and undefined keys can be serialized',
      );
  }
}

function checkJson(value: unknown, name: string): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  if (text === undefined || !isDeepEqualJson(JSON.parse(text), value)) {
    throw new SerializationError(
      `the metadata of a ${name} node does not survive JSON`,
      `register ${name} with metaToJSON / metaFromJSON (registerStatic: toJSON / fromJSON)`,
    );
  }
  return value;
}

function isDeepEqualJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (!Array.isArray(b) && Object.getPrototypeOf(b) !== Object.prototype) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => isDeepEqualJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

