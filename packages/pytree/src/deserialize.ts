// Reading a TreeSpec back from JSON text that may come from anywhere. Everything is validated in one pass,
// linear in the text: node types, key types and values, duplicate keys (which would silently merge two
// children into one on unflatten), refs that point only backwards, nesting depth, the height that refs
// make, leaf counts that stay exact, and what a registered class's definition implies about its node.
// Every problem is a SerializationError with the path to the node at fault.
import { SerializationError, describeThrown, withPathStep } from './errors.js';
import { DEFAULT_MAX_DEPTH } from './options.js';
import { DictKey, SequenceKey, formatKey } from './paths.js';
import { lookupNodeByName, type NodeDef } from './registry.js';
import { FORMAT, FORMAT_V1, MAX_BIGINT_KEY_DIGITS } from './serialize.js';
import { LEAF_SPEC, NULL_SPEC, TreeSpec, UNDEFINED_SPEC } from './spec.js';

type JsonNode = Record<string, unknown>;

export function deserializeSpec(text: string): TreeSpec {
  if (typeof text !== 'string') throw badJson(`expected JSON text, got ${text === null ? 'null' : typeof text}`);
  let parsed: { format?: unknown; root?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badJson(`it is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || (parsed.format !== FORMAT && parsed.format !== FORMAT_V1)) {
    throw badJson(`the format tag is not '${FORMAT}' (or '${FORMAT_V1}')`);
  }
  return new Reader(parsed.format === FORMAT).decode(parsed.root, 0);
}

class Reader {
  /** Nodes with children, in the order they ended: what `{ t: 'ref', i }` counts. */
  private readonly numbered: TreeSpec[] = [];
  /** Height of every spec with children made so far; refs can make a spec taller than its JSON is deep. */
  private readonly heights = new Map<TreeSpec, number>();

  constructor(private readonly refsAllowed: boolean) {}

  decode(json: unknown, depth: number): TreeSpec {
    if (json === '*') return LEAF_SPEC;
    if (depth >= DEFAULT_MAX_DEPTH) throw badJson(`it nests deeper than ${DEFAULT_MAX_DEPTH} levels`);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw badJson(`a node is ${brief(json)}`);
    const node = json as JsonNode;
    if (node.t === 'null') return NULL_SPEC;
    if (node.t === 'undefined') return UNDEFINED_SPEC;
    if (node.t === 'ref') return this.ref(node.i);
    if (!Array.isArray(node.c)) throw badJson(`a ${brief(node.t)} node has no children list`);
    const children = new Array<TreeSpec>(node.c.length);
    let height = 0;
    for (let i = 0; i < children.length; i++) {
      try {
        children[i] = this.decode(node.c[i], depth + 1);
      } catch (error) {
        throw withPathStep(error, node.t === 'array' ? new SequenceKey(i) : new DictKey(keyAt(node.k, i)), null);
      }
      height = Math.max(height, this.heights.get(children[i]!) ?? 0);
    }
    const spec = buildNode(node, children);
    if (height + 1 > DEFAULT_MAX_DEPTH) throw badJson(`its refs make a spec deeper than ${DEFAULT_MAX_DEPTH} levels`);
    if (!Number.isSafeInteger(spec.numNodes)) throw badJson('its refs make a spec of more than 2^53 nodes');
    if (children.length > 0) {
      this.heights.set(spec, height + 1);
      this.numbered.push(spec);
    }
    return spec;
  }

  private ref(index: unknown): TreeSpec {
    if (!this.refsAllowed) throw badJson(`a ref node in format '${FORMAT_V1}', which has none`);
    const spec = typeof index === 'number' && Number.isInteger(index) ? this.numbered[index] : undefined;
    if (spec === undefined) {
      throw badJson(`a ref points to node ${brief(index)}, but only ${this.numbered.length} nodes with children came before it`);
    }
    return spec;
  }
}

function buildNode(node: JsonNode, children: TreeSpec[]): TreeSpec {
  switch (node.t) {
    case 'array':
      return new TreeSpec('array', children, null, undefined, null);
    case 'object':
    case 'nullProtoObject':
      return new TreeSpec(node.t, children, objectKeys(node.k, children.length), undefined, null);
    case 'map':
      return new TreeSpec('map', children, mapKeys(node.k, children.length), undefined, null);
    case 'custom':
      return customNode(node, children);
    default:
      throw badJson(`unknown node type ${brief(node.t)}`);
  }
}

function objectKeys(keys: unknown, count: number): string[] {
  if (!Array.isArray(keys) || keys.length !== count) throw badJson(`an object node has ${describeKeyList(keys)} for ${count} children`);
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'string') throw badJson(`an object node has the key ${brief(key)}, which is not a string`);
    if (seen.has(key)) throw badJson(`an object node has the key ${formatKey(key)} twice`);
    seen.add(key);
  }
  if (!isPropertyOrder(keys) && !isCodeUnitOrder(keys)) {
    throw badJson(
      `an object node's keys [${keys.map(formatKey).join(', ')}] are in an order no object has (JS lists integer keys first, ascending; sortKeys sorts all)`,
    );
  }
  return [...keys];
}

/**
 * Objects list integer-like keys first, in ascending order, whatever order they were added in; a spec
 * whose keys are in another order would unflatten to an object that flattens with its leaves permuted.
 */
function isPropertyOrder(keys: readonly string[]): boolean {
  let previous = -1;
  let inIndices = true;
  for (const key of keys) {
    const index = arrayIndex(key);
    if (index === undefined) inIndices = false;
    else if (!inIndices || index <= previous) return false;
    else previous = index;
  }
  return true;
}

/** The order of specs flattened with `sortKeys`. */
function isCodeUnitOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! >= keys[i]!) return false;
  return true;
}

/** The key's value if it is an array index (canonical decimal below 2^32 - 1), the keys objects list first. */
function arrayIndex(key: string): number | undefined {
  if (key.length === 0 || key.length > 10 || (key.length > 1 && key[0] === '0')) return undefined;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const value = Number(key);
  return value < 2 ** 32 - 1 ? value : undefined;
}

function mapKeys(tagged: unknown, count: number): unknown[] {
  if (!Array.isArray(tagged) || tagged.length !== count) throw badJson(`a map node has ${describeKeyList(tagged)} for ${count} children`);
  const keys = tagged.map(decodeKey);
  // A Map holds one entry per key (SameValueZero, as Set compares): a repeated key would drop a child.
  const seen = new Set<unknown>();
  for (const key of keys) {
    if (seen.has(key)) throw badJson(`a map node has the key ${formatKey(key)} twice`);
    seen.add(key);
  }
  return keys;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
const BIGINT = /^-?(0|[1-9][0-9]*)$/;

/** A type-tagged key, as serialize's encodeKey writes it; anything else is refused, never coerced. */
function decodeKey(tagged: unknown): unknown {
  const bad = (why: string) => badJson(`the key ${brief(tagged)} ${why}`);
  if (!Array.isArray(tagged) || tagged.length < 1 || tagged.length > 2) throw bad('is not a [type, value] pair');
  const [type, value] = tagged as [unknown, unknown];
  const hasValue = tagged.length === 2;
  switch (type) {
    case 'string':
    case 'boolean':
      if (typeof value !== type) throw bad(`does not hold a ${type}`);
      return value;
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value];
      throw bad(`does not hold a number (or 'NaN', 'Infinity', '-Infinity', '-0')`);
    case 'bigint':
      if (typeof value !== 'string' || !BIGINT.test(value)) throw bad('does not hold a decimal integer string');
      if (value.length > MAX_BIGINT_KEY_DIGITS) throw bad(`has more than ${MAX_BIGINT_KEY_DIGITS} digits`);
      return BigInt(value);
    case 'undefined':
    case 'null':
      if (hasValue) throw bad('has a value after its type');
      return type === 'null' ? null : undefined;
    default:
      throw badJson(`unknown key type ${brief(type)}`);
  }
}

function customNode(node: JsonNode, children: TreeSpec[]): TreeSpec {
  if (typeof node.ns !== 'string' || typeof node.name !== 'string') {
    throw badJson(`a custom node's namespace and name are ${brief(node.ns)} and ${brief(node.name)}, not strings`);
  }
  const def = lookupNodeByName(node.name, node.ns);
  if (def === undefined) {
    throw new SerializationError(
      `no class is registered as ${formatKey(node.name)} in namespace ${formatKey(node.ns)}`,
      `register it (registerPytreeNode / registerDataclass / registerStatic) before deserializing`,
    );
  }
  let keys: unknown[] | null = null;
  if (node.k !== undefined) {
    if (!Array.isArray(node.k) || node.k.length !== children.length) {
      throw badJson(`a ${def.name} node has ${describeKeyList(node.k)} for ${children.length} children`);
    }
    keys = node.k.map(decodeKey);
  }
  checkDefinedShape(def, children.length, keys, node.meta);
  let meta: unknown;
  try {
    meta = def.metaFromJSON(node.meta);
  } catch (error) {
    throw new SerializationError(
      `the metaFromJSON registered for ${def.name} threw ${describeThrown(error)}`,
      `check the metadata stored for ${def.name} nodes, or its metaFromJSON / fromJSON`,
      [],
      { cause: error },
    );
  }
  return new TreeSpec('custom', children, keys, meta, def);
}

/** Dataclasses and static nodes say how many children and what metadata their nodes have. */
function checkDefinedShape(def: NodeDef, count: number, keys: unknown[] | null, meta: unknown): void {
  if (def.kind === 'static' && count !== 0) throw badJson(`a ${def.name} node (registered static) has ${count} children`);
  if (def.kind !== 'dataclass') return;
  const fields = def.dataFields!;
  if (count !== fields.length || (keys !== null && keys.some((key, i) => key !== fields[i]))) {
    throw badJson(`a ${def.name} node does not have the registered data fields [${fields.join(', ')}] as its children`);
  }
  if (!Array.isArray(meta) || meta.length !== def.metaFields!.length) {
    throw badJson(`a ${def.name} node's metadata is not a list of its ${def.metaFields!.length} meta fields`);
  }
}

function keyAt(keys: unknown, index: number): unknown {
  if (!Array.isArray(keys)) return index;
  const key = keys[index];
  return Array.isArray(key) ? key[1] : key;
}

function describeKeyList(keys: unknown): string {
  return Array.isArray(keys) ? `${keys.length} keys` : keys === undefined ? 'no key list' : `keys ${brief(keys)}`;
}

/** A short rendering of a JSON value for messages (never the whole of a large input). */
function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function badJson(why: string): SerializationError {
  return new SerializationError(`cannot deserialize a TreeSpec: ${why}`, 'pass a string produced by spec.serialize()');
}
