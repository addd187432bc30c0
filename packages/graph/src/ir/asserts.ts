// Runtime asserts that travel with a graph: the shape env's check() / checkIsSize() facts (and the implicit
// `size >= 0` of a data-dependent size used as a size) over symbols that only exist while the graph runs —
// unbacked sizes from nonzero() or item(). Asserts over input sizes alone run in the compiled entry before
// the graph; these cannot, so every backend executes them right after the node that binds their last
// symbol (the interpreter after that node, the lowered program as a `check` step after that fallback).
// The condition is data (shapes' BoolJson), never source text, so a user's message is never code.
import { CheckFailedError, expr as shapesExpr } from '@kiln/shapes';
import type { BoolExpr, BoolJson, ProducedAssert } from '@kiln/shapes';
import { parseLocation, withUserFrame } from './user-frame.js';

export interface GraphAssert {
  /** The condition as printed (`u0 > 1`). */
  readonly expr: string;
  /** The user's source location of the check() (`model.ts:12`). */
  readonly source?: string;
  /** The condition as data; absent on asserts that are only printed (older serialized graphs). */
  readonly cond?: BoolJson;
  /** Its free symbols, sorted: the assert runs once all of them are bound. */
  readonly symbols?: readonly string[];
  /** The user's message (check(cond, message)). */
  readonly message?: string;
}

const parsed = new WeakMap<GraphAssert, BoolExpr>();

/** True/false once every symbol has a value; undefined while one is unbound (or the assert has no condition). */
export function evaluateAssert(a: GraphAssert, value: (symbol: string) => number | undefined): boolean | undefined {
  if (a.cond === undefined) return undefined;
  let e = parsed.get(a);
  if (!e) parsed.set(a, (e = shapesExpr.boolFromJson(a.cond)));
  return shapesExpr.evaluateBool(e, value);
}

/** The error a failing graph assert raises: CheckFailedError, as eager check() does, with the user's message and line. */
export function assertFailure(a: GraphAssert): CheckFailedError {
  const error = new CheckFailedError(`${a.expr}${a.message ? `: ${a.message}` : ''}`, a.source, 'for these values (a runtime assert of the compiled code)');
  return withUserFrame(error, 'check', parseLocation(a.source));
}

/** Produced runtime asserts as graph asserts, each as recorded (see produceRuntimeAsserts). */
export function toGraphAsserts(produced: readonly ProducedAssert[]): GraphAssert[] {
  return produced.map((a) => ({
    expr: a.text,
    cond: shapesExpr.boolToJson(a.expr),
    symbols: [...a.symbols],
    ...(a.location ? { source: a.location } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
}
