// The generic unflatten: builds a fresh tree from a spec and a list of leaves. It never writes into the
// leaves array or any leaf. Specs unflattened more than once switch to generated code (codegen/).
import { compileUnflatten } from './codegen/unflatten-code.js';
import { AccessError, LeafCountError, describeThrown } from './errors.js';
import type { TreeSpec } from './spec.js';

/** Generated code is made on the second unflatten of the same spec instance. */
const SPECIALIZE_AFTER_CALLS = 2;

export function unflattenWithSpec(spec: TreeSpec, leaves: Iterable<unknown>): unknown {
  const list: readonly unknown[] = Array.isArray(leaves) ? leaves : readAtMost(leaves, spec.numLeaves);
  if (list.length !== spec.numLeaves) throw new LeafCountError(spec.numLeaves, list.length, list.length > spec.numLeaves);
  let compiled = spec.compiledUnflatten;
  if (compiled === undefined && ++spec.unflattenCalls >= SPECIALIZE_AFTER_CALLS) {
    compiled = spec.compiledUnflatten = compileUnflatten(spec);
  }
  if (compiled) return compiled(list);
  const cursor = { next: 0 };
  return build(spec, list, cursor);
}

/**
 * The first `count + 1` values of an iterable: one past the spec's leaf count is enough to know there are
 * too many, so an endless or huge iterator is never drained into memory.
 */
function readAtMost(leaves: Iterable<unknown>, count: number): unknown[] {
  const list: unknown[] = [];
  for (const leaf of leaves) {
    list.push(leaf);
    if (list.length > count) break;
  }
  return list;
}

function build(spec: TreeSpec, leaves: readonly unknown[], cursor: { next: number }): unknown {
  const children = spec.childSpecs;
  switch (spec.kind) {
    case 'leaf':
      return leaves[cursor.next++];
    case 'none':
      return spec.meta;
    case 'array': {
      const array = new Array<unknown>(children.length);
      for (let i = 0; i < children.length; i++) array[i] = build(children[i]!, leaves, cursor);
      return array;
    }
    case 'object':
    case 'nullProtoObject': {
      const record: Record<string, unknown> = spec.kind === 'object' ? {} : Object.create(null);
      for (let i = 0; i < children.length; i++) {
        const key = spec.keys![i] as string;
        const value = build(children[i]!, leaves, cursor);
        // Assigning to `__proto__` would call the prototype setter; JSON.parse can produce such an own key.
        if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
        else record[key] = value;
      }
      return record;
    }
    case 'map': {
      const map = new Map<unknown, unknown>();
      for (let i = 0; i < children.length; i++) map.set(spec.keys![i], build(children[i]!, leaves, cursor));
      return map;
    }
    case 'custom': {
      const values = new Array<unknown>(children.length);
      for (let i = 0; i < children.length; i++) values[i] = build(children[i]!, leaves, cursor);
      return callUnflatten(spec, values);
    }
    default:
      return spec.kind satisfies never;
  }
}

/** Shared with generated code: a registered unflatten that throws is reported with the class name. */
export function callUnflatten(spec: TreeSpec, children: unknown[]): unknown {
  const def = spec.node!;
  try {
    return def.unflatten(spec.meta, children);
  } catch (error) {
    throw new AccessError(
      `the registered unflatten of ${def.name} threw ${describeThrown(error)}`,
      `check the unflatten function registered for ${def.name}`,
      [],
      { cause: error },
    );
  }
}
