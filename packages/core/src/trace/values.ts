import type { Node as AstNode } from 'acorn';
import { isSymBool, isSymFloat, isSymInt } from '@kiln/shapes';
import { FakeTensor } from '@kiln/tensor';
import { isRuntimeNumber } from './runtime-number.js';

export type AnyNode = AstNode & Record<string, any>;

/**
 * What the tracer computes with. Most values are plain JS values built inside the frame (numbers, strings,
 * arrays and objects whose slots hold values, Maps), fake tensors standing for graph nodes, and SymInts.
 * Two wrappers mark what the plain value cannot say: `ExternalRef` (a value that existed before the frame,
 * with the source guards read it from) and `TracedFunction` (a function whose body the tracer runs).
 */
export type Value = unknown;

/** An object or function from outside the frame: arguments, captured bindings, their fields. */
export class ExternalRef {
  constructor(
    readonly value: object,
    readonly source: string,
    /** `identity`: the object itself is guarded; `shape`: only its type / length (fields are read live). */
    readonly guarded: 'identity' | 'shape',
  ) {}
}

/** A function defined inside the frame (closure over the tracer's scopes), or an external one being inlined. */
export class TracedFunction {
  constructor(
    readonly node: AnyNode,
    readonly scope: Scope,
    readonly name: string,
    /** For arrow functions: the `this` of the enclosing frame. */
    readonly lexicalThis: { value: Value } | undefined,
  ) {}
}

export interface Binding {
  value: Value;
  readonly kind: 'const' | 'let' | 'var' | 'param' | 'function';
  initialized: boolean;
}

/** Resolves names the frame's own scopes do not declare: the function's captures, then globals. */
export type ExternalResolver = (name: string) => { found: true; value: Value } | { found: false };

export class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(
    readonly parent: Scope | null,
    readonly external: ExternalResolver | null = null,
  ) {}

  declare(name: string, kind: Binding['kind'], value: Value, initialized = true): void {
    this.vars.set(name, { value, kind, initialized });
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
      if (s.external) {
        const r = s.external(name);
        if (r.found) {
          const binding: Binding = { value: r.value, kind: 'const', initialized: true };
          s.vars.set(name, binding);
          return binding;
        }
      }
    }
    return undefined;
  }
}

export const isTensorValue = (v: Value): v is FakeTensor => v instanceof FakeTensor;
export const isSymbolic = (v: Value): boolean => isSymInt(v) || isSymBool(v) || isSymFloat(v);

export function typeOfValue(v: Value): string {
  if (isRuntimeNumber(v)) return 'number';
  if (v instanceof TracedFunction) return 'function';
  if (v instanceof ExternalRef) return typeof v.value;
  if (isSymInt(v) || isSymFloat(v)) return 'number';
  if (isSymBool(v)) return 'boolean';
  return typeof v;
}

/** Control flow out of a statement: the tracer's completion records. */
export type Completion =
  | undefined
  | { readonly type: 'return'; readonly value: Value }
  | { readonly type: 'break' | 'continue'; readonly label: string | undefined };
