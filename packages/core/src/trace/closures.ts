// Free variables of a function, resolved in-process through node:inspector: `[[Scopes]]` lists the bindings
// V8 keeps in contexts (closure variables, module bindings, imports); `[[FunctionLocation]]` gives the script.
// All of this runs at compile time only; results are cached per function object (weakly: a collected
// function takes its entry with it) and per script. The Debugger domain, needed for a script's URL and
// source, is held and released by inspector.ts so that its cost does not grow with the scripts loaded.
import { findSourceMap } from 'node:module';
import type { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import type { Node as AstNode } from 'acorn';
import { scriptAssignments } from './ast-util.js';
import { builtAssignments } from './built-assignments.js';
import type { Assigned } from './built-assignments.js';
import { post, releaseObjectGroupSoon, scriptSource, scriptUrl } from './inspector.js';
import type { Result } from './inspector.js';
import { scriptTextFromFile } from './script-files.js';
import { unassignedScanner } from './unassigned-scan.js';

export interface Capture {
  readonly name: string;
  /** Index in the function's `[[Scopes]]` list (innermost first). */
  readonly scopeIndex: number;
  readonly value: unknown;
  /** The binding is assigned somewhere in its script after its declaration (a `let`/`var` that changes). */
  readonly mutable: boolean;
}

export interface FunctionInfo {
  readonly url: string;
  readonly scriptId: string;
  /** 0-based position of the function's text in the generated script. */
  readonly line: number;
  readonly column: number;
  readonly captures: ReadonlyMap<string, Capture>;
  /** Node internals (`node:`) or a dependency in node_modules. */
  readonly isLibrary: boolean;
}

const infoCache = new WeakMap<Function, FunctionInfo | null>();

/**
 * What each script assigns, for scripts that have captures. Scripts with a URL (modules, files) stay for the
 * process's life, so their entries do too; a URL-less script (`new Function`, eval) is counted by the
 * functions read from it and its entry goes when the last of them is collected.
 */
const assignedCache = new Map<string, ScriptAssignments>();
const scriptRefs = new FinalizationRegistry<string>((scriptId) => {
  const entry = assignedCache.get(scriptId);
  if (entry && --entry.refs === 0) assignedCache.delete(scriptId);
});

const slot = '__kilnInspectorValue';

function objectIdOf(value: unknown, group: string): string {
  (globalThis as Record<string, unknown>)[slot] = value;
  try {
    return post('Runtime.evaluate', { expression: `globalThis.${slot}`, objectGroup: group }).result.objectId as string;
  } finally {
    delete (globalThis as Record<string, unknown>)[slot];
  }
}

function valueOf(remote: Result, group: string): unknown {
  if (!remote) return undefined;
  if ('unserializableValue' in remote) {
    const u = remote.unserializableValue as string;
    return u.endsWith('n') ? BigInt(u.slice(0, -1)) : Number(u);
  }
  if (remote.objectId === undefined) return remote.value;
  post('Runtime.callFunctionOn', { objectId: remote.objectId, functionDeclaration: `function () { globalThis.${slot} = this; }`, objectGroup: group });
  const v = (globalThis as Record<string, unknown>)[slot];
  delete (globalThis as Record<string, unknown>)[slot];
  return v;
}

/** The last function's internal properties: a location and its scopes come from one round trip, not two. */
let lastInternals: { fnId: string; props: Result[] } | undefined;

function internal(fnId: string, name: string): Result | undefined {
  if (lastInternals?.fnId !== fnId) {
    const props = post('Runtime.getProperties', { objectId: fnId, ownProperties: true });
    lastInternals = { fnId, props: (props.internalProperties as Result[] | undefined) ?? [] };
  }
  return lastInternals.props.find((p) => p.name === name)?.value;
}

/**
 * The values of a scope's bindings, as the inspector lists them: primitives straight from the listing, objects
 * read from the scope object fetched into the heap once (one round trip per scope rather than one per object).
 */
function listedBindingValues(scopeId: string, group: string): [string, unknown][] {
  const listed = post('Runtime.getProperties', { objectId: scopeId, ownProperties: true }).result as Result[];
  let scope: Record<string, unknown> | undefined;
  return listed.map((b) => {
    const remote = b.value as Result | undefined;
    if (!remote || remote.objectId === undefined || 'unserializableValue' in remote) return [b.name, valueOf(remote!, group)];
    scope ??= ((valueOf({ objectId: scopeId }, group) as { object?: Record<string, unknown> } | undefined)?.object ?? {});
    return [b.name, b.name in scope ? scope[b.name] : valueOf(remote, group)];
  });
}

function scopeObjects(fnId: string): { description: string; objectId: string }[] {
  const scopes = internal(fnId, '[[Scopes]]');
  if (!scopes?.objectId) return [];
  const list = post('Runtime.getProperties', { objectId: scopes.objectId, ownProperties: true }).result as Result[];
  return list.filter((s) => s.value?.objectId).map((s) => ({ description: s.value.description as string, objectId: s.value.objectId as string }));
}

interface Scope {
  readonly description: string;
  readonly bindings: () => [string, unknown][];
}

/**
 * Scope kinds V8 hands over as a fresh object holding exactly that scope's bindings, one data property each,
 * in the order the inspector lists them. A `with` scope is the user's object itself (its listing differs from
 * its own property names: symbols, accessors), and the global scope is never read.
 */
const MATERIALIZED_SCOPE = /^(?:Closure|Module|Block|Script|Local|Catch|Eval|Global)\b/;

export interface HeapScope {
  readonly description: string;
  /** The scope's bindings as data properties (the global object itself for the global scope: never read it). */
  readonly object: Record<string, unknown>;
}

/**
 * The entries of a `[[Scopes]]` list fetched into the heap (an array of `{ description, object }`, innermost
 * first), or undefined when one of them is not a copy of its bindings (a `with` scope): read such a list as
 * the inspector lists it.
 */
export function materializedScopes(list: unknown): HeapScope[] | undefined {
  const entries = list as ArrayLike<{ description?: unknown; object?: unknown } | null> | undefined;
  if (!entries || typeof entries.length !== 'number') return undefined;
  const out: HeapScope[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!e || typeof e.description !== 'string' || !MATERIALIZED_SCOPE.test(e.description) || typeof e.object !== 'object' || e.object === null) return undefined;
    out.push({ description: e.description, object: e.object as Record<string, unknown> });
  }
  return out;
}

/** A materialized scope's bindings, in the inspector's order. */
export const heapBindings = (object: Record<string, unknown>): [string, unknown][] => Object.getOwnPropertyNames(object).map((name) => [name, object[name]]);

/**
 * A function's scopes, innermost first. The `[[Scopes]]` list is fetched into the heap in one round trip, so a
 * function's captures cost its internals and this one call rather than a listing of the scope list and of each
 * scope, and a fetch per scope that holds objects (the demo's first compile: 10 of 31 round trips).
 */
function scopesOf(fnId: string, group: string): Scope[] {
  const scopes = internal(fnId, '[[Scopes]]');
  if (!scopes?.objectId) return [];
  const heap = materializedScopes(valueOf({ objectId: scopes.objectId }, group));
  if (!heap) return scopeObjects(fnId).map((s) => ({ description: s.description, bindings: () => listedBindingValues(s.objectId, group) }));
  return heap.map((s) => ({ description: s.description, bindings: () => heapBindings(s.object) }));
}

let wholeScriptParses = 0;
/** For tests: how many whole scripts this process parsed to find their reassigned bindings. */
export const wholeScriptParseCount = (): number => wholeScriptParses;

function parseAssigned(source: string | undefined): Assigned {
  wholeScriptParses++;
  let ast: AstNode | undefined;
  for (const sourceType of ['module', 'script'] as const) {
    try {
      ast = source === undefined ? undefined : parse(source, { ecmaVersion: 'latest', sourceType, allowHashBang: true, allowReturnOutsideFunction: true });
      break;
    } catch {
      /* try the other source type */
    }
  }
  // A script we cannot read or parse: every binding counts as mutable (guarded), never assumed constant.
  return ast ? scriptAssignments(ast) : { assigned: new Set(['*']), setOnceAtTopLevel: new Set() };
}

/**
 * Whether a script may reassign each of its bindings. A built Kiln bundle says so itself (built-assignments.ts).
 * Otherwise a name the text scan proves unassigned needs no parse; the first name it cannot prove parses the
 * whole script once (acorn, cold in a fresh process: the scan spares the demo's first compile two
 * whole-script parses).
 */
class ScriptAssignments {
  refs = 0;
  private scan: ((name: string) => boolean) | undefined;
  private parsed: Assigned | undefined;
  constructor(private source: string | undefined) {
    this.parsed = source === undefined ? undefined : builtAssignments(source);
    if (this.parsed) this.source = undefined;
  }

  /**
   * Whether the binding `name` may change. `value` is what it holds now and `moduleScope` whether it is a
   * module's: a module's top-level `var` assigned only by its declaration changes no more once it holds a
   * value (see scriptAssignments).
   */
  has(name: string, value: unknown, moduleScope: boolean): boolean {
    if (!this.parsed && this.source !== undefined && (this.scan ??= unassignedScanner(this.source))(name)) return false;
    if (!this.parsed) {
      this.parsed = parseAssigned(this.source);
      this.source = this.scan = undefined;
    }
    if (this.parsed.assigned.has('*')) return true;
    if (this.parsed.setOnceAtTopLevel.has(name)) return !moduleScope || value === undefined;
    return this.parsed.assigned.has(name);
  }
}

function assignedInScript(fn: Function, scriptId: string, url: string, line: number, column: number): ScriptAssignments {
  let entry = assignedCache.get(scriptId);
  if (!entry) {
    const source = scriptTextFromFile(fn, url, line, column) ?? scriptSource(scriptId);
    assignedCache.set(scriptId, (entry = new ScriptAssignments(source)));
  }
  if (!url) {
    entry.refs++;
    scriptRefs.register(fn, scriptId);
  }
  return entry;
}

/**
 * Location and captured bindings of a (non-native) function; null for natives and bound functions. The URL
 * and which bindings are reassigned are read on first use: they need the Debugger domain (and a parse of the
 * whole script), which a fresh process pays tens of milliseconds to turn on, and a cached compile never asks.
 */
export function functionInfo(fn: Function): FunctionInfo | null {
  if (infoCache.has(fn)) return infoCache.get(fn)!;
  const group = 'kiln-closures';
  let info: FunctionInfo | null = null;
  try {
    const fnId = objectIdOf(fn, group);
    const loc = functionLocationOf(fnId);
    if (loc) {
      const bindings = new Map<string, { name: string; scopeIndex: number; value: unknown }>();
      const moduleScopes = new Set<number>();
      scopesOf(fnId, group).forEach((scope, scopeIndex) => {
        if (scope.description === 'Global') return;
        if (scope.description === 'Module') moduleScopes.add(scopeIndex);
        for (const [name, value] of scope.bindings()) {
          // An inner scope's binding shadows an outer one of the same name.
          if (!bindings.has(name)) bindings.set(name, { name, scopeIndex, value });
        }
      });
      let url: string | undefined;
      const urlOf = () => (url ??= scriptUrl(loc.scriptId));
      // Only a function that captures something needs its script's source (to see what is reassigned).
      let assigned: ScriptAssignments | undefined;
      const assignedOf = () => (assigned ??= assignedInScript(fn, loc.scriptId, urlOf(), loc.lineNumber, loc.columnNumber));
      const captures = new Map<string, Capture>();
      for (const b of bindings.values()) {
        captures.set(b.name, {
          ...b,
          get mutable() {
            return assignedOf().has(b.name, b.value, moduleScopes.has(b.scopeIndex));
          },
        });
      }
      info = {
        get url() {
          return urlOf();
        },
        scriptId: loc.scriptId,
        line: loc.lineNumber,
        column: loc.columnNumber,
        captures,
        get isLibrary() {
          const u = urlOf();
          return u.startsWith('node:') || u.includes('/node_modules/') || u === '';
        },
      };
    }
  } finally {
    releaseObjectGroupSoon(group);
  }
  infoCache.set(fn, info);
  return info;
}

function functionLocationOf(fnId: string): { scriptId: string; lineNumber: number; columnNumber: number } | undefined {
  return internal(fnId, '[[FunctionLocation]]')?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
}

/** What functionInfo already read of `fn` (no inspector call), or undefined when it has not read it. */
export const knownFunctionInfo = (fn: Function): FunctionInfo | null | undefined => infoCache.get(fn);

/** The current value of one captured binding (for guards on reassignable bindings: slow, ≈0.3 ms). */
export function readBinding(fn: Function, scopeIndex: number, name: string): unknown {
  const group = 'kiln-binding';
  try {
    const scope = scopesOf(objectIdOf(fn, group), group)[scopeIndex];
    return scope?.bindings().find(([n]) => n === name)?.[1];
  } finally {
    post('Runtime.releaseObjectGroup', { objectGroup: group });
  }
}

/** The source map Node holds for a script's URL (a script's map is registered when it loads, so it never changes). */
export const sourceMapOf = (url: string): SourceMap | undefined => (url ? findSourceMap(url) : undefined);

/**
 * Maps a generated position (0-based) back to the user's file and 1-based line through the source map; `map`
 * is the script's (sourceMapOf), looked up here when not given.
 */
export function originalLocation(url: string, line: number, column: number, map = sourceMapOf(url)): { file: string; line: number; column: number; path: string } {
  const entry = map?.findEntry(line, column) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  const source = entry?.originalSource ?? url;
  const file = source.startsWith('file:') ? fileURLToPath(source) : source;
  return { file: file.split('/').slice(-1)[0] ?? file, line: (entry?.originalLine ?? line) + 1, column: entry?.originalColumn ?? column, path: file };
}

/** For a bound function: its target, bound `this` and bound arguments (null for other functions). */
export function boundParts(fn: Function): { target: Function; thisArg: unknown; args: unknown[] } | null {
  if (!fn.name.startsWith('bound ')) return null;
  const group = 'kiln-bound';
  try {
    const fnId = objectIdOf(fn, group);
    const target = internal(fnId, '[[TargetFunction]]');
    if (!target) return null;
    const boundArgs = internal(fnId, '[[BoundArgs]]');
    const args = boundArgs?.objectId
      ? (post('Runtime.getProperties', { objectId: boundArgs.objectId, ownProperties: true }).result as Result[])
          .filter((p) => /^\d+$/.test(p.name))
          .map((p) => valueOf(p.value, group))
      : [];
    return { target: valueOf(target, group) as Function, thisArg: valueOf(internal(fnId, '[[BoundThis]]')!, group), args };
  } finally {
    post('Runtime.releaseObjectGroup', { objectGroup: group });
  }
}
