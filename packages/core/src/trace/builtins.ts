// Standard builtins the tracer evaluates directly: Math, Number, Array/Object helpers, and methods of
// arrays, strings and Maps built inside the frame. Everything here is pure or mutates only frame-local
// values; a builtin not listed is a native call the policy skips.
import { SymInt, isSymFloat, isSymInt } from '@kiln/shapes';
import type { Ctx } from './context.js';
import { concrete } from './sym-ops.js';
import { ExternalRef, TracedFunction, isSymbolic, isTensorValue } from './values.js';
import { recordMethod } from './side-effects/collections.js';
import { isRuntimeNumber } from './runtime-number.js';
import type { Value } from './values.js';
import { callValue } from './calls.js';
import { spreadItems, writeBlocker } from './members.js';
import { readElements, readKeys, readProperty } from './external-reads.js';

/** Stands for the bundler's `__name` helper. */
export const KEEP_NAME = function keepName(target: unknown) {
  return target;
};

const GLOBALS = new Set([
  'Math', 'Number', 'Array', 'Object', 'JSON', 'String', 'Boolean', 'Map', 'Set', 'Infinity', 'NaN', 'undefined',
  'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'console', 'Error', 'TypeError', 'RangeError', 'Symbol', 'Function',
]);
export const isBuiltinGlobal = (name: string): boolean => GLOBALS.has(name);

type Result = { handled: true; value: Value } | { handled: false };
const NO: Result = { handled: false };
const ok = (value: Value): Result => ({ handled: true, value });

function primitives(ctx: Ctx, args: Value[], what: string): unknown[] {
  return args.map((a) => {
    const c = concrete(ctx.tracer, a);
    if (c !== null && (typeof c === 'object' || typeof c === 'function')) throw ctx.tracer.break(`${what} called with an object or tensor`);
    return c;
  });
}

const PURE_STATICS = new Set<unknown>([
  ...Object.getOwnPropertyNames(Math).map((k) => (Math as unknown as Record<string, unknown>)[k]).filter((f) => typeof f === 'function' && f !== Math.random),
  Number, String, Boolean, parseInt, parseFloat, isNaN, isFinite,
  Number.isInteger, Number.isFinite, Number.isNaN, Number.isSafeInteger, Number.parseFloat, Number.parseInt,
]);

function symbolicMinMax(ctx: Ctx, fn: Function, args: Value[]): Result {
  if (!args.some(isSymInt) || !args.every((a) => isSymInt(a) || Number.isInteger(a))) return NO;
  const pick = fn === Math.max ? 'max' : 'min';
  let acc = args[0] as SymInt | number;
  for (const a of args.slice(1)) {
    acc = isSymInt(acc) ? (acc as SymInt)[pick](a as number) : isSymInt(a) ? (a as SymInt)[pick](acc) : Math[pick](acc, a as number);
  }
  return ok(acc);
}

function arrayItems(ctx: Ctx, v: Value): Value[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof ExternalRef && Array.isArray(v.value)) return readElements(ctx.tracer, v);
  return undefined;
}

const TAKES_CALLBACK = new Set([
  'map', 'filter', 'forEach', 'reduce', 'reduceRight', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'flatMap', 'sort',
]);

function wrapCallbacks(ctx: Ctx, args: Value[], method: string): unknown[] {
  if (!TAKES_CALLBACK.has(method)) return args;
  // Native code calls the callback with the `thisArg` the user passed (`arr.map(fn, obj)`): pass it on.
  return args.map((a) =>
    a instanceof TracedFunction || (a instanceof ExternalRef && typeof a.value === 'function')
      ? function (this: Value, ...cbArgs: Value[]) {
          return callValue(ctx, a, this, cbArgs, 'callback');
        }
      : a,
  );
}

const ARRAY_MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'reverse', 'fill', 'sort', 'copyWithin']);

/**
 * Array methods whose native code compares or converts the elements (SameValueZero, ToString): a SymInt
 * there is an object named `s0`, so the elements and arguments are specialized to their values first.
 */
const VALUE_METHODS = new Set(['join', 'toString', 'toLocaleString', 'includes', 'indexOf', 'lastIndexOf', 'sort']);
const SEARCH_METHODS = new Set(['includes', 'indexOf', 'lastIndexOf']);

/**
 * A graph input compared by identity in native code (`[a, b].indexOf(b)`, a Set of tensors): two inputs are
 * distinct fake tensors while tracing but may be one tensor at run time.
 */
function refuseInputIdentity(ctx: Ctx, v: Value, what: string): void {
  if (isTensorValue(v) && ctx.tracer.inputFakes.has(v)) throw ctx.tracer.break(`${what} compares a tensor input by identity (inputs may be the same tensor at run time)`);
}

function arrayMethod(ctx: Ctx, fn: Function, thisArg: Value, args: Value[]): Result {
  const name = fn.name;
  if ((Array.prototype as unknown as Record<string, unknown>)[name] !== fn) return NO;
  const external = thisArg instanceof ExternalRef;
  if (external && ARRAY_MUTATORS.has(name)) throw ctx.tracer.break(`'${name}' on ${(thisArg as ExternalRef).source} (mutation of a value that existed before the frame)`);
  const items = arrayItems(ctx, thisArg);
  if (!items) return NO;
  if (VALUE_METHODS.has(name)) {
    if (SEARCH_METHODS.has(name)) refuseInputIdentity(ctx, args[0], name);
    specializeDeep(ctx, items, new Set(), true);
    args = args.map((a) => specializeDeep(ctx, a, new Set(), true));
  }
  let cbArgs = wrapCallbacks(ctx, args, name);
  if (name === 'sort' && typeof cbArgs[0] === 'function') {
    const cmp = cbArgs[0] as (...a: unknown[]) => unknown;
    cbArgs = [(a: unknown, b: unknown) => concrete(ctx.tracer, cmp(a, b))];
  }
  if (['keys', 'values', 'entries'].includes(name)) return ok([...(fn.apply(items, cbArgs) as Iterable<unknown>)]);
  const out = fn.apply(items, cbArgs);
  return ok(out);
}

const KEYED_METHODS = new Set(['get', 'set', 'has', 'delete', 'add']);

/** A Map key or Set element: compared with SameValueZero, so a size is specialized to its value. */
function collectionKey(ctx: Ctx, v: Value): Value {
  refuseInputIdentity(ctx, v, 'a Map key or Set element');
  return specializeDeep(ctx, v, new Set(), true);
}

function mapMethod(ctx: Ctx, fn: Function, thisArg: Value, args: Value[]): Result {
  const proto = thisArg instanceof Map ? Map.prototype : thisArg instanceof Set ? Set.prototype : undefined;
  if (!proto || (proto as unknown as Record<string, unknown>)[fn.name] !== fn) return NO;
  if (KEYED_METHODS.has(fn.name) && args.length > 0) args = [collectionKey(ctx, args[0]), ...args.slice(1)];
  const out = fn.apply(thisArg, wrapCallbacks(ctx, args, fn.name));
  return ok(out && typeof out === 'object' && Symbol.iterator in out && !(out instanceof Map) && !(out instanceof Set) ? [...(out as Iterable<unknown>)] : out);
}

function primitiveMethod(ctx: Ctx, fn: Function, thisArg: Value, args: Value[]): Result {
  const owner = fn === (String.prototype as unknown as Record<string, unknown>)[fn.name] || fn === (Number.prototype as unknown as Record<string, unknown>)[fn.name];
  if (!owner) return NO;
  const self = concrete(ctx.tracer, thisArg);
  if (typeof self === 'string' && (String.prototype as unknown as Record<string, unknown>)[fn.name] === fn) {
    return ok(fn.apply(self, primitives(ctx, args, `String.${fn.name}`)));
  }
  if (typeof self === 'number' && (Number.prototype as unknown as Record<string, unknown>)[fn.name] === fn) {
    return ok(fn.apply(self, primitives(ctx, args, `Number.${fn.name}`)));
  }
  return NO;
}

function objectStatic(ctx: Ctx, fn: Function, args: Value[]): Result {
  const [a] = args;
  const t = ctx.tracer;
  if (fn === Array.isArray) return ok(Array.isArray(a) || (a instanceof ExternalRef && Array.isArray(a.value)));
  if (fn === Object.keys || fn === Object.values || fn === Object.entries) {
    const keys = a instanceof ExternalRef ? readKeys(t, a) : a && typeof a === 'object' && !isTensorValue(a) ? Object.keys(a) : undefined;
    if (!keys) throw t.break(`${fn.name} of a tensor or non-object`);
    const get = (k: string) => (a instanceof ExternalRef ? readProperty(t, a, k) : (a as Record<string, Value>)[k]);
    return ok(fn === Object.keys ? keys : fn === Object.values ? keys.map(get) : keys.map((k) => [k, get(k)]));
  }
  if (fn === Object.assign) {
    if (a instanceof ExternalRef || !a || typeof a !== 'object') throw t.break('Object.assign onto a value that existed before the frame');
    for (const src of args.slice(1)) {
      if (src instanceof ExternalRef) for (const k of readKeys(t, src)) (a as Record<string, Value>)[k] = readProperty(t, src, k);
      else if (src && typeof src === 'object') Object.assign(a, src);
    }
    return ok(a);
  }
  if (fn === Object.freeze) {
    // Freezing is observable (a later write throws in strict code): freeze the frame's own object for real;
    // an outside object would have to be frozen by the replay.
    if (a instanceof ExternalRef || isTensorValue(a)) throw t.break('Object.freeze of a value that existed before the frame or of a tensor');
    return ok(a !== null && typeof a === 'object' ? Object.freeze(a) : a);
  }
  if (fn === Array.from) {
    const src = args[0];
    let items: Value[];
    if (src && typeof src === 'object' && !Array.isArray(src) && !(src instanceof ExternalRef) && 'length' in src) {
      items = Array.from({ length: concrete(t, (src as { length: Value }).length) as number });
    } else items = spreadItems(ctx, src);
    const mapFn = args[1];
    return ok(mapFn ? items.map((v, i) => callValue(ctx, mapFn, undefined, [v, i], 'Array.from callback')) : items);
  }
  if (fn === Array.of) return ok([...args]);
  return NO;
}

/** Runtime numbers inside frame-built arrays and plain objects replaced (in place) by their guarded values. */
/** With `symbols`, SymInts (and SymFloats, SymBools) are replaced by their guarded values too. */
function specializeDeep(ctx: Ctx, v: Value, seen = new Set<object>(), symbols = false): Value {
  if (isRuntimeNumber(v) || (symbols && isSymbolic(v))) return concrete(ctx.tracer, v);
  if (v === null || typeof v !== 'object' || seen.has(v)) return v;
  seen.add(v);
  const entries = Array.isArray(v) ? v.entries() : Object.getPrototypeOf(v) === Object.prototype ? Object.entries(v) : [];
  for (const [key, x] of entries) {
    const value = specializeDeep(ctx, x, seen, symbols);
    if (value === x) continue;
    // A frozen object keeps its slots: native code would see a symbolic value there.
    if (writeBlocker(v, key)) throw ctx.tracer.break('a frozen object holding a size passed to native code');
    (v as Record<string | number, Value>)[key] = value;
  }
  return v;
}

export function callBuiltin(ctx: Ctx, fn: Function, thisArg: Value, args: Value[]): Result {
  if (fn === KEEP_NAME) return ok(args[0]);
  if (fn === Math.max || fn === Math.min) {
    const sym = symbolicMinMax(ctx, fn, args);
    if (sym.handled) return sym;
  }
  if ((fn === Math.floor || fn === Math.ceil || fn === Math.trunc || fn === Math.round) && isSymInt(args[0])) return ok(args[0]);
  // `Number(n)` of a number is `n`: a runtime number or a symbolic size passes through unspecialized, as
  // `+n` does (sym-ops.ts), instead of recompiling for each value. (A SymBool is not a number: Number(true) is 1.)
  if (fn === Number && (isRuntimeNumber(args[0]) || isSymInt(args[0]) || isSymFloat(args[0]))) return ok(args[0]);
  if (PURE_STATICS.has(fn)) return ok(fn(...primitives(ctx, args, fn.name || 'builtin')));
  if (fn === Function.prototype.call) return ok(callValue(ctx, thisArg, args[0], args.slice(1), 'call'));
  if (fn === Function.prototype.apply) return ok(callValue(ctx, thisArg, args[0], spreadItems(ctx, args[1] ?? []), 'apply'));
  if (thisArg instanceof ExternalRef) {
    const effect = recordMethod(ctx, fn, thisArg, args);
    if (effect) return ok(effect.value);
  }
  // No builtin handles a tensor op, which takes runtime numbers as scalar graph inputs (calls.ts): leave
  // them unspecialized for it.
  if (isTensorValue(thisArg) || typeof (fn as { op?: unknown }).op === 'object') return NO;
  // Native code would see a runtime number as an object: give it (and the frame array it works on) values.
  args = args.map((a) => specializeDeep(ctx, a));
  if (Array.isArray(thisArg)) specializeDeep(ctx, thisArg);
  const handlers = [
    () => objectStatic(ctx, fn, args),
    () => arrayMethod(ctx, fn, thisArg, args),
    () => mapMethod(ctx, fn, thisArg, args),
    () => primitiveMethod(ctx, fn, thisArg, args),
  ];
  for (const handler of handlers) {
    const r = handler();
    if (r.handled) return r;
  }
  return NO;
}

export function constructBuiltin(ctx: Ctx, cls: Function, args: Value[]): Result {
  args = args.map((a) => specializeDeep(ctx, a));
  const nullish = (v: Value) => v === undefined || v === null;
  if (cls === Map) {
    const entries = nullish(args[0]) ? [] : spreadItems(ctx, args[0]).map((e) => spreadItems(ctx, e));
    return ok(new Map(entries.map(([key, value]) => [collectionKey(ctx, key), value])));
  }
  if (cls === Set) return ok(new Set(nullish(args[0]) ? [] : spreadItems(ctx, args[0]).map((v) => collectionKey(ctx, v))));
  if (cls === Array) {
    const n = args.length === 1 ? concrete(ctx.tracer, args[0]) : undefined;
    if (typeof n === 'number' && !(Number.isInteger(n) && n >= 0 && n < 2 ** 32)) throw ctx.tracer.break(`new Array(${n}): an invalid length (eager raises RangeError)`);
    return ok(args.length === 1 ? new Array(n as number) : [...args]);
  }
  if (cls === Object) return ok({});
  if (cls === Error || cls === TypeError || cls === RangeError) {
    // `new Error()` has an empty message (not "undefined"); options (`{ cause }`) are not modelled.
    if (args.length > 1) throw ctx.tracer.break(`new ${cls.name}(message, options) in traced code`);
    const message = concrete(ctx.tracer, args[0]);
    if (typeof message === 'symbol' || (message !== null && (typeof message === 'object' || typeof message === 'function'))) throw ctx.tracer.break(`new ${cls.name}() with an object as its message`);
    return ok(message === undefined ? new (cls as ErrorConstructor)() : new (cls as ErrorConstructor)(String(message)));
  }
  return NO;
}
