// What a later process recognizes a kept function by, read for many functions at once: where V8 says it
// starts, and the primitive values it captures. Each inspector call is a round trip, and reading functions
// one by one cost the demo's cached first compile 61 of its 66 calls (five per function: an evaluate, the
// function's internals, its scope list, one listing per scope, a release). Here the functions travel to the
// inspector as one array, each costs its internals, and all their scope lists come back into the heap in one
// fetch (a scope list is an array of scope objects holding the bindings, see closures.ts). A scope list with
// a `with` scope is read listing by listing, a module's scope listed once. A function whose captures the
// tracer already read in this process (the compiled function itself) costs nothing.
import { heapBindings, knownFunctionInfo, materializedScopes } from '../trace/closures.js';
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

interface Internals {
  readonly location: { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
  readonly scopeList: Result | undefined;
}

function internalsOf(fnId: string): Internals {
  const internals = (post('Runtime.getProperties', { objectId: fnId, ownProperties: true }).internalProperties as Result[] | undefined) ?? [];
  return {
    location: internals.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as Internals['location'],
    scopeList: internals.find((p) => p.name === '[[Scopes]]')?.value as Result | undefined,
  };
}

/** Captured primitives from the bindings of each scope, innermost first (an inner binding shadows an outer one). */
function primitivesOf(scopes: readonly (readonly [string, unknown][])[]): Map<string, unknown> {
  const primitives = new Map<string, unknown>();
  const seen = new Set<string>();
  for (const bindings of scopes) {
    for (const [name, value] of bindings) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (value !== absent) primitives.set(name, value);
    }
  }
  return primitives;
}

/** The slower way, listing by listing, for a scope list that is not all copies of bindings (a `with` scope). */
function listedFacts({ location, scopeList }: Internals, moduleScopes: Map<string, Result[]>): FunctionFacts | undefined {
  if (!location) return undefined;
  // A function of an ES module always closes over its module's scope and the global one, last; a closure,
  // block, script or `with` scope would make three or more. So two scopes, in a module whose scope was listed
  // already, are exactly those two: the list itself is not read (one round trip less per such function).
  const known = moduleScopes.get(location.scriptId);
  const scopes = known && scopeList?.description === 'Scopes[2]' ? [known] : scopeBindings(scopeList?.objectId as string | undefined, location.scriptId, moduleScopes);
  const primitives = primitivesOf(scopes.map((bindings) => bindings.map((b): [string, unknown] => [b.name as string, primitiveOf(b.value as Result | undefined)])));
  return { line: location.lineNumber, column: location.columnNumber, primitives };
}

/**
 * Every function's `[[Scopes]]` list fetched into the heap in one round trip (the first list is `this`, the
 * others arguments), each an array of `{ description, object }` (see materializedScopes).
 */
function fetchScopeLists(listIds: readonly string[], group: string): unknown[] {
  if (listIds.length === 0) return [];
  post('Runtime.callFunctionOn', {
    objectId: listIds[0],
    functionDeclaration: `function (...rest) { globalThis.${SLOT} = [this, ...rest]; }`,
    arguments: listIds.slice(1).map((objectId) => ({ objectId })),
    objectGroup: group,
  });
  const lists = (globalThis as Record<string, unknown>)[SLOT] as unknown[];
  delete (globalThis as Record<string, unknown>)[SLOT];
  return lists;
}

/** Facts for functions whose internals were read: their scope lists in one fetch, the rest listing by listing. */
function readFacts(internals: readonly Internals[], group: string): (FunctionFacts | undefined)[] {
  const listIds = internals.map((i) => (i.location ? (i.scopeList?.objectId as string | undefined) : undefined));
  const fetched = fetchScopeLists(listIds.filter((id): id is string => id !== undefined), group);
  const moduleScopes = new Map<string, Result[]>();
  let next = 0;
  return internals.map((i, k) => {
    if (!i.location) return undefined;
    const heap = listIds[k] === undefined ? [] : materializedScopes(fetched[next++]);
    if (!heap) return listedFacts(i, moduleScopes);
    const scopes = heap.filter((s) => s.description !== 'Global').map((s) => heapBindings(s.object).map(([name, v]): [string, unknown] => [name, isPrimitive(v) ? v : absent]));
    return { line: i.location.lineNumber, column: i.location.columnNumber, primitives: primitivesOf(scopes) };
  });
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
    const read: Function[] = [];
    const internals: Internals[] = [];
    for (const item of listing(arrayId)) {
      const fnId = item.value?.objectId as string | undefined;
      if (!/^\d+$/.test(item.name) || !fnId) continue;
      read.push(unread[Number(item.name)]!);
      internals.push(internalsOf(fnId));
    }
    readFacts(internals, group).forEach((facts, i) => out.set(read[i]!, facts));
  } finally {
    delete (globalThis as Record<string, unknown>)[SLOT];
    post('Runtime.releaseObjectGroup', { objectGroup: group });
  }
  return out;
}
