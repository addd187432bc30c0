// Side effects on values that existed before the frame (arguments, `this`, captured objects), recorded while
// tracing instead of performed: `obj.p = v`, `delete obj.p`, `arr.push(v)`, `map.set(k, v)`, `set.add(v)`.
// The frame keeps tracing against an overlay (a later read of `obj.p` sees `v`); the compiled code replays
// the effects in program order after its graph runs. What cannot be replayed faithfully is a graph break.
import { types } from 'node:util';
import type { Ctx } from '../context.js';
import type { SourceLocation } from '@kiln/graph';
import { ExternalRef } from '../values.js';
import { ArrayShadow } from './array-shadow.js';
import { recordIndexWrite } from './collections.js';
import type { Value } from '../values.js';

export type Effect =
  | { readonly kind: 'set'; readonly target: ExternalRef; readonly key: string | number; readonly value: Value; readonly location: SourceLocation | undefined }
  | { readonly kind: 'delete'; readonly target: ExternalRef; readonly key: string | number; readonly location: SourceLocation | undefined }
  /** A builtin collection method (see collections.ts), replayed as `fn.apply(target, args)`. */
  | { readonly kind: 'call'; readonly target: ExternalRef; readonly method: string; readonly fn: Function; readonly args: readonly Value[]; readonly location: SourceLocation | undefined }
  /** An in-place op on a graph input (see inplace.ts): the input's final value is copied back into it. */
  /** `noGrad`: written by a library's traced form (an optimizer step), which eager code runs under noGrad. */
  | { readonly kind: 'copy'; readonly target: ExternalRef; readonly value: Value; readonly location: SourceLocation | undefined; readonly noGrad?: boolean };

/** Per frame: the effects in program order, and what later reads of the touched objects see. */
export class EffectLog {
  readonly effects: Effect[] = [];
  // Keyed by the object, not its source: two sources reaching one object see each other's writes (alias
  // guards, see targetSources, keep that aliasing true at run time).
  /** Overlay per target object: key → written value (or DELETED). */
  private readonly overlay = new Map<object, Map<string | number, Value>>();
  /** Outside arrays the frame changed, as the frame sees them. */
  private readonly shadows = new Map<object, ArrayShadow>();
  /** Outside Maps and Sets the frame changed (their contents are never read by the tracer). */
  private readonly collections = new Set<object>();
  /** Input fake tensors written in place → their source. */
  private readonly copied = new Map<object, string>();

  /** The source of an input tensor the frame wrote in place (it is returned as itself, not as a copy). */
  copiedSource(fake: unknown): string | undefined {
    return this.copied.get(fake as object);
  }

  has(target: object): boolean {
    return this.overlay.has(target) || this.shadows.has(target) || this.collections.has(target);
  }

  /** The frame's picture of an outside array it changed (created on the first change). */
  shadow(target: object, create = false): ArrayShadow | undefined {
    let s = this.shadows.get(target);
    if (!s && create) this.shadows.set(target, (s = new ArrayShadow()));
    return s;
  }

  /** Sources the frame mutated through. */
  targetSources(): Set<string> {
    return new Set(this.effects.map((e) => e.target.source));
  }

  /** `{ value }` when the frame wrote `key` of `target` earlier. */
  read(target: object, key: string | number): { value: Value } | undefined {
    const o = this.overlay.get(target);
    if (!o?.has(key)) return undefined;
    const v = o.get(key);
    return { value: v === DELETED ? undefined : v };
  }

  /** Whether the frame's own writes decide `key in target`: true (written), false (deleted), undefined (untouched). */
  hasWritten(target: object, key: string | number): boolean | undefined {
    const o = this.overlay.get(target);
    return o?.has(key) ? o.get(key) !== DELETED : undefined;
  }

  /** Records an effect; an array's or collection's own picture is updated by collections.ts. */
  write(effect: Effect): void {
    this.effects.push(effect);
    if (effect.kind === 'copy') {
      this.copied.set(effect.value as object, effect.target.source);
      return;
    }
    const src = effect.target.value;
    if (effect.kind === 'call') {
      if (!Array.isArray(src)) this.collections.add(src);
      return;
    }
    if (Array.isArray(src)) return;
    let o = this.overlay.get(src);
    if (!o) this.overlay.set(src, (o = new Map()));
    o.set(effect.key, effect.kind === 'set' ? effect.value : DELETED);
  }
}

const DELETED = Symbol('deleted');

function setterOf(obj: object, key: string | number): boolean {
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d.set !== undefined || d.get !== undefined || (o === obj && d.writable === false);
  }
  return false;
}

/** Why the tracer cannot replay a mutation of `target` (undefined when it can). */
function unreplayable(target: ExternalRef, key: string | number | undefined): string | undefined {
  const obj = target.value;
  if (types.isProxy(obj)) return `${target.source} is a Proxy`;
  if (Object.isFrozen(obj)) return `${target.source} is frozen`;
  if (key !== undefined && setterOf(obj, key)) return `'${String(key)}' of ${target.source} is an accessor or read-only`;
  if (key !== undefined && !(key in obj) && !Object.isExtensible(obj)) return `${target.source} is not extensible`;
  return undefined;
}

export function check(ctx: Ctx, target: ExternalRef, key: string | number | undefined, what: string): void {
  const why = unreplayable(target, key);
  if (why) throw ctx.tracer.break(`${what}: ${why} (a side effect that cannot be replayed)`, 'make the mutation outside the compiled function');
}

/** `target[key] = value` on an outside object. */
export function recordSet(ctx: Ctx, target: ExternalRef, key: string | number, value: Value): void {
  const what = `assignment to ${target.source}${typeof key === 'number' ? `[${key}]` : `.${key}`}`;
  if (Array.isArray(target.value)) {
    recordIndexWrite(ctx, target, key, value, what);
    return;
  }
  if (target.value instanceof Map || target.value instanceof Set) {
    throw ctx.tracer.break(`${what} (a property write on an outside Map or Set is not replayed)`, 'use set() / add(), or make the write outside the compiled function');
  }
  if (typeof target.value === 'function') throw ctx.tracer.break(`${what} (a property of a function)`);
  check(ctx, target, key, what);
  ctx.tracer.effects.write({ kind: 'set', target, key, value, location: ctx.tracer.location });
}

/** `delete target[key]` on an outside object. */
export function recordDelete(ctx: Ctx, target: ExternalRef, key: string | number): boolean {
  const what = `delete ${target.source}.${String(key)}`;
  if (Array.isArray(target.value) || typeof target.value === 'function') throw ctx.tracer.break(`${what} (on an array or function)`);
  const d = Object.getOwnPropertyDescriptor(target.value, key);
  if (d && !d.configurable) throw ctx.tracer.break(`${what}: the property is not configurable`);
  check(ctx, target, undefined, what);
  ctx.tracer.effects.write({ kind: 'delete', target, key, location: ctx.tracer.location });
  return true;
}

/**
 * Replayed values are rebuilt from templates, so an object built in the frame must reach the outside once:
 * stored by two effects, or stored and also returned or kept live, it would become two objects.
 */
export function checkSingleUse(ctx: { tracer: { break(reason: string, hint?: string): Error } }, values: readonly Value[]): void {
  const seen = new Set<object>();
  const visit = (v: Value): void => {
    if (v === null || typeof v !== 'object' || v instanceof ExternalRef || !isPlainContainer(v)) return;
    if (seen.has(v)) throw ctx.tracer.break('an object built in the frame is stored outside it and also returned or stored again', 'store a copy, or return it and store it outside the compiled function');
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x);
  };
  values.forEach(visit);
}

const isPlainContainer = (v: object): boolean => Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null;

/** The value the graph computed for a tensor (not the input object it was written back into). */
export class GraphValue {
  constructor(readonly value: Value) {}
}

export interface RecordedEffects {
  readonly effects: readonly Effect[];
  /** One output value per effect (its value, or its argument list), templated with the graph outputs. */
  readonly values: readonly Value[];
}

export function recordedEffects(tracer: { effects: EffectLog }): RecordedEffects {
  const effects = tracer.effects.effects;
  return { effects, values: effects.map((e) => (e.kind === 'copy' ? new GraphValue(e.value) : e.kind === 'set' ? e.value : e.kind === 'call' ? [...e.args] : undefined)) };
}
