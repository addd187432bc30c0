// What a later process recognizes a kept function by, read for many functions at once: where V8 says it
// starts, and the primitive values it captures. Each inspector call is a round trip, and reading functions
// one by one cost the demo's cached first compile 61 of its 66 calls (five per function: an evaluate, the
// function's internals, its scope list, one listing per scope, a release). Here the functions travel to the
// inspector as one array, each costs its internals and its scope list, and a module's scope — the same
// context for every function of that module — is listed once; a function that closes over nothing but its
// module (two scopes) skips its scope list too. A function whose captures the tracer already read in this
// process (the compiled function itself) costs nothing.
import { knownFunctionInfo } from '../trace/closures.js';
import { post } from '../trace/inspector.js';
import type { Result } from '../trace/inspector.js';

export interface FunctionFacts {
  /** 0-based, as V8 gives it. */
  readonly line: number;
  readonly column: number;
  /** Captured bindings holding primitives (no symbols), inner scopes shadowing outer ones. */
  readonly primitives: ReadonlyMap<string, unknown>;
}

const isPrimitive = (v: unknown): boolean => v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

function factsFromInfo(fn: Function): FunctionFacts | undefined {
  const info = knownFunctionInfo(fn);
  if (!info) return undefined;
  const primitives = new Map<string, unknown>();
  for (const c of info.captures.values()) if (isPrimitive(c.value)) primitives.set(c.name, c.value);
  return { line: info.line, column: info.column, primitives };
}

/** A primitive from its remote description (no round trip), or `absent` for objects and symbols. */
const absent = Symbol('not a primitive');
function primitiveOf(remote: Result | undefined): unknown {
  if (!remote || remote.type === 'symbol') return absent;
  if ('unserializableValue' in remote) {
    const u = remote.unserializableValue as string;
    return u.endsWith('n') ? BigInt(u.slice(0, -1)) : Number(u);
  }
  return remote.objectId === undefined ? remote.value : absent;
}

const listing = (objectId: string): Result[] => post('Runtime.getProperties', { objectId, ownProperties: true }).result as Result[];

/** The bindings of each scope the function closes over, innermost first (its module's listed once per module). */
function scopeBindings(scopesId: string | undefined, scriptId: string, moduleScopes: Map<string, Result[]>): Result[][] {
  const out: Result[][] = [];
  for (const scope of scopesId ? listing(scopesId) : []) {
    const description = scope.value?.description as string | undefined;
    const objectId = scope.value?.objectId as string | undefined;
    if (!objectId || description === 'Global') continue;
    if (description !== 'Module') out.push(listing(objectId));
    else {
      let known = moduleScopes.get(scriptId);
      if (!known) moduleScopes.set(scriptId, (known = listing(objectId)));
      out.push(known);
    }
  }
  return out;
}

function readFacts(fnId: string, moduleScopes: Map<string, Result[]>): FunctionFacts | undefined {
  const internals = (post('Runtime.getProperties', { objectId: fnId, ownProperties: true }).internalProperties as Result[] | undefined) ?? [];
  const location = internals.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
  const scopeList = internals.find((p) => p.name === '[[Scopes]]')?.value as Result | undefined;
  if (!location) return undefined;
  // A function of an ES module always closes over its module's scope and the global one, last; a closure,
  // block, script or `with` scope would make three or more. So two scopes, in a module whose scope was listed
  // already, are exactly those two: the list itself is not read (one round trip less per such function).
  const known = moduleScopes.get(location.scriptId);
  const scopes = known && scopeList?.description === 'Scopes[2]' ? [known] : scopeBindings(scopeList?.objectId as string | undefined, location.scriptId, moduleScopes);
  const primitives = new Map<string, unknown>();
  const seen = new Set<string>();
  for (const bindings of scopes) {
    for (const b of bindings) {
      if (seen.has(b.name)) continue;
      seen.add(b.name);
      const value = primitiveOf(b.value as Result | undefined);
      if (value !== absent) primitives.set(b.name, value);
    }
  }
  return { line: location.lineNumber, column: location.columnNumber, primitives };
}

const SLOT = '__kilnPersistFunctions';

/** The facts of each function (undefined for one V8 gives no location, such as a native or bound function). */
export function functionFacts(fns: Iterable<Function>): Map<Function, FunctionFacts | undefined> {
  const out = new Map<Function, FunctionFacts | undefined>();
  const unread: Function[] = [];
  for (const fn of fns) {
    if (out.has(fn)) continue;
    const known = factsFromInfo(fn);
    out.set(fn, known);
    if (!known) unread.push(fn);
  }
  if (!unread.length) return out;
  const group = 'kiln-persist-functions';
  (globalThis as Record<string, unknown>)[SLOT] = unread;
  try {
    const arrayId = post('Runtime.evaluate', { expression: `globalThis.${SLOT}`, objectGroup: group }).result.objectId as string;
    const moduleScopes = new Map<string, Result[]>();
    for (const item of listing(arrayId)) {
      const fnId = item.value?.objectId as string | undefined;
      if (!/^\d+$/.test(item.name) || !fnId) continue;
      out.set(unread[Number(item.name)]!, readFacts(fnId, moduleScopes));
    }
  } finally {
    delete (globalThis as Record<string, unknown>)[SLOT];
    post('Runtime.releaseObjectGroup', { objectGroup: group });
  }
  return out;
}
