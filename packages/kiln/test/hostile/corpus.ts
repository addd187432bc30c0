// Strings a user controls that end up near generated code: object keys, property names, labels, class and
// function names, check() messages, Map keys, registered node names. Each payload that would run if pasted
// into JS source unescaped sets `globalThis.__kilnPwned`; tests assert it stays unset and that no prototype
// gained a property. Add a string here and every generator in generators.ts is run against it.

/** Set by any payload that executes. */
export const CANARY = '__kilnPwned';

export const HOSTILE_STRINGS: readonly string[] = [
  // Names that mean something to objects and prototypes.
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'then', 'length',
  // Quotes and escapes of every JS string form.
  "'", '"', '`', '\\', "\\'", '\\"', '${x}',
  // Breaking out of a string, template, comment or line and running code.
  `'); globalThis.${CANARY} = 1; ('`,
  `"); globalThis.${CANARY} = 1; ("`,
  `\`; globalThis.${CANARY} = 1; \``,
  `\${globalThis.${CANARY} = 1}`,
  `*/ globalThis.${CANARY} = 1; /*`,
  `\nglobalThis.${CANARY} = 1; //`,
  `\u2028globalThis.${CANARY} = 1; //`,
  `\u2029globalThis.${CANARY} = 1; //`,
  `\r\nglobalThis.${CANARY} = 1; //`,
  `]; globalThis.${CANARY} = 1; [`,
  `}); globalThis.${CANARY} = 1; ({`,
  `</script><script>globalThis.${CANARY} = 1</script>`,
  // Names of things the generated code itself uses (guard/resume/pytree parameters and scratch slots).
  'L', 'K', 'T', 'C', 'M', 'U', 'g', 'x', 'l', 'i', 'r', 'ch', 'Tensor', 'shape', 'dtype', 'this', 'arguments', 'eval', 'await',
  // Keys that look like indices or numbers, or are empty or odd.
  '', ' ', '0', '-1', '01', '1e3', 'NaN', 'Infinity', 'undefined', 'null', 'a.b', 'a[0]', "L[0]['x']",
  // Characters that break naive printers and parsers.
  '\0', '\ud800', '🔥', 'ℵ', 'é', '\u200b', '\t',
  'k'.repeat(5000),
];

/**
 * Identifiers a user may name variables, parameters and labels, chosen to collide with what generated code
 * declares (resume functions, guards) or to be spelled in a way a naive printer would mangle.
 */
export const HOSTILE_IDENTIFIERS: readonly string[] = [
  'L', 'K', 'T', 'C', 'M', 'U', 'g', 'Tensor', 'args', 'fn', 'self', 'result', 'resume', 'state', 'env', 'frame',
  '$', '_', '$$', '__proto__', 'constructor', 'ℵ', 'é', 'ᚠ', '\\u0061bc', 'await_', 'let_',
];

/** Own property names of the built-in prototypes, to detect pollution. */
export function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, Map.prototype]
    .map((p) => Reflect.ownKeys(p).map(String).sort().join(','))
    .join('|');
}

/** An object with exactly `keys` as own enumerable properties (`__proto__` included, as an own key). */
export function recordOf<V>(keys: readonly string[], value: (key: string, i: number) => V): Record<string, V> {
  const record: Record<string, V> = {};
  keys.forEach((key, i) => Object.defineProperty(record, key, { value: value(key, i), enumerable: true, writable: true, configurable: true }));
  return record;
}

/** The corpus without duplicates after a transformation (some generators need distinct keys). */
export const DISTINCT_STRINGS = [...new Set(HOSTILE_STRINGS)];
