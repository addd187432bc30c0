// Typed errors. Every error that concerns a place in a tree carries the key path to it and renders it in
// the message, so that a user can find the offending value; each also says what to do about it.
import { keystr, type KeyPath, type PathEntry } from './paths.js';

export class PytreeError extends Error {
  override name = 'PytreeError';
  /** Where in the tree the problem is; filled in from the innermost frame outwards while unwinding. */
  path: PathEntry[];
  constructor(
    public problem: string,
    readonly hint: string,
    path: KeyPath = [],
    options?: { cause?: unknown },
  ) {
    super('', options);
    this.path = [...path];
    // The message is rendered on demand: the path grows one step per frame while the error unwinds, and
    // re-rendering it on every step would cost quadratic time in deep trees.
    Object.defineProperty(this, 'message', {
      get: () => `${this.problem} (${this.path.length === 0 ? 'at the root' : `at ${keystr(this.path)}`}). Hint: ${this.hint}`,
      configurable: true,
      enumerable: false,
    });
  }

  /** Called while unwinding through containers, innermost step first. */
  prependPath(entry: PathEntry): this {
    this.path.unshift(entry);
    return this;
  }
}

/** Two trees (or a tree and a spec) differ in node type, length, key set or metadata. */
export class StructureMismatchError extends PytreeError {
  override name = 'StructureMismatchError';
}

/** `unflatten` was given a number of leaves that the spec does not hold. */
export class LeafCountError extends PytreeError {
  override name = 'LeafCountError';
  constructor(
    readonly expected: number,
    /** How many leaves were read; an iterable is read no further than one past `expected`. */
    readonly actual: number,
    /** True when reading stopped at `actual` with more leaves left (an endless iterator, say). */
    readonly hadMore = false,
  ) {
    super(
      `treeUnflatten expected ${expected} leaves but got ${hadMore ? `more than ${expected}` : actual}`,
      'pass exactly spec.numLeaves leaves, in the order treeFlatten returned them',
    );
  }
}

/** The tree contains itself. */
export class CycleError extends PytreeError {
  override name = 'CycleError';
}

/** The tree is deeper than `maxDepth`. */
export class DepthLimitError extends PytreeError {
  override name = 'DepthLimitError';
  /** The containers on the way down, innermost last; used to tell a cycle from a deep tree. */
  readonly containers: unknown[] = [];
}

/** Reading a value threw: a getter, a Proxy trap, `isLeaf`, or a registered node's flatten. */
export class AccessError extends PytreeError {
  override name = 'AccessError';
}

/** A bad call to registerPytreeNode / registerDataclass / registerStatic / unregisterPytreeNode. */
export class RegistrationError extends PytreeError {
  override name = 'RegistrationError';
}

/** A bad argument to a tree function: an options object, a spec or a callback of the wrong type. */
export class ArgumentError extends PytreeError {
  override name = 'ArgumentError';
}

/** A TreeSpec could not be serialized or deserialized. */
export class SerializationError extends PytreeError {
  override name = 'SerializationError';
}

/**
 * Adds one step of key path to an error thrown below a container. Errors that are not ours (a throwing
 * getter or Proxy trap, a user callback) are wrapped once, keeping the original as `cause`.
 */
export function withPathStep(error: unknown, entry: PathEntry, container: unknown): PytreeError {
  const ours =
    error instanceof PytreeError
      ? error
      : new AccessError(
          `reading a value threw ${describeThrown(error)}`,
          'check getters, Proxy traps, isLeaf and registered flatten functions on this value',
          [],
          { cause: error },
        );
  if (ours instanceof DepthLimitError) ours.containers.unshift(container);
  return ours.prependPath(entry);
}

export function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
