// The tree operations, written once against resolved options; api.ts binds them to defaults, to an
// options argument, or to `withOptions(...)`.
import { classify } from './classify.js';
import { flattenCached } from './codegen/spec-cache.js';
import { ArgumentError, PytreeError, StructureMismatchError } from './errors.js';
import { flattenGeneric } from './flatten.js';
import type { ResolvedOptions } from './options.js';
import { EMPTY_PATH, type KeyPath } from './paths.js';
import type { TreeSpec } from './spec.js';

// Trees are arbitrary nested values; `any` lets callers use results without casts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tree = any;

export function flatten(o: ResolvedOptions, tree: Tree): [unknown[], TreeSpec] {
  return flattenCached(tree, o);
}

export function isLeaf(o: ResolvedOptions, value: unknown): boolean {
  if (o.isLeaf !== undefined && o.isLeaf(value, EMPTY_PATH)) return true;
  return classify(value, o.noneIsLeaf, o.namespace).kind === 'leaf';
}

/** The leaves of each extra tree matched against `spec`; errors name which argument differs. */
export function restLeaves(spec: TreeSpec, rests: readonly Tree[], operation: string): unknown[][] {
  return rests.map((rest, index) => {
    try {
      return spec.flattenUpTo(rest);
    } catch (error) {
      if (error instanceof PytreeError) error.problem = `${operation}: tree argument ${index + 2}: ${error.problem}`;
      throw error;
    }
  });
}

/** The i-th leaf of each extra tree. */
function column(lists: readonly unknown[][], index: number): unknown[] {
  const values = new Array<unknown>(lists.length);
  for (let k = 0; k < lists.length; k++) values[k] = lists[k]![index];
  return values;
}

export function map(o: ResolvedOptions, f: (...args: Tree[]) => unknown, tree: Tree, rests: readonly Tree[]): Tree {
  const [leaves, spec] = flattenCached(tree, o);
  const mapped = new Array<unknown>(leaves.length);
  if (rests.length === 0) {
    for (let i = 0; i < leaves.length; i++) mapped[i] = f(leaves[i]);
  } else if (rests.length === 1) {
    // The common two-tree case (params and grads) without a per-leaf argument array.
    const other = restLeaves(spec, rests, 'treeMap')[0]!;
    for (let i = 0; i < leaves.length; i++) mapped[i] = f(leaves[i], other[i]);
  } else {
    const others = restLeaves(spec, rests, 'treeMap');
    for (let i = 0; i < leaves.length; i++) mapped[i] = f(leaves[i], ...column(others, i));
  }
  return spec.unflatten(mapped);
}

export function mapInPlace(o: ResolvedOptions, f: (...args: Tree[]) => unknown, tree: Tree, rests: readonly Tree[]): Tree {
  const [leaves, spec] = flattenCached(tree, o);
  const others = restLeaves(spec, rests, 'treeMapInPlace');
  for (let i = 0; i < leaves.length; i++) f(leaves[i], ...column(others, i));
  return tree;
}

export function flattenWithPath(o: ResolvedOptions, tree: Tree): [[KeyPath, unknown][], TreeSpec] {
  const { leaves, spec, paths } = flattenGeneric(tree, o, true);
  return [leaves.map((leaf, i) => [paths![i]!, leaf]), spec];
}

export function mapWithPath(
  o: ResolvedOptions,
  f: (path: KeyPath, ...args: Tree[]) => unknown,
  tree: Tree,
  rests: readonly Tree[],
): Tree {
  const { leaves, spec, paths } = flattenGeneric(tree, o, true);
  const others = restLeaves(spec, rests, 'treeMapWithPath');
  const mapped = new Array<unknown>(leaves.length);
  for (let i = 0; i < leaves.length; i++) mapped[i] = f(paths![i]!, leaves[i], ...column(others, i));
  return spec.unflatten(mapped);
}

/** A class (declared with `class`, or a built-in constructor) or a predicate function. */
export type LeafSelector = ((value: Tree) => boolean) | (abstract new (...args: never[]) => unknown);

export function mapOnly(o: ResolvedOptions, selector: LeafSelector, f: (value: Tree) => unknown, tree: Tree): Tree {
  const select = toPredicate(selector);
  return map(o, (leaf) => (select(leaf) ? f(leaf) : leaf), tree, []);
}

const PRIMITIVE_TYPES = new Map<unknown, string>([
  [Number, 'number'],
  [String, 'string'],
  [Boolean, 'boolean'],
  [BigInt, 'bigint'],
  [Symbol, 'symbol'],
]);

function toPredicate(selector: LeafSelector): (value: unknown) => boolean {
  if (typeof selector !== 'function') {
    throw new ArgumentError(
      `treeMapOnly: the selector must be a class or a predicate function, got ${selector === null ? 'null' : typeof selector}`,
      'pass a class (Tensor, Number) or a function (leaf) => boolean',
    );
  }
  if (!isClass(selector)) return selector as (value: unknown) => boolean;
  const primitive = PRIMITIVE_TYPES.get(selector);
  const type = selector as abstract new (...args: never[]) => unknown;
  return (value) => (primitive !== undefined && typeof value === primitive) || value instanceof type;
}

/**
 * Arrow functions, methods and bound functions have no `prototype`; a class's source starts with `class`;
 * built-in constructors (Float32Array, Map, Number) are native. A plain `function` is taken as a predicate.
 */
function isClass(fn: unknown): boolean {
  if (typeof fn !== 'function' || fn.prototype === undefined) return false;
  const source = Function.prototype.toString.call(fn);
  return source.startsWith('class') || source.endsWith('{ [native code] }');
}

export function transpose(o: ResolvedOptions, outer: TreeSpec, inner: TreeSpec | null, tree: Tree): Tree {
  if (inner === null) {
    const subtrees = outer.flattenUpTo(tree);
    if (subtrees.length === 0) {
      throw new StructureMismatchError('treeTranspose cannot infer the inner structure of a tree with no outer leaves', 'pass the inner spec');
    }
    inner = flatten(o, subtrees[0])[1];
  }
  const [leaves, spec] = flatten(o, tree);
  const expected = outer.compose(inner);
  if (!spec.equals(expected)) {
    // flattenUpTo names the key path of the first difference; it only misses subtrees deeper than expected.
    try {
      expected.flattenUpTo(tree);
    } catch (error) {
      if (error instanceof PytreeError) error.problem = `treeTranspose: the tree is not outer.compose(inner): ${error.problem}`;
      throw error;
    }
    throw new StructureMismatchError(
      `treeTranspose: the tree is ${spec.toString()}, not outer.compose(inner) = ${expected.toString()}`,
      'pass the outer spec and the spec shared by every subtree at its leaves',
    );
  }
  const outerCount = outer.numLeaves;
  const innerCount = inner.numLeaves;
  const columns = new Array<unknown>(innerCount);
  for (let j = 0; j < innerCount; j++) {
    const column = new Array<unknown>(outerCount);
    for (let i = 0; i < outerCount; i++) column[i] = leaves[i * innerCount + j];
    columns[j] = outer.unflatten(column);
  }
  return inner.unflatten(columns);
}

export function broadcastPrefix(o: ResolvedOptions, prefixTree: Tree, fullTree: Tree): Tree {
  const [prefixLeaves, prefixSpec] = flatten(o, prefixTree);
  const [, fullSpec] = flatten(o, fullTree);
  let subtrees: unknown[];
  try {
    subtrees = prefixSpec.flattenUpTo(fullTree);
  } catch (error) {
    if (error instanceof PytreeError) error.problem = `treeBroadcastPrefix: the first tree is not a prefix of the second: ${error.problem}`;
    throw error;
  }
  const broadcast: unknown[] = [];
  subtrees.forEach((subtree, k) => {
    const count = flatten(o, subtree)[1].numLeaves;
    for (let n = 0; n < count; n++) broadcast.push(prefixLeaves[k]);
  });
  return fullSpec.unflatten(broadcast);
}
