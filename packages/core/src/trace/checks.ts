// The tracer's handling of check() / checkIsSize(): a symbolic condition is recorded as a runtime assert of
// the shape env (executed by the compiled entry before its graph runs); a constant one is decided now.
import { CheckFailedError, isSymBool, isSymInt } from '@kiln/shapes';
import type { SymBool, SymInt } from '@kiln/shapes';
import { check, checkIsSize } from '../checks.js';
import type { FrameTracer } from './frame.js';
import type { Value } from './values.js';

export const isCheckFunction = (fn: Function): boolean => fn === check || fn === checkIsSize;

export function traceCheck(tracer: FrameTracer, fn: Function, args: readonly Value[]): Value {
  const [value, message] = args;
  try {
    if (fn === check) {
      if (isSymBool(value)) tracer.shapeEnv.check(value as SymBool, typeof message === 'string' ? message : undefined);
      else if (value !== true) throw tracer.break(value === false ? 'check() fails for these inputs' : 'check() takes a boolean or a size comparison');
      return undefined;
    }
    if (isSymInt(value)) tracer.shapeEnv.checkIsSize(value as SymInt);
    else if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0)) throw tracer.break('checkIsSize() fails for these inputs');
    return undefined;
  } catch (err) {
    // The example inputs violate the check: eager code raises it, so the frame runs eagerly and does.
    if (err instanceof CheckFailedError) throw tracer.break(`check fails for the example inputs: ${err.message}`);
    throw err;
  }
}

type AssertFunction = (L: readonly unknown[], T: unknown, C: readonly unknown[], M: readonly unknown[]) => number;

/** The entry fields that execute a frame's check() asserts (generated from symbol sources only). */
export function compiledAsserts(asserts: { readonly body: string; readonly texts: readonly string[] } | undefined): {
  checkAsserts: AssertFunction | undefined;
  assertTexts: readonly string[] | undefined;
} {
  if (!asserts) return { checkAsserts: undefined, assertTexts: undefined };
  const checkAsserts = new Function(`return function asserts(L, T, C, M) {\n${asserts.body}\n};`)() as AssertFunction;
  return { checkAsserts, assertTexts: asserts.texts };
}
