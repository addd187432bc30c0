// Matching a tree against a spec used as a prefix: `flattenUpTo` returns the subtrees that sit where the
// spec has leaves, and explains the first difference with its key path (node types, lengths, key sets,
// metadata). treeMap's extra trees and treeBroadcastPrefix go through here.
import { classify } from './classify.js';
import { StructureMismatchError, withPathStep } from './errors.js';
import { DictKey, SequenceKey, formatKey, toPathEntry, type PathEntry } from './paths.js';
import { GLOBAL_NAMESPACE, callFlatten } from './registry.js';
import { describeSpec } from './spec-print.js';
import type { TreeSpec } from './spec.js';

export function flattenUpTo(spec: TreeSpec, tree: unknown): unknown[] {
  const out: unknown[] = [];
  collect(spec, tree, out);
  return out;
}

function collect(spec: TreeSpec, value: unknown, out: unknown[]): void {
  if (spec.kind === 'leaf') {
    out.push(value);
    return;
  }
  const children = childrenMatching(spec, value);
  for (let i = 0; i < children.length; i++) {
    try {
      collect(spec.childSpecs[i]!, children[i], out);
    } catch (error) {
      throw withPathStep(error, entryFor(spec, i), value);
    }
  }
}

function entryFor(spec: TreeSpec, index: number): PathEntry {
  switch (spec.kind) {
    case 'array':
      return new SequenceKey(index);
    case 'object':
    case 'nullProtoObject':
    case 'map':
      return new DictKey(spec.keys![index]);
    default:
      return toPathEntry(spec.keys === null ? index : spec.keys[index]);
  }
}

/** The children of `value` in the spec's order, or a StructureMismatchError saying how it differs. */
function childrenMatching(spec: TreeSpec, value: unknown): readonly unknown[] {
  const namespace = spec.node?.namespace ?? GLOBAL_NAMESPACE;
  const actual = classify(value, false, namespace);
  const sameKind =
    actual.kind === spec.kind && (actual.kind !== 'custom' || actual.def.type === spec.node!.type);
  if (!sameKind) {
    // A registered class whose registration is not visible in the default namespace still matches by type.
    if (spec.kind === 'custom' && value != null && (value as object).constructor === spec.node!.type) {
      return customChildren(spec, value);
    }
    throw mismatch(spec, `got ${describeValue(value)}`);
  }
  switch (spec.kind) {
    case 'none':
      if (value !== spec.meta) throw mismatch(spec, `got ${describeValue(value)}`);
      return [];
    case 'array': {
      const array = value as unknown[];
      if (array.length !== spec.childSpecs.length) throw mismatch(spec, `got an array of length ${array.length}`);
      return array;
    }
    case 'object':
    case 'nullProtoObject': {
      const record = value as Record<string, unknown>;
      const keys = spec.keys as readonly string[];
      const values = new Array<unknown>(keys.length);
      const actualKeys = Object.keys(record);
      let sameKeys = actualKeys.length === keys.length;
      for (let i = 0; i < keys.length; i++) {
        if (sameKeys && !Object.hasOwn(record, keys[i]!)) sameKeys = false;
        values[i] = record[keys[i]!];
      }
      if (!sameKeys) checkKeySet(spec, actualKeys, (key) => Object.hasOwn(record, key as string));
      return values;
    }
    case 'map': {
      const map = value as Map<unknown, unknown>;
      checkKeySet(spec, [...map.keys()], (key) => map.has(key));
      return spec.keys!.map((key) => map.get(key));
    }
    case 'custom':
      return customChildren(spec, value);
    case 'leaf':
      return [];
    default:
      return spec.kind satisfies never;
  }
}

function customChildren(spec: TreeSpec, value: unknown): readonly unknown[] {
  const def = spec.node!;
  const flat = callFlatten(def, value);
  if (!def.metaEquals(flat.meta, spec.meta)) {
    throw mismatch(spec, `got a ${def.name} node with different metadata ${safeJson(flat.meta)} (expected ${safeJson(spec.meta)})`);
  }
  if (flat.children.length !== spec.childSpecs.length) {
    throw mismatch(spec, `got a ${def.name} node with ${flat.children.length} children (expected ${spec.childSpecs.length})`);
  }
  return flat.children;
}

/** Key sets must be equal; order may differ, since the spec decides the order children are read in. */
function checkKeySet(spec: TreeSpec, actualKeys: readonly unknown[], has: (key: unknown) => boolean): void {
  const expected = spec.keys!;
  const missing = expected.filter((key) => !has(key));
  const expectedSet = new Set(expected);
  const extra = actualKeys.filter((key) => !expectedSet.has(key));
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.map(formatKey).join(', ')}`);
  if (extra.length > 0) parts.push(`unexpected ${extra.map(formatKey).join(', ')}`);
  throw mismatch(spec, `got keys that differ: ${parts.join('; ')}`);
}

function mismatch(spec: TreeSpec, got: string): StructureMismatchError {
  return new StructureMismatchError(
    `structure mismatch: expected ${describeSpec(spec)}, ${got}`,
    'every tree must have the first tree\'s structure (a leaf there may match any subtree)',
  );
}

/** Short English description of a value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof Map) return `a Map with ${value.size} entries`;
  if (typeof value === 'object') {
    const type = (value as object).constructor;
    if (type === Object || type === undefined) return `an object with keys {${Object.keys(value).join(', ')}}`;
    return `a ${typeof type === 'function' ? type.name : 'object'} instance (a leaf)`;
  }
  if (typeof value === 'string') return `a string (a leaf)`;
  return `a ${typeof value} (a leaf)`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
