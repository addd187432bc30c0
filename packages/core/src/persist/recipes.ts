// How a later process finds a traced frame's constants (`K`) again, and proves they are the same. Within a
// process, guards compare functions and objects by identity; across processes identity means nothing, so
// each constant gets a recipe and is re-checked when found:
// - `value`: a primitive, stored as is;
// - `named`: a standard global or a Kiln export (`Math`, `Math.sqrt`, `Tensor.prototype`) — found by name,
//   compared by identity;
// - `path`: read from the frame's live values the way its identity guard reads it (`C[0].forward`);
// - `proto` / `capture`: the prototype of another constant, or a binding its (user) function captured.
// A function found by path, prototype or capture must have the same text, start at the same line and column,
// in a file whose content is unchanged (and older than this process, so it is what was loaded), with the same
// primitive captures; an object must have a constructor that passes the same test. A resume function Kiln
// generated at a graph break must have the same text and come from the same position of the same unchanged
// file. Anything else: no entry.
import { createHash } from 'node:crypto';
import { types } from 'node:util';
import * as tensorApi from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { GuardEntry } from '../guards/builder.js';
import { isSafeAccessor } from '../guards/builder.js';
import { functionInfo, readBinding } from '../trace/closures.js';
import { functionFacts } from './function-facts.js';
import type { FunctionFacts } from './function-facts.js';
import { isNativeFunction } from '../trace/functions.js';
import { isBuiltinGlobal } from '../trace/builtins.js';
import { holdsTextAt, unchangedFileText } from '../trace/script-files.js';
import { resumeOrigin } from '../trace/resume/codegen.js';

type Encoded = { readonly n: string } | { readonly b: string } | { readonly u: true } | string | boolean | number | null;

export type Recipe =
  | { readonly kind: 'value'; readonly value: Encoded }
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'path'; readonly code: string; readonly print: Print }
  | { readonly kind: 'proto'; readonly of: number; readonly print: Print }
  | { readonly kind: 'capture'; readonly of: number; readonly name: string; readonly scopeIndex: number; readonly print: Print };

/** What a found value must match: a function's identity outside a process, or an object's constructor's. */
export type Print =
  | { readonly kind: 'function'; readonly fn: FunctionPrint }
  | { readonly kind: 'object'; readonly ctor: FunctionPrint | null }
  | { readonly kind: 'tensor' };

export interface FunctionPrint {
  readonly text: string;
  /** For functions with a source file: where, the file's hash, and the primitive values it captures. */
  readonly file?: { readonly url: string; readonly line: number; readonly column: number; readonly hash: string; readonly primitives: readonly (readonly [string, Encoded])[] };
  /**
   * For a resume function Kiln generated at a graph break: the file, its hash and the position of the user
   * function it was made from. It captures nothing (the user function's captures are its parameters), so its
   * text and that origin are all it is.
   */
  readonly resumeOf?: { readonly url: string; readonly line: number; readonly column: number; readonly hash: string };
}

const encode = (v: unknown): Encoded => {
  if (v === undefined) return { u: true };
  if (typeof v === 'bigint') return { b: String(v) };
  if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return { n: Object.is(v, -0) ? '-0' : String(v) };
  return v as Encoded;
};
const decode = (e: Encoded): unknown => {
  if (e !== null && typeof e === 'object') return 'u' in e ? undefined : 'b' in e ? BigInt(e.b) : Number(e.n);
  return e;
};
const isPrimitive = (v: unknown): boolean => v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

// ---- names -----------------------------------------------------------------------------------------------

let names: Map<unknown, string> | undefined;
/** Standard globals (and their own properties, and their prototypes' own properties) and Kiln's exports. */
function namedValues(): Map<unknown, string> {
  if (names) return names;
  names = new Map();
  const add = (value: unknown, name: string) => {
    if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol') if (!names!.has(value)) names!.set(value, name);
  };
  const members = (holder: object, name: string) => {
    for (const key of Object.getOwnPropertyNames(holder)) {
      const d = Object.getOwnPropertyDescriptor(holder, key);
      if (d && 'value' in d) add(d.value, `${name}.${key}`);
    }
  };
  const roots: [string, unknown][] = [];
  for (const g of Object.getOwnPropertyNames(globalThis)) if (isBuiltinGlobal(g)) roots.push([`global:${g}`, (globalThis as Record<string, unknown>)[g]]);
  for (const [k, v] of Object.entries(tensorApi)) roots.push([`tensor:${k}`, v]);
  for (const [name, value] of roots) {
    add(value, name);
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      members(value as object, name);
      const proto = (value as { prototype?: unknown }).prototype;
      if (typeof value === 'function' && proto && typeof proto === 'object') members(proto, `${name}.prototype`), add(proto, `${name}.prototype`);
    }
  }
  return names;
}

function resolveName(name: string): unknown {
  const [root, ...path] = name.split('.');
  const [ns, id] = root!.split(':') as [string, string];
  let v: unknown = ns === 'global' ? (isBuiltinGlobal(id) ? (globalThis as Record<string, unknown>)[id] : undefined) : (tensorApi as Record<string, unknown>)[id];
  for (const key of path) {
    if (v === null || v === undefined) return undefined;
    const d = Object.getOwnPropertyDescriptor(v as object, key);
    v = d && 'value' in d ? d.value : undefined;
  }
  return v;
}

// ---- prints ----------------------------------------------------------------------------------------------

const fileHashes = new Map<string, string | null>();
/** The file's hash, or null when it cannot be read or changed after this process started (then it may not be what was loaded). */
function fileHash(url: string): string | null {
  let h = fileHashes.get(url);
  if (h !== undefined) return h;
  const text = unchangedFileText(url);
  h = text === undefined ? null : createHash('sha256').update(text).digest('hex');
  fileHashes.set(url, h);
  return h;
}

/** Whether the file's text holds `text` where V8 says the function starts. Not so for a file a loader transformed. */
function textAt(url: string, line: number, column: number, text: string): boolean {
  const source = unchangedFileText(url);
  return source !== undefined && holdsTextAt(source, line, column, text);
}

function primitiveCaptures(fn: Function): [string, Encoded][] | undefined {
  const info = functionInfo(fn);
  if (!info) return undefined;
  const out: [string, Encoded][] = [];
  for (const c of info.captures.values()) if (isPrimitive(c.value)) out.push([c.name, encode(c.value)]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** At store time: the print of a function, or undefined when it cannot be recognized in another process. */
export function functionPrint(fn: Function): FunctionPrint | undefined {
  const text = Function.prototype.toString.call(fn);
  if (isNativeFunction(fn)) return namedValues().has(fn) ? { text } : undefined;
  const origin = resumeOrigin(fn);
  if (origin) {
    const hash = origin.url.startsWith('file:') ? fileHash(origin.url) : null;
    return hash ? { text, resumeOf: { url: origin.url, line: origin.line, column: origin.column, hash } } : undefined;
  }
  const info = functionInfo(fn);
  if (!info || !info.url.startsWith('file:')) return undefined;
  const hash = fileHash(info.url);
  const primitives = primitiveCaptures(fn);
  if (!hash || !primitives || !textAt(info.url, info.line, info.column, text)) return undefined;
  // Captures that may be reassigned need no refusal here: V8 lists every binding of a module's scope, so a
  // `let` the function never reads would otherwise refuse every function of its module. One the trace read
  // is guarded on every call (the frame's own, in M) or refuses the frame (another function's, frameRecord);
  // a primitive one is also compared by value on load, like every primitive capture.
  return { text, file: { url: info.url, line: info.line, column: info.column, hash, primitives } };
}

/**
 * At load time: the functions a record names, checked together. `add` checks what costs nothing (the text,
 * a native function's name) and `verify` the rest — where each starts, its file, its primitive captures —
 * for all of them at once, so that the inspector is asked once per function and once per module.
 */
export class FunctionChecks {
  private readonly wanted = new Map<Function, FunctionPrint[]>();

  /** False when `fn` cannot be the function `print` describes (then verify need not run). */
  add(fn: unknown, print: FunctionPrint): boolean {
    if (typeof fn !== 'function' || Function.prototype.toString.call(fn) !== print.text) return false;
    if (print.resumeOf) return sameOrigin(fn, print.resumeOf);
    if (!print.file) return isNativeFunction(fn) && namedValues().get(fn) !== undefined;
    const prints = this.wanted.get(fn);
    if (prints) prints.push(print);
    else this.wanted.set(fn, [print]);
    return true;
  }

  /** The first function added that is not the one its print describes, or undefined when all are. */
  verify(): Function | undefined {
    const facts = functionFacts(this.wanted.keys());
    for (const [fn, prints] of this.wanted) {
      const live = facts.get(fn);
      if (!live || !prints.every((p) => sameFacts(live, p.file!))) return fn;
    }
    return undefined;
  }
}

/** A resume function made in this process from the function at that position of that (unchanged) file. */
function sameOrigin(fn: Function, origin: NonNullable<FunctionPrint['resumeOf']>): boolean {
  const live = resumeOrigin(fn);
  return live !== undefined && live.line === origin.line && live.column === origin.column && fileHash(origin.url) === origin.hash;
}

function sameFacts(live: FunctionFacts, f: NonNullable<FunctionPrint['file']>): boolean {
  if (live.line !== f.line || live.column !== f.column || fileHash(f.url) !== f.hash) return false;
  if (live.primitives.size !== f.primitives.length) return false;
  return f.primitives.every(([name, value]) => live.primitives.has(name) && Object.is(live.primitives.get(name), decode(value)));
}

function printOf(value: unknown): Print | undefined {
  if (value instanceof Tensor) return { kind: 'tensor' };
  if (typeof value === 'function') {
    const fn = functionPrint(value);
    return fn ? { kind: 'function', fn } : undefined;
  }
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return undefined;
  const ctor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(value) ?? {}, 'constructor')?.value as unknown;
  if (Object.getPrototypeOf(value) === null) return { kind: 'object', ctor: null };
  if (typeof ctor !== 'function') return undefined;
  const fn = namedValues().has(ctor) ? { text: Function.prototype.toString.call(ctor) } : functionPrint(ctor);
  return fn ? { kind: 'object', ctor: fn } : undefined;
}

/** Whether `value` can match `print`; the functions it involves are left to `checks.verify()`. */
function matchesPrint(value: unknown, print: Print, checks: FunctionChecks): boolean {
  if (print.kind === 'tensor') return value instanceof Tensor;
  if (print.kind === 'function') return checks.add(value, print.fn);
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (print.ctor === null) return proto === null;
  const ctor = proto && Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  if (!print.ctor.file) return typeof ctor === 'function' && namedValues().has(ctor) && Function.prototype.toString.call(ctor) === print.ctor.text;
  return checks.add(ctor, print.ctor);
}

// ---- recipes ---------------------------------------------------------------------------------------------

const IDENTITY = /^(.+) === K\[(\d+)\]$/;

/** Recipes for every constant of a trace, or undefined when one of them cannot be found again. */
export function constantRecipes(constants: readonly unknown[], guards: readonly GuardEntry[]): Recipe[] | undefined {
  const recipes: (Recipe | undefined)[] = constants.map(() => undefined);
  const paths = new Map<number, string>();
  for (const g of guards) {
    // The identity guard's own accessor, read from the live values (never one that goes through itself).
    const m = IDENTITY.exec(g.code.replace(/^isDataRead\([^)]*\) && /, ''));
    if (m && !m[1]!.includes(`K[${m[2]}]`) && !paths.has(Number(m[2]))) paths.set(Number(m[2]), m[1]!);
  }
  const named = namedValues();
  let progress = true;
  while (progress) {
    progress = false;
    constants.forEach((value, i) => {
      if (recipes[i]) return;
      const r = recipeFor(value, i, constants, recipes, paths, named);
      if (r) (recipes[i] = r), (progress = true);
    });
  }
  return recipes.every((r) => r !== undefined) ? (recipes as Recipe[]) : undefined;
}

function recipeFor(value: unknown, i: number, constants: readonly unknown[], recipes: readonly (Recipe | undefined)[], paths: ReadonlyMap<number, string>, named: ReadonlyMap<unknown, string>): Recipe | undefined {
  if (isPrimitive(value)) return { kind: 'value', value: encode(value) };
  const name = named.get(value);
  if (name !== undefined && resolveName(name) === value) return { kind: 'named', name };
  if (typeof value === 'symbol') return undefined;
  const print = printOf(value);
  if (!print) return undefined;
  const path = paths.get(i);
  // A path through other constants waits until they have recipes.
  if (path !== undefined && isSafeAccessor(path) && [...path.matchAll(/K\[(\d+)\]/g)].every((m) => recipes[Number(m[1])])) return { kind: 'path', code: path, print };
  for (let j = 0; j < constants.length; j++) {
    const other = constants[j];
    if (!recipes[j] || other === null || (typeof other !== 'object' && typeof other !== 'function')) continue;
    if (Object.getPrototypeOf(other) === value) return { kind: 'proto', of: j, print };
    if (typeof other === 'function' && !isNativeFunction(other)) {
      const info = functionInfo(other);
      for (const c of info?.captures.values() ?? []) if (c.value === value && !c.mutable) return { kind: 'capture', of: j, name: c.name, scopeIndex: c.scopeIndex, print };
    }
  }
  return undefined;
}

/** The live roots a path recipe reads, as the guards see them. */
export interface LiveRoots {
  readonly L: readonly unknown[];
  readonly T: unknown;
  readonly C: readonly unknown[];
  readonly M: readonly unknown[];
}

/**
 * Finds every constant again in this process; undefined when one is missing or differs (a miss). The
 * functions among them (and objects' constructors) are added to `checks`: the caller verifies them all.
 */
export function resolveConstants(recipes: readonly Recipe[], roots: LiveRoots, checks: FunctionChecks): unknown[] | undefined {
  const K: unknown[] = new Array(recipes.length);
  const done = new Array<boolean>(recipes.length).fill(false);
  for (let pass = 0; pass <= recipes.length; pass++) {
    let left = 0;
    for (let i = 0; i < recipes.length; i++) {
      if (done[i]) continue;
      const r = recipes[i]!;
      const ready = r.kind === 'proto' || r.kind === 'capture' ? done[r.of] : r.kind === 'path' ? [...r.code.matchAll(/K\[(\d+)\]/g)].every((m) => done[Number(m[1])]) : true;
      if (!ready) {
        left++;
        continue;
      }
      const found = find(r, K, roots, checks);
      if (found.missing) return undefined;
      K[i] = found.value;
      done[i] = true;
    }
    if (left === 0) return K;
  }
  return undefined;
}

const ROOT = /^[A-Za-z_$][\w$]*/;
const STEP = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\['([\w$.-]*)'\]|\["([\w$.-]*)"\]/g;

/**
 * Reads a plain accessor (isSafeAccessor: a root name, then names, integer indices and quoted keys) as the
 * guard would, property by property: no code is made from text read back from a file.
 */
function readAccessor(code: string, roots: LiveRoots, K: readonly unknown[]): unknown {
  const root = ROOT.exec(code)![0];
  const bases: Record<string, unknown> = { L: roots.L, T: roots.T, C: roots.C, M: roots.M, K, Tensor };
  if (!Object.hasOwn(bases, root)) throw new Error(`unknown root ${root}`);
  let v = bases[root];
  for (const m of code.slice(root.length).matchAll(STEP)) v = (v as Record<string, unknown>)[m[1] ?? m[2] ?? m[3] ?? m[4]!];
  return v;
}

function find(r: Recipe, K: readonly unknown[], roots: LiveRoots, checks: FunctionChecks): { missing: boolean; value?: unknown } {
  const miss = { missing: true };
  switch (r.kind) {
    case 'value':
      return { missing: false, value: decode(r.value) };
    case 'named': {
      const v = resolveName(r.name);
      return v === undefined ? miss : { missing: false, value: v };
    }
    case 'path': {
      let v: unknown;
      if (!isSafeAccessor(r.code)) return miss;
      try {
        v = readAccessor(r.code, roots, K);
      } catch {
        return miss;
      }
      return matchesPrint(v, r.print, checks) ? { missing: false, value: v } : miss;
    }
    case 'proto': {
      const of = K[r.of];
      const v = of !== null && (typeof of === 'object' || typeof of === 'function') ? Object.getPrototypeOf(of) : undefined;
      return matchesPrint(v, r.print, checks) ? { missing: false, value: v } : miss;
    }
    case 'capture': {
      const of = K[r.of];
      if (typeof of !== 'function') return miss;
      const v = readBinding(of, r.scopeIndex, r.name);
      return matchesPrint(v, r.print, checks) ? { missing: false, value: v } : miss;
    }
    default:
      return r satisfies never;
  }
}
