/**
 * Traceable replacements for Array builtins: plain loops the tracer can interpret, following the spec's
 * steps that a user could observe (holes are skipped, the length is read once, a non-callable callback is a
 * TypeError). Each keeps the builtin's `length` (optional parameters have defaults), which the registry checks.
 */
type Callback<R> = (value: unknown, index: number, array: ArrayLike<unknown>) => R;

function lengthOf(self: ArrayLike<unknown>): number {
  if (self === null || self === undefined) throw new TypeError('Array.prototype method called on null or undefined');
  const n = Math.trunc(Number(self.length));
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function requireCallable(callback: unknown, method: string): void {
  if (typeof callback !== 'function') throw new TypeError(`${String(callback)} is not a function (in ${method})`);
}

export function map(this: ArrayLike<unknown>, callback: Callback<unknown>, thisArg: unknown = undefined): unknown[] {
  const n = lengthOf(this);
  requireCallable(callback, 'map');
  const out: unknown[] = [];
  out.length = n;
  for (let i = 0; i < n; i++) if (i in this) out[i] = callback.call(thisArg, this[i], i, this);
  return out;
}

export function filter(this: ArrayLike<unknown>, callback: Callback<unknown>, thisArg: unknown = undefined): unknown[] {
  const n = lengthOf(this);
  requireCallable(callback, 'filter');
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    if (!(i in this)) continue;
    const value = this[i];
    if (callback.call(thisArg, value, i, this)) out[out.length] = value;
  }
  return out;
}

export function forEach(this: ArrayLike<unknown>, callback: Callback<unknown>, thisArg: unknown = undefined): undefined {
  const n = lengthOf(this);
  requireCallable(callback, 'forEach');
  for (let i = 0; i < n; i++) if (i in this) callback.call(thisArg, this[i], i, this);
  return undefined;
}

export function some(this: ArrayLike<unknown>, callback: Callback<unknown>, thisArg: unknown = undefined): boolean {
  const n = lengthOf(this);
  requireCallable(callback, 'some');
  for (let i = 0; i < n; i++) if (i in this && callback.call(thisArg, this[i], i, this)) return true;
  return false;
}

export function every(this: ArrayLike<unknown>, callback: Callback<unknown>, thisArg: unknown = undefined): boolean {
  const n = lengthOf(this);
  requireCallable(callback, 'every');
  for (let i = 0; i < n; i++) if (i in this && !callback.call(thisArg, this[i], i, this)) return false;
  return true;
}

type Reducer = (acc: unknown, value: unknown, index: number, array: ArrayLike<unknown>) => unknown;

/** `initial` is a rest parameter so that "not given" differs from "given undefined", as in the builtin. */
export function reduce(this: ArrayLike<unknown>, callback: Reducer, ...initial: unknown[]): unknown {
  const n = lengthOf(this);
  requireCallable(callback, 'reduce');
  let i = 0;
  let acc: unknown;
  if (initial.length > 0) acc = initial[0];
  else {
    while (i < n && !(i in this)) i++;
    if (i >= n) throw new TypeError('Reduce of empty array with no initial value');
    acc = this[i++];
  }
  for (; i < n; i++) if (i in this) acc = callback(acc, this[i], i, this);
  return acc;
}

/** `Array.from` for iterables and array-likes (subclass receivers are not supported: `this` is ignored). */
export function from(items: unknown, mapFn: ((v: unknown, i: number) => unknown) | undefined = undefined, thisArg: unknown = undefined): unknown[] {
  if (items === null || items === undefined) throw new TypeError(`${String(items)} is not iterable`);
  if (mapFn !== undefined) requireCallable(mapFn, 'Array.from');
  const out: unknown[] = [];
  const iterator = (items as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof iterator === 'function') {
    let i = 0;
    for (const v of items as Iterable<unknown>) {
      out[i] = mapFn ? mapFn.call(thisArg, v, i) : v;
      i++;
    }
    return out;
  }
  const like = Object(items) as ArrayLike<unknown>;
  const n = lengthOf(like);
  for (let i = 0; i < n; i++) out[i] = mapFn ? mapFn.call(thisArg, like[i], i) : like[i];
  return out;
}
