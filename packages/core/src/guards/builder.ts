import { types } from 'node:util';
/** One leaf guard: JavaScript over the roots `L` (arguments), `T` (this), `C`/`M` (captures), `K` (constants). */
export interface GuardEntry {
  readonly code: string;
  /** Printed form for `explain` and recompile reasons (`L[0].dtype === "float32"`). */
  readonly text: string;
  readonly kind: 'type' | 'identity' | 'constant' | 'tensor' | 'length' | 'keys' | 'binding' | 'shape';
  readonly location?: string | undefined;
  /** For static size guards: the tensor source and dimension (automatic dynamic reads them on a miss). */
  readonly staticDim?: { readonly source: string; readonly dim: number } | undefined;
  /** For number-value guards: the source (automatic dynamic reads it on a miss, see trace/runtime-number.ts). */
  readonly valueSource?: string | undefined;
  /** For symbolic guards: each size the code reads, with the user's name for it (recompile reasons print them). */
  readonly sizeNames?: readonly (readonly [code: string, text: string])[] | undefined;
}

/**
 * Collects guards while a frame is traced. Values are never spliced into the code: they live in the
 * constant table `K` (closure data of the compiled guard function) and the code refers to `K[i]`.
 */
export class GuardBuilder {
  readonly constants: unknown[] = [];
  /**
   * The user's name for a constant that stands for a binding (`Math`, `cfg` captured by an inlined helper),
   * by index: guard texts and placeholders print it instead of `K[i]` (guards/names.ts).
   */
  readonly constantNames: (string | undefined)[] = [];
  private readonly namedValues = new Map<string, unknown>();
  private readonly constantIndex = new Map<unknown, number>();
  readonly entries: GuardEntry[] = [];
  private readonly seen = new Set<string>();

  /** `K[i]` for a value (deduplicated by identity), printed as `name` where one is given. */
  constant(value: unknown, name?: string): string {
    let i = this.constantIndex.get(value);
    if (i === undefined) {
      i = this.constants.length;
      this.constants.push(value);
      this.constantIndex.set(value, i);
    }
    if (name !== undefined && this.constantNames[i] === undefined) this.constantNames[i] = this.freeName(name, value);
    return `K[${i}]`;
  }

  /** `name`, or `name_1`, `name_2`… where bindings of two functions share a name but not a value. */
  private freeName(name: string, value: unknown): string {
    let free = name;
    for (let n = 1; this.namedValues.has(free) && this.namedValues.get(free) !== value; n++) free = `${name}_${n}`;
    this.namedValues.set(free, value);
    return free;
  }

  add(entry: GuardEntry): void {
    if (this.seen.has(entry.code)) return;
    this.seen.add(entry.code);
    this.entries.push(entry);
  }
}

/** A JS accessor for `key` on `source`: `.name`, `[3]` or `["escaped"]`. */
export function childSource(source: string, key: string | number): string {
  if (typeof key === 'number') return `${source}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return `${source}.${key}`;
  if (/^(0|[1-9]\d*)$/.test(key)) return `${source}[${key}]`;
  return `${source}[${JSON.stringify(key)}]`;
}

/** Printable form of a constant for guard texts (never evaluated). */
export function describeConstant(value: unknown): string {
  // A Proxy's `constructor` read would run its get trap.
  if (types.isProxy(value)) return '<Proxy>';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  if (typeof value === 'object' && value !== null) return `<${value.constructor?.name ?? 'object'}>`;
  return String(value);
}

/** A property key as guard code spells it: a JSON literal, or a constant (`K[i]`) for a symbol. */
export function keyCode(guards: GuardBuilder, key: PropertyKey): string {
  return typeof key === 'symbol' ? guards.constant(key) : JSON.stringify(key);
}

/** `Tensor.prototype` for a class's prototype object, else the object's printed form. */
export function describeHolder(o: object): string {
  if (types.isProxy(o)) return '<Proxy>';
  const ctor = Object.getOwnPropertyDescriptor(o, 'constructor')?.value as unknown;
  if (typeof ctor === 'function' && Object.getOwnPropertyDescriptor(ctor, 'prototype')?.value === o) return `${ctor.name || 'anonymous'}.prototype`;
  return describeConstant(o);
}

/**
 * The text of a method lookup's guard, in one form wherever the lookup starts: what is read (`receiver`: the
 * user's source, or the prototype the lookup starts from where no user name reaches it), then where the
 * method is defined: `L['x'].add is Tensor.prototype.add, unchanged since tracing`, `Tensor.prototype.mul is
 * unchanged since tracing` (a method of an intermediate tensor), `this.forward is Block.prototype.forward, …`.
 */
export function lookupGuardText(start: object, key: string | number, receiver: string, value: unknown): string {
  const read = `${receiver}.${String(key)}`;
  let definer: object | null = start;
  while (definer !== null && !Object.prototype.hasOwnProperty.call(definer, key)) definer = Object.getPrototypeOf(definer) as object | null;
  const defined = definer !== null && typeof value === 'function' ? `${describeHolder(definer)}.${String(key)}` : undefined;
  if (defined === undefined) return `${read} is unchanged since tracing (${describeConstant(value)})`;
  return defined === read ? `${defined} is unchanged since tracing` : `${read} is ${defined}, unchanged since tracing`;
}

// The accessor form @kiln/shapes accepts in emitted size guards (its own check is not exported).
const SAFE_ACCESSOR = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\['[\w$.-]*'\]|\["[\w$.-]*"\])*$/;
export const isSafeAccessor = (text: string): boolean => SAFE_ACCESSOR.test(text);
