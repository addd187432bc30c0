// Options shared by every operation, and their defaults.
import type { KeyPath } from './paths.js';
import { GLOBAL_NAMESPACE } from './registry.js';

export interface TreeOptions {
  /**
   * Stops descent: a value for which this returns true is a leaf even if it is a node. It receives the key
   * path only if it declares a second parameter (building paths costs an allocation per node).
   */
  isLeaf?: (value: unknown, path: KeyPath) => boolean;
  /** When true, `null` and `undefined` are leaves; by default they are nodes with no children. */
  noneIsLeaf?: boolean;
  /** Registered classes of this namespace (and of GLOBAL_NAMESPACE) are nodes; others are leaves. */
  namespace?: string;
  /** Order plain-object keys by code unit (optree's order) instead of insertion order. */
  sortKeys?: boolean;
  /** Trees deeper than this raise DepthLimitError (or CycleError when an object contains itself). */
  maxDepth?: number;
}

export interface ResolvedOptions {
  readonly isLeaf: ((value: unknown, path: KeyPath) => boolean) | undefined;
  readonly noneIsLeaf: boolean;
  readonly namespace: string;
  readonly sortKeys: boolean;
  readonly maxDepth: number;
  /** Identifies the options that change structure (all but isLeaf); caches of generated code are keyed by it. */
  readonly key: string;
}

export const DEFAULT_MAX_DEPTH = 1000;

function resolve(options: TreeOptions): ResolvedOptions {
  const noneIsLeaf = options.noneIsLeaf === true;
  const namespace = options.namespace ?? GLOBAL_NAMESPACE;
  const sortKeys = options.sortKeys === true;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const key = `${namespace}\u0000${noneIsLeaf}\u0000${sortKeys}\u0000${maxDepth}`;
  return Object.freeze({ isLeaf: options.isLeaf, noneIsLeaf, namespace, sortKeys, maxDepth, key });
}

export const DEFAULT_OPTIONS: ResolvedOptions = resolve({});

export function resolveOptions(options: TreeOptions | undefined): ResolvedOptions {
  return options === undefined ? DEFAULT_OPTIONS : resolve(options);
}
