// Language features whose answer depends on prototype chains that existed before the frame: `for…in`
// (which visits inherited enumerable keys) and `instanceof` (which runs Symbol.hasInstance). Each either
// guards what its answer relied on, or breaks with the reason.
import { describeHolder } from '../guards/builder.js';
import { NOT_DATA, inheritsNoEnumerableKeys, resolvedValue } from '../guards/reflect.js';
import type { FrameTracer } from './frame.js';
import { ExternalRef, TracedFunction, isTensorValue } from './values.js';
import type { Value } from './values.js';
import { readKeys, refuseProxy } from './external-reads.js';

/**
 * The keys `for…in` visits: own and inherited enumerable string keys (of strings' characters too). Keys
 * inherited from outside the frame (`Object.prototype.extra = 1`, a class's prototype) are not followed:
 * the frame breaks when there are some, and a guard sees one added later.
 */
export function forInKeys(tracer: FrameTracer, subject: Value): string[] {
  if (subject === null || subject === undefined) return [];
  if (subject instanceof ExternalRef) {
    const own = readKeys(tracer, subject);
    const proto = Object.getPrototypeOf(subject.value) as object | null;
    guardNoInheritedKeys(tracer, proto, `for…in over ${subject.source}`, `Object.getPrototypeOf(${subject.source})`);
    return own;
  }
  if (typeof subject === 'string') {
    guardNoInheritedKeys(tracer, String.prototype, 'for…in over a string');
    return Object.keys(subject);
  }
  if (typeof subject !== 'object' || isTensorValue(subject) || subject instanceof TracedFunction) throw tracer.break('for…in over a value that is not an object or string built in the frame');
  // Own keys and those of frame objects it inherits from (`{ __proto__: defaults }`) are the frame's.
  let outside: object | null = Object.getPrototypeOf(subject) as object | null;
  while (outside && tracer.frameProtos.has(outside)) outside = Object.getPrototypeOf(outside) as object | null;
  guardNoInheritedKeys(tracer, outside, 'for…in over an object built in the frame');
  const keys: string[] = [];
  for (const key in subject) keys.push(key);
  return keys;
}

/** Breaks when `proto`'s chain has enumerable keys now; guards that it has none on later calls. */
function guardNoInheritedKeys(tracer: FrameTracer, proto: object | null, what: string, protoSource = tracer.guards.constant(proto)): void {
  if (proto === null) return;
  const where = describeHolder(proto);
  if (!inheritsNoEnumerableKeys(proto)) throw tracer.break(`${what}, which inherits enumerable keys from ${where}`, 'iterate over Object.keys(obj), which lists own keys only');
  tracer.guard(`inheritsNoEnumerableKeys(${protoSource})`, `${where} and its prototypes have no enumerable keys (for…in)`, 'keys');
}

const DEFAULT_HAS_INSTANCE = Function.prototype[Symbol.hasInstance];

/**
 * `a instanceof C`. A custom `C[Symbol.hasInstance]` is user code: the frame breaks. Otherwise the answer
 * depends on `C.prototype` and the value's prototype chain, and both are guarded (a static hasInstance or a
 * prototype set after compiling is seen).
 */
export function instanceOf(tracer: FrameTracer, a: Value, b: Value): boolean {
  const ctor = b instanceof ExternalRef ? b.value : b;
  if (typeof ctor !== 'function') throw tracer.break("right-hand side of 'instanceof' is not callable");
  const ctorSource = b instanceof ExternalRef ? b.source : tracer.guards.constant(ctor);
  const hasInstance = resolvedValue(ctor, Symbol.hasInstance);
  if (hasInstance !== DEFAULT_HAS_INSTANCE) {
    const why = hasInstance === NOT_DATA ? 'a getter for Symbol.hasInstance' : 'a custom Symbol.hasInstance';
    throw tracer.break(`'instanceof ${ctor.name || 'anonymous'}': it has ${why} (user code the guards cannot check)`, 'compare a field or the prototype instead, or test outside the compiled function');
  }
  const hasInstanceKey = tracer.guards.constant(Symbol.hasInstance);
  tracer.guard(`resolvedValue(${ctorSource}, ${hasInstanceKey}) === ${tracer.guards.constant(DEFAULT_HAS_INSTANCE)}`, `${ctor.name || 'anonymous'} has the default Symbol.hasInstance`, 'identity');
  const proto = resolvedValue(ctor, 'prototype');
  if (proto === null || (typeof proto !== 'object' && typeof proto !== 'function')) throw tracer.break(`'instanceof ${ctor.name || 'anonymous'}': its prototype is not an object (eager code raises a TypeError)`);
  tracer.guard(`resolvedValue(${ctorSource}, "prototype") === ${tracer.guards.constant(proto)}`, `${ctor.name || 'anonymous'}.prototype is ${describeHolder(proto)}`, 'identity');
  if (a instanceof TracedFunction) return Function.prototype instanceof (ctor as new () => unknown) || ctor === Function;
  if (isTensorValue(a)) {
    const input = tracer.inputFakes.get(a);
    if (!input) return a instanceof (ctor as new () => unknown);
    // An input may be an instance of a Tensor subclass: its own chain answers, guarded.
    return guardedInstanceOf(tracer, input.real, input.source, ctor, ctorSource);
  }
  if (a instanceof ExternalRef) {
    refuseProxy(tracer, a, "'instanceof' on");
    return guardedInstanceOf(tracer, a.value, a.source, ctor, ctorSource);
  }
  return a instanceof (ctor as new () => unknown);
}

function guardedInstanceOf(tracer: FrameTracer, value: unknown, source: string, ctor: Function, ctorSource: string): boolean {
  const result = value instanceof (ctor as new () => unknown);
  tracer.guard(`(${source} instanceof ${ctorSource}) === ${result}`, `${source} ${result ? 'is' : 'is not'} an instance of ${ctor.name || 'anonymous'}`, 'type');
  return result;
}
