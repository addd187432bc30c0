// Property checks that guards run without running user code. A plain read (`C[0].scale`) runs a getter;
// these helpers never call one, so a getter installed after compiling makes its guard fail without being
// called — the fallback then runs it once, as eager code does. Proxies (whose traps would run even here)
// are refused by the type guards that come first (`isProxy`).
import { types } from 'node:util';
import { Tensor } from '@kiln/tensor';

const { isProxy } = types;
const lookupGetter = (Object.prototype as { __lookupGetter__(key: PropertyKey): unknown }).__lookupGetter__;

/** What `resolvedValue` reports for an accessor or a Proxy: equal to no value a guard compares with. */
export const NOT_DATA = Symbol('kiln.not-a-data-property');

/**
 * True when reading `obj[key]` runs no getter: wherever the prototype chain defines `key`, it is a data
 * property (or a setter-only accessor, which reads as undefined), or nothing defines it. On every call of
 * every entry, so it is one native walk of the chain (`__lookupGetter__`), without descriptor objects.
 */
export const isDataRead = (obj: unknown, key: PropertyKey): boolean => obj !== null && obj !== undefined && lookupGetter.call(obj, key) === undefined;

/**
 * The value `obj[key]` reads when the property is a data property wherever the prototype chain defines it
 * (`undefined` when no object on the chain has it); `NOT_DATA` when the chain holds an accessor for `key`
 * or a Proxy (whose traps would run).
 */
export function resolvedValue(obj: unknown, key: PropertyKey): unknown {
  if (obj === null || obj === undefined) return NOT_DATA;
  for (let o: object | null = Object(obj) as object; o !== null; o = Object.getPrototypeOf(o)) {
    if (isProxy(o)) return NOT_DATA;
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return 'value' in d ? d.value : NOT_DATA;
  }
  return undefined;
}

/**
 * True when `obj[key]` is an own data property that can never become an accessor: a non-configurable one
 * (an export of a module namespace, a field of a frozen or sealed object, an array's `length`). On an object
 * the guards pin by identity, reading it can never run a getter, so it needs no `isDataRead` check per call.
 */
export function isFixedDataProperty(obj: object, key: PropertyKey): boolean {
  if (isProxy(obj)) return false;
  try {
    const d = Object.getOwnPropertyDescriptor(obj, key);
    return d !== undefined && 'value' in d && d.configurable === false;
  } catch {
    return false; // an export read before its module ran (TDZ)
  }
}

/**
 * True when `for…in` over an object with prototype `proto` visits its own keys only: no object on the
 * chain has an enumerable string key (and none is a Proxy, whose traps would run).
 */
export function inheritsNoEnumerableKeys(proto: object | null): boolean {
  for (let o = proto; o !== null; o = Object.getPrototypeOf(o)) {
    if (isProxy(o)) return false;
    if (Object.keys(o).length > 0) return false;
  }
  return true;
}

/** Prototypes Kiln and the JS runtime define, whose methods user code rarely replaces (and never by a getter). */
const LIBRARY_PROTOTYPES: ReadonlySet<object> = new Set<object>([
  Tensor.prototype, Object.prototype, Function.prototype, Array.prototype, String.prototype, Number.prototype,
  Boolean.prototype, Symbol.prototype, Map.prototype, Set.prototype,
]);

/**
 * True when a lookup from `start` only meets Tensor.prototype and the JS builtins' prototypes (after the
 * tensor itself, for a plain Tensor). Guards on such lookups read the method directly — a few nanoseconds,
 * where a getter check costs tens — and still see a method redefined, deleted or shadowed by an own property.
 */
export function onlyLibraryPrototypes(start: object): boolean {
  let o: object | null = start instanceof Tensor && Object.getPrototypeOf(start) === Tensor.prototype ? Tensor.prototype : start;
  for (; o !== null; o = Object.getPrototypeOf(o) as object | null) if (!LIBRARY_PROTOTYPES.has(o)) return false;
  return true;
}

/** The helpers generated guard code may call, by the names it calls them. */
export const GUARD_HELPERS = { resolvedValue, isDataRead, inheritsNoEnumerableKeys, isProxy } as const;
