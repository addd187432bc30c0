// Key paths: how a leaf is reached from the root. Each step is one small object whose kind decides how
// `keystr` prints it, following jax.tree_util: `[0]` for a sequence index, `['a']` for a dictionary or Map
// key, `.w` for an attribute of a registered class.

/** A step through an array (or a registered node that reports numeric keys). */
export class SequenceKey {
  readonly kind = 'sequence' as const;
  constructor(readonly key: number) {}
  toString(): string {
    return `[${this.key}]`;
  }
}

/** A step through a plain object or a Map; the key may be any value for Maps. */
export class DictKey {
  readonly kind = 'dict' as const;
  constructor(readonly key: unknown) {}
  toString(): string {
    return `[${formatKey(this.key)}]`;
  }
}

/** A step through a named field of a registered class (dataclass fields, or string keys a node reports). */
export class AttrKey {
  readonly kind = 'attr' as const;
  constructor(readonly key: string) {}
  toString(): string {
    return `.${this.key}`;
  }
}

export type PathEntry = SequenceKey | DictKey | AttrKey;
export type KeyPath = readonly PathEntry[];

/** Passed to isLeaf callbacks that do not ask for the path, so that no array is allocated per node. */
export const EMPTY_PATH: KeyPath = Object.freeze([]);

/** Renders a key path the way jax does: `[0].w['a']`. The empty path renders as the empty string. */
export function keystr(path: KeyPath): string {
  let text = '';
  for (const entry of path) text += entry.toString();
  return text;
}

/** Strings are quoted with single quotes so that `['a']` reads like Python; other keys use String(). */
export function formatKey(key: unknown): string {
  if (typeof key === 'string') return `'${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof key === 'symbol') return key.toString();
  if (typeof key === 'bigint') return `${key}n`;
  if (typeof key === 'object' && key !== null) return `<${key.constructor?.name ?? 'object'}>`;
  return String(key);
}

/** Registered nodes may report keys as raw strings or numbers; this turns them into path entries. */
export function toPathEntry(key: unknown): PathEntry {
  if (key instanceof SequenceKey || key instanceof DictKey || key instanceof AttrKey) return key;
  if (typeof key === 'number') return new SequenceKey(key);
  if (typeof key === 'string') return new AttrKey(key);
  return new DictKey(key);
}
