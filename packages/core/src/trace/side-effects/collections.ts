// Mutations of outside arrays, Maps and Sets by their builtin methods and by index writes: recorded while
// tracing, replayed after the graph runs as the same builtin call on the live object (`fn.apply(obj, args)`).
// A method whose result depends on contents the tracer does not know is only replayed when the frame
// ignores its result (`map.delete(k)` as a statement); arrays keep a picture of their contents
// (array-shadow.ts) so `pop`, `shift` and `splice` return the elements that were there, with the length
// and each element the frame uses guarded.
import type { Ctx } from '../context.js';
import type { FrameTracer } from '../frame.js';
import { concrete } from '../sym-ops.js';
import type { ExternalRef, Value } from '../values.js';
import type { Slot } from './array-shadow.js';
import { check } from './record.js';

const ARRAY_METHODS: Readonly<Record<string, Function>> = {
  push: Array.prototype.push,
  unshift: Array.prototype.unshift,
  pop: Array.prototype.pop,
  shift: Array.prototype.shift,
  splice: Array.prototype.splice,
};
const MAP_METHODS: Readonly<Record<string, Function>> = { set: Map.prototype.set, delete: Map.prototype.delete, clear: Map.prototype.clear };
const SET_METHODS: Readonly<Record<string, Function>> = { add: Set.prototype.add, delete: Set.prototype.delete, clear: Set.prototype.clear };

function methodTable(obj: object): Readonly<Record<string, Function>> | undefined {
  if (Array.isArray(obj)) return ARRAY_METHODS;
  if (obj instanceof Map) return MAP_METHODS;
  if (obj instanceof Set) return SET_METHODS;
  return undefined;
}

/** Whether the call being traced uses its result (a statement expression or `void` does not). */
const resultUsed = (ctx: Ctx): boolean => !(ctx.tracer.callNode && ctx.tracer.discarded.has(ctx.tracer.callNode));

/** The frame's picture of `target`'s contents (guards its length the first time). */
export function arrayContents(tracer: FrameTracer, target: ExternalRef): Slot[] {
  const shadow = tracer.effects.shadow(target.value, true)!;
  if (!shadow.materialized) {
    const why = shadow.materialize(tracer.guardArrayLength(target));
    if (why) throw tracer.break(`reading ${target.source} after the frame wrote it: ${why}`, 'read it before the change, or outside the compiled function');
  }
  return shadow.contents;
}

export function slotValue(tracer: FrameTracer, target: ExternalRef, slot: Slot | undefined): Value {
  if (!slot) return undefined;
  return 'value' in slot ? slot.value : tracer.originalElement(target, slot.original);
}

/**
 * A read of `length` or an element of an outside array the frame changed: `{ value }` from the frame's
 * picture; undefined for any other key (a method lookup reads the live array as usual).
 */
export function readChangedArray(tracer: FrameTracer, target: ExternalRef, key: string | number): { value: Value } | undefined {
  if (key === 'length') return { value: arrayContents(tracer, target).length };
  if (typeof key !== 'number') return undefined;
  return { value: slotValue(tracer, target, arrayContents(tracer, target)[key]) };
}

/** `arr.push(…)`, `pop()`, `splice(…)`, `map.set(k, v)`, `set.delete(v)`, … on an outside collection; undefined if not one of these. */
export function recordMethod(ctx: Ctx, fn: Function, target: ExternalRef, args: Value[]): { value: Value } | undefined {
  const table = methodTable(target.value);
  const method = table && Object.keys(table).find((m) => table[m] === fn);
  if (!method) return undefined;
  const t = ctx.tracer;
  check(ctx, target, undefined, `'${method}' on ${target.source}`);
  const record = (recorded: readonly Value[]): void => t.effects.write({ kind: 'call', target, method, fn, args: recorded, location: t.location });
  if (!Array.isArray(target.value)) {
    if (method === 'delete' && resultUsed(ctx)) {
      throw t.break(`using the result of 'delete' on ${target.source} (it depends on contents the tracer does not read)`, 'call delete() as a statement, or outside the compiled function');
    }
    const recorded = method === 'set' ? [args[0], args[1]] : method === 'clear' ? [] : [args[0]];
    record(recorded);
    return { value: method === 'set' || method === 'add' ? target : undefined };
  }
  return { value: arrayMethod(ctx, method, target, args, record) };
}

function arrayMethod(ctx: Ctx, method: string, target: ExternalRef, args: Value[], record: (args: readonly Value[]) => void): Value {
  const t = ctx.tracer;
  switch (method) {
    case 'push':
    case 'unshift': {
      t.effects.shadow(target.value, true)![method](args);
      record([...args]);
      // The new length: only a frame that uses it depends on (and guards) the length.
      return resultUsed(ctx) ? arrayContents(t, target).length : undefined;
    }
    case 'pop':
    case 'shift': {
      const slot = arrayContents(t, target)[method]();
      record([]);
      return slotValue(t, target, slot);
    }
    case 'splice':
      return splice(ctx, target, args, record);
    default:
      throw new Error(`unhandled array method ${method}`);
  }
}

/** `splice(start, deleteCount, ...items)`: the numbers are specialized (guarded) so the replay removes the same range. */
function splice(ctx: Ctx, target: ExternalRef, args: Value[], record: (args: readonly Value[]) => void): Value {
  const t = ctx.tracer;
  const bounds = args.slice(0, 2).map((a) => concrete(t, a));
  if (bounds.some((b) => b !== undefined && typeof b !== 'number')) throw t.break(`'splice' on ${target.source} with a start or count that is not a number`);
  const items = args.slice(2);
  const contents = arrayContents(t, target);
  // Same argument count as the call: splice(1) and splice(1, undefined) differ.
  const removed = (contents.splice as (...a: unknown[]) => Slot[])(...bounds, ...items.map((value) => ({ value })));
  record([...bounds, ...items]);
  return removed.map((s) => slotValue(t, target, s));
}

/** `arr[i] = v` on an outside array (a canonical index only: `length` and named properties stay breaks). */
export function recordIndexWrite(ctx: Ctx, target: ExternalRef, key: string | number, value: Value, what: string): void {
  const t = ctx.tracer;
  if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= 2 ** 32 - 1) {
    throw t.break(`${what} (only element writes at an index are replayed on an outside array)`, 'use push()/splice(), or build a new array and return it');
  }
  check(ctx, target, key, what);
  const why = t.effects.shadow(target.value, true)!.setIndex(key, value);
  if (why) throw t.break(`${what}: ${why}`);
  t.effects.write({ kind: 'set', target, key, value, location: t.location });
}
