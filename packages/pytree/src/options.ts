// Options shared by every operation, and their defaults.
import type { KeyPath } from './paths.js';
import { GLOBAL_NAMESPACE } from './registry.js';
import { ArgumentError } from './errors.js';

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

const OPTION_TYPES: Readonly<Record<string, string>> = { isLeaf: 'function', noneIsLeaf: 'boolean', namespace: 'string', sortKeys: 'boolean', maxDepth: 'number' };

/** Options are checked once per resolve: a misspelled key must not silently change nothing. */
function checkOptions(options: unknown): void {
  const known = Object.keys(OPTION_TYPES).join(', ');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`tree options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, `pass { ${known} } or leave the options out`);
  }
  for (const [key, value] of Object.entries(options)) {
    const type = OPTION_TYPES[key];
    if (type === undefined) throw new ArgumentError(`unknown tree option '${key}'`, `known options: ${known}`);
    if (value !== undefined && typeof value !== type) throw new ArgumentError(`tree option '${key}' must be a ${type}, got ${value === null ? 'null' : typeof value}`, `known options: ${known}`);
  }
  const depth = (options as TreeOptions).maxDepth;
  if (depth !== undefined && !(Number.isInteger(depth) && depth > 0)) {
    throw new ArgumentError(`tree option 'maxDepth' must be a positive integer, got ${depth}`, `the default is ${DEFAULT_MAX_DEPTH}`);
  }
}

function resolve(options: TreeOptions): ResolvedOptions {
  checkOptions(options);
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
