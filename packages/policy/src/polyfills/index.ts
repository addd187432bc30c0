import { PolyfillSignatureError } from '../errors.js';
import type { AnyFunction } from '../frame.js';
import { every, filter, forEach, from, map, reduce, some } from './array.js';
import { entries, keys, values } from './object.js';

export interface PolyfillEntry {
  /** Qualified name of the replaced function (`Array.prototype.map`). */
  readonly target: string;
  readonly polyfill: AnyFunction;
}

/** The built-in polyfills, one per replaced builtin. */
export const BUILTIN_POLYFILLS: readonly PolyfillEntry[] = [
  { target: 'Array.prototype.map', polyfill: map },
  { target: 'Array.prototype.filter', polyfill: filter },
  { target: 'Array.prototype.reduce', polyfill: reduce },
  { target: 'Array.prototype.forEach', polyfill: forEach },
  { target: 'Array.prototype.some', polyfill: some },
  { target: 'Array.prototype.every', polyfill: every },
  { target: 'Array.from', polyfill: from },
  { target: 'Object.keys', polyfill: keys },
  { target: 'Object.values', polyfill: values },
  { target: 'Object.entries', polyfill: entries },
];

const ARROW = /^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/;

/**
 * Checks that `polyfill` can stand in for `original` at every call site: a plain function (not a class), the
 * same declared parameter count (`fn.length`, so optional parameters must have defaults), and, for a
 * prototype method, a function that receives `this` (not an arrow function). Throws a
 * PolyfillSignatureError naming both.
 */
export function checkPolyfillSignature(targetName: string, original: AnyFunction, polyfill: unknown): void {
  if (typeof polyfill !== 'function') {
    throw new PolyfillSignatureError(`polyfill for ${targetName} must be a function, got ${polyfill === null ? 'null' : typeof polyfill}`);
  }
  const source = Function.prototype.toString.call(polyfill);
  if (source.startsWith('class')) {
    throw new PolyfillSignatureError(`polyfill for ${targetName} is a class; it must be a plain function`);
  }
  if (polyfill.length !== original.length) {
    throw new PolyfillSignatureError(
      `polyfill ${polyfill.name || '(anonymous)'} for ${targetName} declares ${polyfill.length} ${polyfill.length === 1 ? 'parameter' : 'parameters'}, but ${targetName} declares ${original.length}`,
      'give optional parameters a default value (`thisArg = undefined`) or use a rest parameter, so that fn.length matches the builtin',
    );
  }
  if (targetName.includes('.prototype.') && ARROW.test(source)) {
    throw new PolyfillSignatureError(
      `polyfill for ${targetName} is an arrow function, but a prototype method receives its array as \`this\``,
      'write it as `function (this: T[], ...) { ... }`',
    );
  }
}
