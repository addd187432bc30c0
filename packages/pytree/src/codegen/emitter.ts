// Shared machinery for generated code: one function per distinct subtree structure (so a list of 1000
// identical records emits one record function, not 1000), and values from the spec passed in as closure
// constants rather than spliced into source text. The only spec-derived text placed in source is object
// keys, and those always go through JSON.stringify.
import type { TreeSpec } from '../spec.js';

/**
 * V8 keeps its optimizer busy for seconds on generated functions above ~50 KB (BENCH.md); past this size a
 * spec stays on the generic path.
 */
export const MAX_SOURCE_CHARS = 48_000;

export class SourceTooLarge extends Error {}

export class Emitter {
  private readonly functions: string[] = [];
  private readonly constants: unknown[] = [];
  private readonly names = new Map<number, { spec: TreeSpec; name: string }[]>();
  private size = 0;
  private count = 0;

  constructor(
    private readonly prefix: string,
    private readonly emitBody: (spec: TreeSpec, emitter: Emitter) => string,
    /** Which specs share one function: equal ones by default; flatten code shares by shape. */
    private readonly identity: { hash(spec: TreeSpec): number; same(a: TreeSpec, b: TreeSpec): boolean } = {
      hash: (spec) => spec.hash(),
      same: (a, b) => a.equals(b),
    },
  ) {}

  /** The name of the function for `spec`'s structure, emitting it on first request. */
  functionFor(spec: TreeSpec): string {
    const hash = this.identity.hash(spec);
    const bucket = this.names.get(hash) ?? [];
    for (const entry of bucket) if (this.identity.same(entry.spec, spec)) return entry.name;
    const name = `${this.prefix}${this.count++}`;
    bucket.push({ spec, name });
    this.names.set(hash, bucket);
    const body = this.emitBody(spec, this);
    this.add(`function ${name}${body}`);
    return name;
  }

  /** A closure constant holding `value`; returns the identifier to use in source. */
  constant(value: unknown): string {
    this.constants.push(value);
    return `c${this.constants.length - 1}`;
  }

  /** Builds the module: constants are bound to locals once, then the functions, then `entry` is returned. */
  finish(entry: string, helpers: Record<string, unknown>): { source: string; make: () => unknown } {
    const helperNames = Object.keys(helpers);
    const bindings = this.constants.map((_, i) => `const c${i} = C[${i}];`).join('\n');
    const source = `"use strict";\n${bindings}\n${this.functions.join('\n')}\nreturn ${entry};`;
    const constants = this.constants;
    const make = () => new Function('C', ...helperNames, source)(constants, ...helperNames.map((n) => helpers[n]));
    return { source, make };
  }

  /** Adds a function written by the caller (used for root wrappers). */
  rawFunction(text: string): void {
    this.add(text);
  }

  private add(text: string): void {
    this.size += text.length;
    if (this.size > MAX_SOURCE_CHARS) throw new SourceTooLarge();
    this.functions.push(text);
  }
}

/** A JS string literal for an object key; JSON.stringify escapes quotes, backslashes and line breaks. */
export function keyLiteral(key: string): string {
  return JSON.stringify(key);
}

/** True when all children have one structure (by `same`), so a loop can replace per-child code. */
export function isHomogeneous(spec: TreeSpec, same: (a: TreeSpec, b: TreeSpec) => boolean = (a, b) => a.equals(b)): boolean {
  const children = spec.childSpecs;
  if (children.length < 2) return false;
  const first = children[0]!;
  for (let i = 1; i < children.length; i++) if (!same(first, children[i]!)) return false;
  return true;
}
