/**
 * Traceable replacements for `Object.keys / values / entries`: a `for…in` filtered to own properties, which
 * enumerates own string keys in the same order as the builtins (integer keys ascending, then insertion order).
 */
function toObject(o: unknown): object {
  if (o === null || o === undefined) throw new TypeError('Cannot convert undefined or null to object');
  return Object(o) as object;
}

const own = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
const enumerable = (o: object, key: string) => Object.prototype.propertyIsEnumerable.call(o, key);

export function keys(o: unknown): string[] {
  const obj = toObject(o);
  const out: string[] = [];
  for (const key in obj) if (own(obj, key)) out[out.length] = key;
  return out;
}

export function values(o: unknown): unknown[] {
  const obj = toObject(o) as Record<string, unknown>;
  const out: unknown[] = [];
  // Each value is read when reached and re-checked: a getter may delete a later key, as the spec allows for.
  for (const key of keys(obj)) if (enumerable(obj, key)) out[out.length] = obj[key];
  return out;
}

export function entries(o: unknown): [string, unknown][] {
  const obj = toObject(o) as Record<string, unknown>;
  const out: [string, unknown][] = [];
  for (const key of keys(obj)) if (enumerable(obj, key)) out[out.length] = [key, obj[key]];
  return out;
}
