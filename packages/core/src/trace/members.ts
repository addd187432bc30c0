// Property reads and writes on tracked values.
import { Tensor, sizeMul } from '@kiln/tensor';
import type { Size } from '@kiln/tensor';
import { isSymInt } from '@kiln/shapes';
import type { Ctx } from './context.js';
import { concrete } from './sym-ops.js';
import { ExternalRef, TracedFunction, isTensorValue } from './values.js';
import type { Value } from './values.js';
import type { FakeTensor } from '@kiln/tensor';
import { recordSet } from './side-effects/record.js';
import { isRuntimeNumber } from './runtime-number.js';
import { readElements, readInherited, readProperty } from './external-reads.js';

const TENSOR_FIELDS = new Set(['dtype', 'ndim', 'device', 'offset']);

export function getMember(ctx: Ctx, object: Value, key: string | number): Value {
  const t = ctx.tracer;
  if (object === null || object === undefined) throw t.break(`reading '${String(key)}' of ${String(object)}`);
  if (isTensorValue(object)) {
    if (key === 'shape') return [...object.shape];
    if (key === 'strides') return [...object.strides];
    if (key === 'numel') return object.shape.reduce<Size>((a, b) => sizeMul(a, b as Size), 1);
    if (TENSOR_FIELDS.has(String(key))) return (object as unknown as Record<string, unknown>)[key];
    if (key === 'grad') return gradOf(ctx, object);
    return tensorMethod(ctx, object, key);
  }
  if (object instanceof ExternalRef) {
    // A plain function's `prototype` is reassignable (a class's is not): read through a guarded lookup.
    if (typeof object.value === 'function' && key === 'prototype') return readInherited(t, object.value, key, object.source);
    return readProperty(t, object, key);
  }
  if (object instanceof TracedFunction) {
    if (key === 'name') return object.name;
    if (key === 'length') return object.node.params.length;
    throw t.break(`reading '${String(key)}' of a function defined in the frame`);
  }
  if (isSymInt(object) || isRuntimeNumber(object)) return getMember(ctx, concrete(t, object), key);
  if (typeof object !== 'object') {
    // A string's own characters and length are the frame's; anything else comes from String.prototype & co.
    const own = Object.getOwnPropertyDescriptor(Object(object), key);
    if (own) return own.value;
    return readInherited(t, Object.getPrototypeOf(object) as object, key);
  }
  if (object instanceof Map) {
    if (key === 'size') return object.size;
    const v = readInherited(t, Object.getPrototypeOf(object) as object, key);
    if (v instanceof ExternalRef && typeof v.value === 'function') return v;
    throw t.break(`reading '${String(key)}' of a Map`);
  }
  // An object or array built inside the frame (possibly with a user class's prototype). Its own fields and
  // those of frame objects it inherits from are the frame's; the rest of the chain existed before it.
  for (let o: object | null = object; o; o = Object.getPrototypeOf(o)) {
    if (o !== object && !t.frameProtos.has(o)) return readInherited(t, o, key);
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (!d) continue;
    if (d.get || d.set) throw t.break(`getter '${String(key)}' of an object built in the frame`);
    return d.value;
  }
  return undefined;
}

/**
 * `p.grad` of an input tensor (an optimizer's update reads it): null or another input, read by the guards
 * on every call like any field. The frame cannot have changed it (assigning a tensor property is a break,
 * and `backward()` runs at a break, before the frame that reads it starts). A computed tensor's `.grad`
 * lives on the tape, which the tracer does not model.
 */
function gradOf(ctx: Ctx, fake: FakeTensor): Value {
  const t = ctx.tracer;
  const input = t.inputFakes.get(fake);
  if (!input) throw t.break("reading '.grad' of a tensor computed in the frame", 'read it outside the compiled function');
  return t.external(input.real.grad, `${input.source}.grad`);
}

/**
 * A tensor method: resolved from the input tensor itself (an own property or a subclass may shadow
 * Tensor.prototype) or, for tensors the frame computed, from Tensor.prototype; guarded (readInherited, external-reads.ts).
 */
function tensorMethod(ctx: Ctx, fake: FakeTensor, key: string | number): Value {
  const t = ctx.tracer;
  const input = t.inputFakes.get(fake);
  const method = input ? readInherited(t, input.real, key, input.source) : readInherited(t, Tensor.prototype, key);
  if (method instanceof ExternalRef && typeof method.value === 'function') return method;
  throw t.break(`reading tensor property '${String(key)}'`);
}

export function setMember(ctx: Ctx, object: Value, key: string | number, value: Value): void {
  const t = ctx.tracer;
  // `o.__proto__ = p` runs Object.prototype's setter (the prototype changes), unlike a literal's computed key.
  if (key === '__proto__') throw t.break("assignment to '__proto__' (it sets the prototype)", 'use Object.create() outside the compiled function, or another key');
  if (object instanceof ExternalRef) {
    recordSet(ctx, object, key, value);
    return;
  }
  if (isTensorValue(object)) throw t.break(`assignment to tensor property '${String(key)}'`);
  if (object === null || isRuntimeNumber(object) || typeof object !== 'object' || object instanceof Map) throw t.break(`assignment to '${String(key)}' of a non-object`);
  const blocked = writeBlocker(object, key);
  if (blocked) throw t.break(`assignment to '${String(key)}' of an object built in the frame: ${blocked}`, 'eager code raises or runs the setter; it runs eagerly');
  (object as Record<string | number, unknown>)[key] = value;
}

/**
 * Why a plain write `obj[key] = v` on a frame object would not just store the value: a setter (user code
 * run natively, with the tracer's values), a read-only property, or a frozen / non-extensible object (a
 * TypeError in strict code).
 */
export function writeBlocker(object: object, key: string | number): string | undefined {
  for (let o: object | null = object; o && o !== Object.prototype && o !== Array.prototype; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (!d) continue;
    if (d.get || d.set) return 'it is an accessor';
    if (d.writable === false) return 'it is read-only';
    return undefined;
  }
  return Object.isExtensible(object) ? undefined : 'the object is not extensible';
}

/** The items of an iterable value (arrays, strings, Maps, external arrays). */
export function spreadItems(ctx: Ctx, value: Value): Value[] {
  if (Array.isArray(value)) return [...value];
  if (value instanceof ExternalRef && Array.isArray(value.value)) return readElements(ctx.tracer, value);
  if (typeof value === 'string') return [...value];
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => [k, v]);
  if (value instanceof Set) return [...value];
  if (isTensorValue(value)) throw ctx.tracer.break('iterating over a tensor', 'use unbind() or index explicitly');
  throw ctx.tracer.break('iterating over a value that is not an array, string or Map');
}
