// Reads of outside objects the frame did not create (properties, prototype lookups, `in`, key lists, array
// elements), each guarding what the trace relies on so that a later call with a changed object recompiles.
// A value the frame itself wrote comes from its effect log (side-effects/) instead of the live object.
import { types } from 'node:util';
import { childSource, describeHolder, keyCode, lookupGuardText } from '../guards/builder.js';
import { NOT_DATA, isFixedDataProperty, onlyLibraryPrototypes, resolvedValue } from '../guards/reflect.js';
import type { FrameTracer } from './frame.js';
import type { ExternalRef, Value } from './values.js';
import { arrayContents, readChangedArray, slotValue } from './side-effects/collections.js';

/** A property of an external object, read live by the guards. */
export function readProperty(tracer: FrameTracer, ref: ExternalRef, key: string | number): Value {
  refuseProxy(tracer, ref, `reading '${String(key)}' of`);
  if (tracer.effects.has(ref.value)) {
    if (Array.isArray(ref.value)) {
      const changed = readChangedArray(tracer, ref, key);
      if (changed) return changed.value;
    } else if (ref.value instanceof Map || ref.value instanceof Set) {
      // Method lookups read the live object; contents were never read, and after a change they are unknown.
      if (typeof findDescriptor(ref.value, key)?.value !== 'function') throw tracer.break(`reading ${ref.source} after the frame changed it`, 'read it before the change, or outside the compiled function');
    } else {
      const written = tracer.effects.read(ref.value, key);
      if (written) return written.value;
    }
  }
  const holder = ref.value as Record<string | number, unknown>;
  if (resolvedValue(holder, key) === NOT_DATA) throw tracer.break(`reading '${String(key)}' of ${ref.source} runs a getter`, 'store the value in a field, or read it outside the compiled function');
  // Checked before any guard reads the property: a getter installed later fails here without running.
  // Not needed where no getter can ever appear: a non-configurable data property of an object pinned by
  // identity (a module's export, a frozen object's field), or an array's length (one native lookup less
  // per property per call: module-style guards were mostly these checks).
  const fixed = ref.guarded === 'identity' ? isFixedDataProperty(holder, key) : Array.isArray(holder) && key === 'length';
  if (!fixed) tracer.guard(`isDataRead(${ref.source}, ${keyCode(tracer.guards, key)})`, `${childSource(ref.source, key)} is a data property`, 'keys');
  const value = holder[key];
  if (!(key in holder) && ref.guarded === 'shape' && !Array.isArray(holder)) {
    tracer.guard(`!(${JSON.stringify(String(key))} in ${ref.source})`, `${ref.source} has no key ${JSON.stringify(String(key))}`, 'keys');
    return undefined;
  }
  return tracer.external(value, childSource(ref.source, key));
}

/**
 * `key` looked up from `start` along a prototype chain that existed before the frame (a class's prototype,
 * Tensor.prototype, Array.prototype…), or from a tensor input (`startSource` reads it in the guards). The
 * trace relies on the value found, so the guard reads it again on every call: a method redefined, deleted
 * or shadowed by an own property after compiling fails the guard. On user prototypes it first checks that
 * the read runs no getter (one installed later fails the guard unread); on Tensor.prototype and the JS
 * builtins' prototypes the method is read directly, which keeps the common tensor-method guard at a
 * plain property read (a getter installed there in place of a method would run in the guard too).
 */
export function readInherited(tracer: FrameTracer, start: object, key: string | number, startSource = tracer.guards.constant(start)): Value {
  const value = resolvedValue(start, key);
  if (value === NOT_DATA) throw tracer.break(`reading '${String(key)}' of ${describeHolder(start)} runs a getter (or a Proxy trap)`, 'read it outside the compiled function');
  const k = keyCode(tracer.guards, key);
  const same = typeof value === 'object' || typeof value === 'function' ? `${startSource}[${k}] === ${tracer.guards.constant(value)}` : `Object.is(${startSource}[${k}], ${tracer.guards.constant(value)})`;
  tracer.guard(onlyLibraryPrototypes(start) ? same : `isDataRead(${startSource}, ${k}) && ${same}`, lookupGuardText(start, key, receiverText(tracer, start, startSource), value), 'identity');
  return tracer.fixed(value);
}

/** The receiver of a lookup as guard texts print it: its source, or the object itself where no name reaches it. */
function receiverText(tracer: FrameTracer, start: object, startSource: string): string {
  const constantIndex = /^K\[(\d+)\]$/.exec(startSource)?.[1];
  return constantIndex !== undefined && tracer.guards.constantNames[Number(constantIndex)] === undefined ? describeHolder(start) : startSource;
}

/** `key in ref` for an external object: the frame's own writes first, else the live object, guarded. */
export function readHasKey(tracer: FrameTracer, ref: ExternalRef, key: string | number): boolean {
  refuseProxy(tracer, ref, `'${String(key)}' in`);
  if (tracer.effects.has(ref.value)) {
    const written = Array.isArray(ref.value) || ref.value instanceof Map || ref.value instanceof Set ? undefined : tracer.effects.hasWritten(ref.value, key);
    if (written !== undefined) return written;
    if (Array.isArray(ref.value)) throw tracer.break(`'in' on ${ref.source} after the frame changed it`);
  }
  // Guarded on its own: a key holding `undefined` and a missing key read alike, but 'in' tells them apart.
  const result = key in ref.value;
  const code = `(${tracer.guards.constant(key)} in ${ref.source}) === ${result}`;
  tracer.guard(code, `${JSON.stringify(String(key))} ${result ? 'is' : 'is not'} in ${ref.source}`, 'keys');
  return result;
}

/** A Proxy's traps would run while tracing and again in every guard: its contents are never read. */
export function refuseProxy(tracer: FrameTracer, ref: ExternalRef, what: string): void {
  if (types.isProxy(ref.value)) throw tracer.break(`${what} ${ref.source}, a Proxy (its traps may have effects)`, 'pass the target object, or read the values outside the compiled function');
}

/** The key list of an external object (guarded as a whole). */
export function readKeys(tracer: FrameTracer, ref: ExternalRef): string[] {
  refuseProxy(tracer, ref, 'listing the keys of');
  if (tracer.effects.has(ref.value)) throw tracer.break(`listing the keys of ${ref.source} after the frame changed it`);
  const keys = Object.keys(ref.value);
  tracer.guard(`JSON.stringify(Object.keys(${ref.source})) === ${tracer.guards.constant(JSON.stringify(keys))}`, `keys of ${ref.source} are ${JSON.stringify(keys)}`, 'keys');
  return keys;
}

/** The elements of an external array as trackers (length guarded), as the frame sees them. */
export function readElements(tracer: FrameTracer, ref: ExternalRef): Value[] {
  if (tracer.effects.has(ref.value)) return arrayContents(tracer, ref).map((slot) => slotValue(tracer, ref, slot));
  const length = tracer.guardArrayLength(ref);
  const arr = ref.value as unknown[];
  return Array.from({ length }, (_, i) => {
    // A hole reads as undefined but map / forEach / reduce skip it: it runs eagerly, and an undefined
    // element is guarded as present (a hole in the same place later must not reuse this entry).
    if (!(i in arr)) throw tracer.break(`element ${i} of ${ref.source} is a hole (a sparse array)`, 'fill the array');
    if (arr[i] === undefined) tracer.guard(`${i} in ${ref.source}`, `${ref.source} has an element ${i}`, 'keys');
    return readProperty(tracer, ref, i);
  });
}

function findDescriptor(obj: object, key: string | number): PropertyDescriptor | undefined {
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d;
  }
  return undefined;
}
