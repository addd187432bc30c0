// Deciding whether a value is a node, and of which kind. Dispatch reads `.constructor` once and compares
// it by identity with the built-in node classes and the registry; the slower prototype check runs only for
// objects whose `.constructor` is missing or not a function (null-prototype objects, objects with an own
// `constructor` key), so class-instance leaves such as tensors never pay for reflection.
import { lookupNode, type NodeDef } from './registry.js';

export type PlainObjectKind = 'object' | 'nullProtoObject';

/**
 * For objects not recognised by their constructor: are they plain records (or plain arrays) after all? Only
 * values whose `constructor` is missing, not a function, or an own property get here.
 */
export function kindByPrototype(value: object, type: unknown): PlainObjectKind | 'array' | null {
  if (typeof type === 'function' && !Object.hasOwn(value, 'constructor')) return null;
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return 'nullProtoObject';
  if (proto === Object.prototype) return 'object';
  if (proto === Array.prototype && Array.isArray(value)) return 'array';
  return null;
}

export type NodeClass =
  | { kind: 'leaf' }
  | { kind: 'none' }
  | { kind: 'array' }
  | { kind: PlainObjectKind }
  | { kind: 'map' }
  | { kind: 'custom'; def: NodeDef };

const LEAF: NodeClass = { kind: 'leaf' };
const NONE: NodeClass = { kind: 'none' };
const ARRAY: NodeClass = { kind: 'array' };
const OBJECT: NodeClass = { kind: 'object' };
const NULL_PROTO: NodeClass = { kind: 'nullProtoObject' };
const MAP: NodeClass = { kind: 'map' };

/** What kind of node `value` is, ignoring the isLeaf option. */
export function classify(value: unknown, noneIsLeaf: boolean, namespace: string): NodeClass {
  if (typeof value !== 'object' || value === null) {
    return value == null && !noneIsLeaf ? NONE : LEAF;
  }
  const type = value.constructor;
  if (type === Array) return ARRAY;
  if (type === Object) return OBJECT;
  if (type === Map) return MAP;
  const def = lookupNode(type, namespace);
  if (def !== undefined) return { kind: 'custom', def };
  const byPrototype = kindByPrototype(value, type);
  if (byPrototype === 'object') return OBJECT;
  if (byPrototype === 'nullProtoObject') return NULL_PROTO;
  if (byPrototype === 'array') return ARRAY;
  return LEAF;
}

/**
 * The leaf test used by specialized flatten code for values that are objects or `undefined` (other
 * primitives are always leaves and never reach it).
 */
export function makeLeafTest(noneIsLeaf: boolean, namespace: string): (value: unknown) => boolean {
  // Leaves in one tree are mostly instances of one class (tensors). Remembering the last leaf class turns
  // the registry lookup into one identity compare. The caches holding this test are dropped whenever the
  // registry changes, so a class registered later is never mistaken for a leaf.
  let knownLeafType: unknown = undefined;
  return (value) => {
    const type = value == null ? undefined : (value as object).constructor;
    if (type !== undefined && type === knownLeafType) return true;
    const isLeaf = classify(value, noneIsLeaf, namespace).kind === 'leaf';
    if (isLeaf && typeof type === 'function' && !Object.hasOwn(value as object, 'constructor')) knownLeafType = type;
    return isLeaf;
  };
}
