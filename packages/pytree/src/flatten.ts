// The generic flatten: one recursive walk that collects leaves and builds the spec. It handles every
// option and every odd input; the specialized code in codegen/ only covers structures seen before.
//
// Errors are given their key path while unwinding (each container adds one step in a catch), so the
// happy path pays nothing for path tracking unless the caller asked for paths.
import { classify } from './classify.js';
import {
  AccessError,
  CycleError,
  DepthLimitError,
  PytreeError,
  StructureMismatchError,
  describeThrown,
  withPathStep,
} from './errors.js';
import type { ResolvedOptions } from './options.js';
import { DictKey, EMPTY_PATH, SequenceKey, toPathEntry, type KeyPath, type PathEntry } from './paths.js';
import { callFlatten, type NodeDef } from './registry.js';
import { LEAF_SPEC, NULL_SPEC, TreeSpec, UNDEFINED_SPEC, sameNode } from './spec.js';

interface WalkState {
  readonly options: ResolvedOptions;
  readonly leaves: unknown[];
  /** The key path to the current value, kept only when paths were asked for. */
  readonly path: PathEntry[] | null;
  readonly leafPaths: KeyPath[] | null;
  readonly isLeafWantsPath: boolean;
  /** The class of the last class-instance leaf; see visit(). */
  knownLeafType: unknown;
}

export interface FlattenOutput {
  leaves: unknown[];
  spec: TreeSpec;
  paths: KeyPath[] | null;
}

export function flattenGeneric(tree: unknown, options: ResolvedOptions, withPaths: boolean): FlattenOutput {
  const isLeafWantsPath = options.isLeaf !== undefined && options.isLeaf.length >= 2;
  const state: WalkState = {
    options,
    leaves: [],
    path: withPaths || isLeafWantsPath ? [] : null,
    leafPaths: withPaths ? [] : null,
    isLeafWantsPath,
    knownLeafType: undefined,
  };
  try {
    const spec = visit(tree, state, 0);
    return { leaves: state.leaves, spec, paths: state.leafPaths };
  } catch (error) {
    throw finishError(error);
  }
}

function visit(value: unknown, state: WalkState, depth: number): TreeSpec {
  const options = state.options;
  if (options.isLeaf !== undefined && options.isLeaf(value, state.isLeafWantsPath ? [...state.path!] : EMPTY_PATH)) {
    return addLeaf(value, state);
  }
  if (typeof value !== 'object' || value === null) {
    if (value == null && !options.noneIsLeaf) return value === null ? NULL_SPEC : UNDEFINED_SPEC;
    return addLeaf(value, state);
  }
  // Fast exits for the commonest values before the full classification: arrays, plain objects, and
  // instances of the class the previous leaf had (with no own `constructor` key, the same checks as
  // classify() would make, minus the registry lookups).
  const type = value.constructor;
  if (type === Array) return visitArray(value as unknown[], state, checkDepth(depth, options));
  if (type === Object) return visitObject(value as Record<string, unknown>, 'object', state, checkDepth(depth, options));
  if (type === state.knownLeafType && type !== undefined && !Object.hasOwn(value, 'constructor')) return addLeaf(value, state);
  const node = classify(value, options.noneIsLeaf, options.namespace);
  switch (node.kind) {
    case 'leaf':
      if (typeof type === 'function' && !Object.hasOwn(value, 'constructor')) state.knownLeafType = type;
      return addLeaf(value, state);
    case 'none': // not reached: null and undefined were handled above
      return UNDEFINED_SPEC;
    case 'array':
      return visitArray(value as unknown[], state, checkDepth(depth, options));
    case 'object':
    case 'nullProtoObject':
      return visitObject(value as Record<string, unknown>, node.kind, state, checkDepth(depth, options));
    case 'map':
      return visitMap(value as Map<unknown, unknown>, state, checkDepth(depth, options));
    case 'custom':
      return visitCustom(value, node.def, state, checkDepth(depth, options));
    default:
      return node satisfies never;
  }
}

/** Returns `depth` if a node at that depth is allowed. */
function checkDepth(depth: number, options: ResolvedOptions): number {
  if (depth >= options.maxDepth) {
    throw new DepthLimitError(
      `the tree is deeper than maxDepth = ${options.maxDepth}`,
      'pass a larger maxDepth option if the tree really is this deep',
    );
  }
  return depth;
}

function addLeaf(value: unknown, state: WalkState): TreeSpec {
  state.leaves.push(value);
  if (state.leafPaths !== null) state.leafPaths.push([...state.path!]);
  return LEAF_SPEC;
}

// The loops below are written out per kind rather than shared through a callback: the generic path is
// what first-seen structures pay, and a closure call per child would double its cost.

function visitArray(array: unknown[], state: WalkState, depth: number): TreeSpec {
  // Holes in sparse arrays read as undefined, as in iteration and spread; unflatten builds a dense array.
  const length = array.length;
  const children = new Array<TreeSpec>(length);
  const path = state.path;
  let i = 0;
  try {
    for (; i < length; i++) {
      if (path !== null) path.push(new SequenceKey(i));
      const child = visit(array[i], state, depth + 1);
      // Lists of identical records share one child spec: less memory, and equals / hash / codegen
      // short-circuit on identity.
      children[i] = i > 0 && sameAsSibling(child, children[i - 1]!) ? children[i - 1]! : child;
      if (path !== null) path.pop();
    }
  } catch (error) {
    throw withPathStep(error, new SequenceKey(i), array);
  }
  return new TreeSpec('array', children, null, undefined, null);
}

function visitObject(
  record: Record<string, unknown>,
  kind: 'object' | 'nullProtoObject',
  state: WalkState,
  depth: number,
): TreeSpec {
  let keys: string[];
  try {
    keys = Object.keys(record);
  } catch (error) {
    throw foreignError(error);
  }
  if (state.options.sortKeys) keys.sort();
  const children = new Array<TreeSpec>(keys.length);
  const path = state.path;
  let i = 0;
  try {
    for (; i < keys.length; i++) {
      if (path !== null) path.push(new DictKey(keys[i]));
      children[i] = visit(record[keys[i]!], state, depth + 1);
      if (path !== null) path.pop();
    }
  } catch (error) {
    throw withPathStep(error, new DictKey(keys[i]), record);
  }
  return new TreeSpec(kind, children, keys, undefined, null);
}

function visitMap(map: Map<unknown, unknown>, state: WalkState, depth: number): TreeSpec {
  let keys: unknown[];
  let values: unknown[];
  try {
    keys = Array.from(map.keys());
    values = Array.from(map.values());
  } catch (error) {
    throw foreignError(error);
  }
  return new TreeSpec('map', visitList(map, values, keys, true, state, depth), keys, undefined, null);
}

function visitCustom(value: unknown, def: NodeDef, state: WalkState, depth: number): TreeSpec {
  const flat = callFlatten(def, value);
  const keys = flat.keys === undefined ? null : [...flat.keys];
  const children = visitList(value, flat.children, keys, false, state, depth);
  return new TreeSpec('custom', children, keys, flat.meta, def);
}

/** Children already read into an array (Map values, a registered node's children). */
function visitList(
  container: unknown,
  values: readonly unknown[],
  keys: readonly unknown[] | null,
  isMap: boolean,
  state: WalkState,
  depth: number,
): TreeSpec[] {
  const children = new Array<TreeSpec>(values.length);
  const path = state.path;
  let i = 0;
  try {
    for (; i < values.length; i++) {
      if (path !== null) path.push(listEntry(keys, isMap, i));
      children[i] = visit(values[i], state, depth + 1);
      if (path !== null) path.pop();
    }
  } catch (error) {
    throw withPathStep(error, listEntry(keys, isMap, i), container);
  }
  return children;
}

function listEntry(keys: readonly unknown[] | null, isMap: boolean, index: number): PathEntry {
  if (isMap) return new DictKey(keys![index]);
  return toPathEntry(keys === null ? index : keys[index]);
}

/** Errors from user code (getters, Proxy traps, registered flatten functions) become AccessError. */
/** Same node and the very same child specs (siblings below were already shared, bottom-up). */
function sameAsSibling(spec: TreeSpec, sibling: TreeSpec): boolean {
  if (spec === sibling || spec.childSpecs.length === 0 || !sameNode(spec, sibling)) return spec === sibling;
  for (let i = 0; i < spec.childSpecs.length; i++) if (spec.childSpecs[i] !== sibling.childSpecs[i]) return false;
  // equals() ignores a registered node's keys (they only name paths), but a shared spec must report its own.
  if (spec.kind === 'custom' && spec.keys !== sibling.keys) {
    if (spec.keys === null || sibling.keys === null) return false;
    for (let i = 0; i < spec.keys.length; i++) if (!Object.is(spec.keys[i], sibling.keys[i])) return false;
  }
  return true;
}

function foreignError(error: unknown): PytreeError {
  if (error instanceof PytreeError) return error;
  return new AccessError(
    `reading a value threw ${describeThrown(error)}`,
    'check getters, Proxy traps and registered flatten functions on this value',
    [],
    { cause: error },
  );
}

/** Top-level error cleanup: wraps foreign errors and tells a cycle apart from a merely deep tree. */
function finishError(error: unknown): PytreeError {
  if (!(error instanceof PytreeError)) {
    return new AccessError(`reading the root threw ${describeThrown(error)}`, 'check the value passed in', [], {
      cause: error,
    });
  }
  if (!(error instanceof DepthLimitError)) return error;
  const containers = error.containers;
  const seen = new Map<unknown, number>();
  for (let depth = 0; depth < containers.length; depth++) {
    const earlier = seen.get(containers[depth]);
    if (earlier !== undefined) {
      const ancestor = error.path.slice(0, earlier);
      return new CycleError(
        `the tree contains a cycle: this value is the same object as its ancestor at ${ancestor.length === 0 ? 'the root' : ancestor.map(String).join('')}`,
        'pytrees must be acyclic; replace the back-reference with an id, or mark the value as a leaf with isLeaf',
        error.path.slice(0, depth),
      );
    }
    seen.set(containers[depth], depth);
  }
  return error;
}
