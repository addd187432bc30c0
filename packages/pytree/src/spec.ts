// TreeSpec: the structure of a tree with its leaves taken out. Specs are immutable values; equal
// structures give equal specs (`equals`, `hash`), and the flatten cache hands out one shared instance per
// structure it has seen, so that the compiled unflatten stored on it is reused across calls.
import { ArgumentError, StructureMismatchError } from './errors.js';
import { flattenAs, type SpecMatcher } from './codegen/spec-cache.js';
import { flattenUpTo } from './match.js';
import { resolveOptions, type TreeOptions } from './options.js';
import { deserializeSpec } from './deserialize.js';
import { serializeSpec } from './serialize.js';
import { unflattenWithSpec } from './unflatten.js';
import { mix, mixString, metaHash } from './meta.js';
import type { NodeDef } from './registry.js';
import { RENDER_LIMIT, describeSpec, renderSpec } from './spec-print.js';

export type SpecKind = 'leaf' | 'none' | 'array' | 'object' | 'nullProtoObject' | 'map' | 'custom';

export class TreeSpec {
  readonly numLeaves: number;
  /** All nodes, leaves and `null`/`undefined` nodes included (optree's num_nodes). */
  readonly numNodes: number;
  /** @internal memoized hash() */
  hashCache: number | undefined = undefined;
  /** @internal how often unflatten ran on this spec; specialized code is generated on the second call. */
  unflattenCalls = 0;
  /** @internal generated unflatten, or null when the spec is too large to specialize. */
  compiledUnflatten: ((leaves: readonly unknown[]) => unknown) | null | undefined = undefined;
  /** @internal tryFlatten calls so far, and its generated code per options (see codegen/spec-cache.ts). */
  matchCalls = 0;
  /** @internal */
  compiledMatchers: Map<string, SpecMatcher> | undefined = undefined;

  constructor(
    readonly kind: SpecKind,
    readonly childSpecs: readonly TreeSpec[],
    /** Object keys, Map keys, or a registered node's keys; null for other kinds. */
    readonly keys: readonly unknown[] | null,
    /** `null`/`undefined` for none nodes; the registered node's metadata for custom nodes. */
    readonly meta: unknown,
    readonly node: NodeDef | null,
  ) {
    let leaves = kind === 'leaf' ? 1 : 0;
    let nodes = 1;
    for (const child of childSpecs) {
      leaves += child.numLeaves;
      nodes += child.numNodes;
    }
    this.numLeaves = leaves;
    this.numNodes = nodes;
  }

  isLeaf(): boolean {
    return this.kind === 'leaf';
  }

  /** True for `null` / `undefined` nodes (which have no children unless noneIsLeaf was set). */
  isNone(): boolean {
    return this.kind === 'none';
  }

  children(): TreeSpec[] {
    return [...this.childSpecs];
  }

  child(index: number): TreeSpec {
    const child = this.childSpecs[index];
    if (!Number.isInteger(index) || child === undefined) {
      throw new StructureMismatchError(
        `child(${index}) is out of range for ${describeSpec(this)}`,
        `use an index below ${this.childSpecs.length}`,
      );
    }
    return child;
  }

  /** The keys under which the children sit: indices, object keys, Map keys, or a registered node's keys. */
  entries(): unknown[] {
    if (this.keys !== null) return [...this.keys];
    return this.childSpecs.map((_, i) => i);
  }

  equals(other: TreeSpec): boolean {
    if (this === other) return true;
    return other instanceof TreeSpec && specsEqual(this, other, new Map());
  }

  /** A 32-bit hash, stable across runs for built-in nodes and JSON-like metadata. */
  hash(): number {
    if (this.hashCache !== undefined) return this.hashCache;
    let h = mixString(this.kind, 0x811c9dc5);
    if (this.keys !== null) for (const key of this.keys) h = metaHash(key, h);
    if (this.node !== null) h = metaHash(this.meta, mixString(this.node.name, h));
    else if (this.kind === 'none') h = mix(h, this.meta === null ? 1 : 2);
    h = mix(h, this.childSpecs.length);
    for (const child of this.childSpecs) h = mix(h, child.hash());
    this.hashCache = h;
    return h;
  }

  /** True if `other` has this structure, with any subtree allowed where this spec has a leaf. */
  isPrefixOf(other: TreeSpec): boolean {
    return isPrefix(this, other, new Map());
  }

  /**
   * Replaces every leaf of this spec with `inner`. The result shares `inner` (and this spec's leafless
   * subtrees) instead of copying them, so it costs one node per node of this spec, whatever its leaf count.
   */
  compose(inner: TreeSpec): TreeSpec {
    if (!(inner instanceof TreeSpec)) {
      throw new ArgumentError(`compose: the inner spec must be a TreeSpec, got ${inner === null ? 'null' : typeof inner}`, 'pass a spec from treeStructure(tree)');
    }
    if (!Number.isSafeInteger(this.numLeaves * inner.numNodes + this.numNodes)) {
      throw new ArgumentError(
        `compose: a spec of ${this.numLeaves} leaves composed with one of ${inner.numNodes} nodes is too large to count exactly`,
        'compose smaller specs',
      );
    }
    return composeShared(this, inner, new Map());
  }

  /** Rebuilds a tree of this structure from `leaves` (exactly numLeaves of them). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  unflatten(leaves: Iterable<unknown>): any {
    if (leaves === null || leaves === undefined || typeof (leaves as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new ArgumentError(
        `treeUnflatten: the leaves must be an iterable (an array), got ${leaves === null ? 'null' : typeof leaves}`,
        'pass the leaves array treeFlatten returned (or one of spec.numLeaves values)',
      );
    }
    return unflattenWithSpec(this, leaves);
  }

  /**
   * The leaves of `tree` if it has exactly this structure, else null: a guarded flatten for callers that
   * keep a spec per call site (the second call on a spec generates code for it; no cache lookup).
   */
  tryFlatten(tree: unknown, options?: TreeOptions): unknown[] | null {
    return flattenAs(this, tree, resolveOptions(options));
  }

  /**
   * The subtrees of `tree` found where this spec has leaves; throws StructureMismatchError, with the key
   * path, when `tree` does not have this structure as a prefix.
   */
  flattenUpTo(tree: unknown): unknown[] {
    return flattenUpTo(this, tree);
  }

  toString(): string {
    return `TreeSpec(${renderSpec(this, { left: RENDER_LIMIT })})`;
  }

  /** JSON text that `TreeSpec.deserialize` turns back into an equal spec. */
  serialize(): string {
    return serializeSpec(this);
  }

  static deserialize(text: string): TreeSpec {
    return deserializeSpec(text);
  }
}

export const LEAF_SPEC = new TreeSpec('leaf', [], null, undefined, null);
export const NULL_SPEC = new TreeSpec('none', [], null, null, null);
export const UNDEFINED_SPEC = new TreeSpec('none', [], null, undefined, null);

/** Structural equality; `proven` remembers pairs already found equal, so shared subtrees are compared once. */
function specsEqual(a: TreeSpec, b: TreeSpec, proven: Map<TreeSpec, TreeSpec>): boolean {
  if (a === b) return true;
  if (a.numNodes !== b.numNodes || a.numLeaves !== b.numLeaves) return false;
  if (a.hashCache !== undefined && b.hashCache !== undefined && a.hashCache !== b.hashCache) return false;
  if (proven.get(a) === b) return true;
  if (!sameNode(a, b)) return false;
  for (let i = 0; i < a.childSpecs.length; i++) {
    if (!specsEqual(a.childSpecs[i]!, b.childSpecs[i]!, proven)) return false;
  }
  if (a.childSpecs.length > 0) proven.set(a, b);
  return true;
}

function isPrefix(a: TreeSpec, b: TreeSpec, proven: Map<TreeSpec, TreeSpec>): boolean {
  if (a.kind === 'leaf' || a === b || proven.get(a) === b) return true;
  if (!sameNode(a, b)) return false;
  for (let i = 0; i < a.childSpecs.length; i++) {
    if (!isPrefix(a.childSpecs[i]!, b.childSpecs[i]!, proven)) return false;
  }
  proven.set(a, b);
  return true;
}

/** `done` maps each node of the outer spec to its composed copy: a shared outer subtree is composed once. */
function composeShared(outer: TreeSpec, inner: TreeSpec, done: Map<TreeSpec, TreeSpec>): TreeSpec {
  if (outer.kind === 'leaf') return inner;
  if (outer.numLeaves === 0) return outer;
  const known = done.get(outer);
  if (known !== undefined) return known;
  const children = outer.childSpecs.map((child) => composeShared(child, inner, done));
  const composed = new TreeSpec(outer.kind, children, outer.keys, outer.meta, outer.node);
  done.set(outer, composed);
  return composed;
}

/** Same node type, keys and metadata (children not compared). */
export function sameNode(a: TreeSpec, b: TreeSpec): boolean {
  if (a.kind !== b.kind || a.childSpecs.length !== b.childSpecs.length) return false;
  switch (a.kind) {
    case 'leaf':
    case 'array':
      return true;
    case 'none':
      return a.meta === b.meta;
    case 'object':
    case 'nullProtoObject':
    case 'map':
      return sameKeys(a.keys!, b.keys!);
    case 'custom':
      return a.node === b.node && a.node!.metaEquals(a.meta, b.meta);
    default:
      return a.kind satisfies never;
  }
}

function sameKeys(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}
