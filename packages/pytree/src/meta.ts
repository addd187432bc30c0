// Equality of node metadata. Metadata decides whether two specs are the same structure, so it must be a
// value comparison for the plain data people put there (numbers, strings, arrays, records), and identity
// for everything else (functions, class instances), as optree does with `==` on hashable metadata.

export function metaEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!metaEquals(a[i], b[i])) return false;
    return true;
  }
  if (!isPlainRecord(a) || !isPlainRecord(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!metaEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** A 32-bit hash consistent with metaEquals: equal metadata hash equally. */
export function metaHash(value: unknown, seed: number): number {
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'number') {
    return mixString(String(value), seed);
  }
  if (typeof value === 'string') return mixString(value, mix(seed, 0x57));
  if (Array.isArray(value)) {
    let h = mix(seed, value.length);
    for (const item of value) h = metaHash(item, h);
    return h;
  }
  if (typeof value === 'object' && isPlainRecord(value)) {
    // Key order does not matter to metaEquals, so combine the entries order-independently.
    let sum = 0;
    for (const key of Object.keys(value)) sum = (sum + metaHash((value as Record<string, unknown>)[key], mixString(key, 1))) | 0;
    return mix(seed, sum);
  }
  // Identity-compared values: all hash alike; equals() tells them apart.
  return mix(seed, 0x1d);
}

export function isPlainRecord(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function mix(h: number, n: number): number {
  return Math.imul(h ^ n, 0x01000193) >>> 0;
}

export function mixString(text: string, h: number): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h >>> 0, text.length);
}
