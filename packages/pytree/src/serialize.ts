// JSON form of a TreeSpec. Registered nodes are stored by namespace and registered name, and their
// metadata through the registration's metaToJSON / metaFromJSON; Map keys and node keys are tagged with
// their type so that `1` and `'1'` stay distinct.
import { SerializationError, withPathStep } from './errors.js';
import { DEFAULT_MAX_DEPTH } from './options.js';
import { DictKey, SequenceKey } from './paths.js';
import { lookupNodeByName } from './registry.js';
import { LEAF_SPEC, NULL_SPEC, TreeSpec, UNDEFINED_SPEC } from './spec.js';

const FORMAT = 'kiln-pytree/1';

type TaggedKey = [string, unknown?];
type NodeJson =
  | '*'
  | { t: 'null' }
  | { t: 'undefined' }
  | { t: 'array'; c: NodeJson[] }
  | { t: 'object' | 'nullProtoObject'; k: string[]; c: NodeJson[] }
  | { t: 'map'; k: TaggedKey[]; c: NodeJson[] }
  | { t: 'custom'; ns: string; name: string; meta?: unknown; k?: TaggedKey[]; c: NodeJson[] };

export function serializeSpec(spec: TreeSpec): string {
  if (!(spec instanceof TreeSpec)) {
    throw new SerializationError(`cannot serialize ${spec === null ? 'null' : typeof spec}: not a TreeSpec`, 'pass a spec from treeStructure(tree) or treeFlatten(tree)[1]');
  }
  return JSON.stringify({ format: FORMAT, root: encode(spec) });
}

function encode(spec: TreeSpec): NodeJson {
  const children = () =>
    spec.childSpecs.map((child, i) => {
      try {
        return encode(child);
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
    case 'bigint':
      return ['bigint', String(key)];
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

function decodeKey(tagged: TaggedKey): unknown {
  const [type, value] = tagged;
  switch (type) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return typeof value === 'number' ? value : Number(value);
    case 'bigint':
      return BigInt(value as string);
    case 'undefined':
      return undefined;
    case 'null':
      return null;
    default:
      throw badJson(`unknown key type ${JSON.stringify(type)}`);
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

export function deserializeSpec(text: string): TreeSpec {
  let parsed: { format?: unknown; root?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badJson(`it is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== FORMAT) {
    throw badJson(`the format tag is not '${FORMAT}'`);
  }
  return decode(parsed.root as NodeJson, 0);
}

function decode(node: NodeJson, depth: number): TreeSpec {
  if (node === '*') return LEAF_SPEC;
  if (depth >= DEFAULT_MAX_DEPTH) throw badJson(`it nests deeper than ${DEFAULT_MAX_DEPTH} levels`);
  if (node === null || typeof node !== 'object') throw badJson(`a node is ${JSON.stringify(node)}`);
  if (node.t === 'null') return NULL_SPEC;
  if (node.t === 'undefined') return UNDEFINED_SPEC;
  if (!Array.isArray(node.c)) throw badJson(`a ${String(node.t)} node has no children list`);
  const children = node.c.map((child) => decode(child, depth + 1));
  switch (node.t) {
    case 'array':
      return new TreeSpec('array', children, null, undefined, null);
    case 'object':
    case 'nullProtoObject':
      if (!Array.isArray(node.k) || node.k.length !== children.length || !node.k.every((k) => typeof k === 'string')) {
        throw badJson('an object node has keys that are not strings or do not match its children');
      }
      return new TreeSpec(node.t, children, [...node.k], undefined, null);
    case 'map':
      if (!Array.isArray(node.k) || node.k.length !== children.length) throw badJson('a map node has bad keys');
      return new TreeSpec('map', children, node.k.map(decodeKey), undefined, null);
    case 'custom': {
      const def = lookupNodeByName(node.name, node.ns);
      if (def === undefined) {
        throw new SerializationError(
          `no class is registered as '${node.name}' in namespace '${node.ns}'`,
          `register it (registerPytreeNode / registerDataclass / registerStatic) before deserializing`,
        );
      }
      const keys = node.k === undefined ? null : node.k.map(decodeKey);
      return new TreeSpec('custom', children, keys, def.metaFromJSON(node.meta), def);
    }
    default:
      throw badJson(`unknown node type ${JSON.stringify((node as { t: unknown }).t)}`);
  }
}

function badJson(why: string): SerializationError {
  return new SerializationError(`cannot deserialize a TreeSpec: ${why}`, 'pass a string produced by spec.serialize()');
}
