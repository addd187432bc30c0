// The public tree functions. Fixed-arity functions take options as their last argument; the variadic ones
// (treeMap, treeMapInPlace, treeMapWithPath) cannot tell an options object from a tree, so options reach
// them through `withOptions(options)`, which returns every function bound to those options.
import { ArgumentError, PytreeError } from './errors.js';
import * as ops from './ops.js';
import type { LeafSelector, Tree } from './ops.js';
import { DEFAULT_OPTIONS, resolveOptions, type ResolvedOptions, type TreeOptions } from './options.js';
import type { KeyPath } from './paths.js';
import { TreeSpec } from './spec.js';

const kind = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x);

/** The callback of a tree function: a function, or an error naming the function and the argument. */
function fn<F>(api: string, f: F): F {
  const call = api === 'treeMapOnly' ? 'treeMapOnly(selector, f, tree)' : `${api}(f, tree, ...)`;
  if (typeof f !== 'function') throw new ArgumentError(`${api}: the argument 'f' must be a function, got ${kind(f)}`, `call ${call}`);
  return f;
}

function spec(api: string, name: string, s: unknown): TreeSpec {
  if (!(s instanceof TreeSpec)) throw new ArgumentError(`${api}: '${name}' must be a TreeSpec, got ${kind(s)}`, 'get one from treeStructure(tree) or treeFlatten(tree)[1]');
  return s;
}

function iterable(api: string, values: unknown): Iterable<unknown> {
  if (values === null || values === undefined || typeof (values as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new ArgumentError(`${api}: expects an iterable of values, got ${kind(values)}`, 'pass an array');
  }
  return values as Iterable<unknown>;
}

export interface PytreeOps {
  treeFlatten(tree: Tree): [Tree[], TreeSpec];
  treeUnflatten(spec: TreeSpec, leaves: Iterable<unknown>): Tree;
  treeLeaves(tree: Tree): Tree[];
  treeStructure(tree: Tree): TreeSpec;
  treeMap(f: (leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree;
  treeMapInPlace(f: (leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree;
  treeReduce<A>(f: (accumulator: A, leaf: Tree) => A, tree: Tree, initial?: A): A;
  treeAll(tree: Tree): boolean;
  treeAny(tree: Tree): boolean;
  treeMapOnly(selector: LeafSelector, f: (leaf: Tree) => unknown, tree: Tree): Tree;
  treeTranspose(outer: TreeSpec, inner: TreeSpec | null, tree: Tree): Tree;
  treeBroadcastPrefix(prefixTree: Tree, fullTree: Tree): Tree;
  treeFlattenWithPath(tree: Tree): [[KeyPath, Tree][], TreeSpec];
  treeLeavesWithPath(tree: Tree): [KeyPath, Tree][];
  treeMapWithPath(f: (path: KeyPath, leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree;
  treeIsLeaf(value: unknown): boolean;
  treeAllLeaves(values: Iterable<unknown>): boolean;
}

function reduce<A>(o: ResolvedOptions, f: (a: A, leaf: Tree) => A, tree: Tree, hasInitial: boolean, initial?: A): A {
  const [leaves] = ops.flatten(o, tree);
  if (!hasInitial) {
    if (leaves.length === 0) {
      throw new PytreeError('treeReduce of a tree with no leaves needs an initial value', 'pass one as the third argument');
    }
    return (leaves as A[]).reduce(f as (a: A, leaf: A) => A);
  }
  return leaves.reduce<A>(f, initial as A);
}

function makeOps(o: ResolvedOptions): PytreeOps {
  return Object.freeze({
    treeFlatten: (tree: Tree) => ops.flatten(o, tree),
    treeUnflatten: (s: TreeSpec, leaves: Iterable<unknown>) => spec('treeUnflatten', 'spec', s).unflatten(leaves),
    treeLeaves: (tree: Tree) => ops.flatten(o, tree)[0],
    treeStructure: (tree: Tree) => ops.flatten(o, tree)[1],
    treeMap: (f: (...a: Tree[]) => unknown, tree: Tree, ...rests: Tree[]) => ops.map(o, fn('treeMap', f), tree, rests),
    treeMapInPlace: (f: (...a: Tree[]) => unknown, tree: Tree, ...rests: Tree[]) => ops.mapInPlace(o, fn('treeMapInPlace', f), tree, rests),
    treeReduce<A>(f: (a: A, leaf: Tree) => A, tree: Tree, ...initial: [A?]): A {
      return reduce(o, fn('treeReduce', f), tree, initial.length > 0, initial[0]);
    },
    treeAll: (tree: Tree) => ops.flatten(o, tree)[0].every(Boolean),
    treeAny: (tree: Tree) => ops.flatten(o, tree)[0].some(Boolean),
    treeMapOnly: (selector: LeafSelector, f: (leaf: Tree) => unknown, tree: Tree) => ops.mapOnly(o, selector, fn('treeMapOnly', f), tree),
    treeTranspose: (outer: TreeSpec, inner: TreeSpec | null, tree: Tree) =>
      ops.transpose(o, spec('treeTranspose', 'outer', outer), inner === null ? null : spec('treeTranspose', 'inner', inner), tree),
    treeBroadcastPrefix: (prefixTree: Tree, fullTree: Tree) => ops.broadcastPrefix(o, prefixTree, fullTree),
    treeFlattenWithPath: (tree: Tree) => ops.flattenWithPath(o, tree),
    treeLeavesWithPath: (tree: Tree) => ops.flattenWithPath(o, tree)[0],
    treeMapWithPath: (f: (path: KeyPath, ...a: Tree[]) => unknown, tree: Tree, ...rests: Tree[]) =>
      ops.mapWithPath(o, fn('treeMapWithPath', f), tree, rests),
    treeIsLeaf: (value: unknown) => ops.isLeaf(o, value),
    treeAllLeaves: (values: Iterable<unknown>) => [...iterable('treeAllLeaves', values)].every((value) => ops.isLeaf(o, value)),
  });
}

/** Every tree function, bound to `options`. Create it once and reuse it: it keeps its own flatten cache. */
export function withOptions(options: TreeOptions): PytreeOps {
  return makeOps(resolveOptions(options));
}


/** Returns `[leaves, spec]`: the leaves in order, and the structure they were taken out of. */
export function treeFlatten(tree: Tree, options?: TreeOptions): [Tree[], TreeSpec] {
  return options === undefined ? ops.flatten(DEFAULT_OPTIONS, tree) : ops.flatten(resolveOptions(options), tree);
}

/** Rebuilds a tree from a spec and exactly `spec.numLeaves` leaves; inputs are never modified. */
export function treeUnflatten(s: TreeSpec, leaves: Iterable<unknown>): Tree {
  return spec('treeUnflatten', 'spec', s).unflatten(leaves);
}

export function treeLeaves(tree: Tree, options?: TreeOptions): Tree[] {
  return treeFlatten(tree, options)[0];
}

export function treeStructure(tree: Tree, options?: TreeOptions): TreeSpec {
  return treeFlatten(tree, options)[1];
}

/** A tree of `tree`'s structure with `f(leaf, ...leaves of rests at the same place)` at each leaf. */
export function treeMap(f: (leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree {
  return ops.map(DEFAULT_OPTIONS, fn('treeMap', f), tree, rests);
}

/** Calls `f` on every leaf for its side effects and returns `tree` itself. */
export function treeMapInPlace(f: (leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree {
  return ops.mapInPlace(DEFAULT_OPTIONS, fn('treeMapInPlace', f), tree, rests);
}

/** Folds the leaves left to right; without `initial`, the first leaf starts the fold. */
export function treeReduce<A>(f: (accumulator: A, leaf: Tree) => A, tree: Tree, ...rest: [initial?: A, options?: TreeOptions]): A {
  return reduce(rest.length > 1 ? resolveOptions(rest[1]) : DEFAULT_OPTIONS, fn('treeReduce', f), tree, rest.length > 0, rest[0]);
}

/** True if every leaf is truthy (true for a tree with no leaves). */
export function treeAll(tree: Tree, options?: TreeOptions): boolean {
  return ops.flatten(resolveOptions(options), tree)[0].every(Boolean);
}

/** True if some leaf is truthy. */
export function treeAny(tree: Tree, options?: TreeOptions): boolean {
  return ops.flatten(resolveOptions(options), tree)[0].some(Boolean);
}

/** Maps `f` over the leaves that are instances of a class (or pass a predicate); others are kept. */
export function treeMapOnly(selector: LeafSelector, f: (leaf: Tree) => unknown, tree: Tree, options?: TreeOptions): Tree {
  return ops.mapOnly(resolveOptions(options), selector, fn('treeMapOnly', f), tree);
}

/** Turns a tree of structure outer.compose(inner) into one of structure inner.compose(outer). */
export function treeTranspose(outer: TreeSpec, inner: TreeSpec | null, tree: Tree, options?: TreeOptions): Tree {
  return ops.transpose(resolveOptions(options), spec('treeTranspose', 'outer', outer), inner === null ? null : spec('treeTranspose', 'inner', inner), tree);
}

/** A tree of `fullTree`'s structure where each leaf is the leaf of `prefixTree` above it. */
export function treeBroadcastPrefix(prefixTree: Tree, fullTree: Tree, options?: TreeOptions): Tree {
  return ops.broadcastPrefix(resolveOptions(options), prefixTree, fullTree);
}

/** Like treeFlatten, with each leaf paired with its key path: `[[[path, leaf], ...], spec]`. */
export function treeFlattenWithPath(tree: Tree, options?: TreeOptions): [[KeyPath, Tree][], TreeSpec] {
  return ops.flattenWithPath(resolveOptions(options), tree);
}

export function treeLeavesWithPath(tree: Tree, options?: TreeOptions): [KeyPath, Tree][] {
  return ops.flattenWithPath(resolveOptions(options), tree)[0];
}

/** Like treeMap, with `f` receiving the key path first. */
export function treeMapWithPath(f: (path: KeyPath, leaf: Tree, ...rest: Tree[]) => unknown, tree: Tree, ...rests: Tree[]): Tree {
  return ops.mapWithPath(DEFAULT_OPTIONS, fn('treeMapWithPath', f), tree, rests);
}

/** True if `value` is a leaf: not a node, or stopped by isLeaf. `null` is a node unless noneIsLeaf. */
export function treeIsLeaf(value: unknown, options?: TreeOptions): boolean {
  return ops.isLeaf(resolveOptions(options), value);
}

export function treeAllLeaves(values: Iterable<unknown>, options?: TreeOptions): boolean {
  const o = resolveOptions(options);
  for (const value of iterable('treeAllLeaves', values)) if (!ops.isLeaf(o, value)) return false;
  return true;
}

