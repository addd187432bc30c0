// Automatic dynamic for numbers (Dynamo's unspecialized ints): a number read from a source whose value guard
// failed at a recompile (`obj.count` of a step counter) is traced as a *runtime number* instead of a constant:
// guarded by type only, and carried as an expression over values read when the entry runs. Graphs take
// tensors only, so a runtime number never enters the graph: it can be stored (`obj.count = n + 1`, replayed),
// returned, kept live across a graph break, or combined with `+ - * / % **` and unary minus into another
// runtime number (computed by the output templates with the same JS operators eager code uses, so results
// are bit-identical); unary plus and `Number(n)` give it back unchanged. Anything else that needs its value — a comparison, a branch, a tensor op argument, a
// key, a string — specializes it: each source it was read from gets its equality guard back and the trace
// continues with the value, which is always correct and at worst recompiles as before.
import type { Value } from './values.js';

export type NumberExpr =
  | { readonly kind: 'source'; readonly source: string }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'op'; readonly op: ArithOp; readonly args: readonly NumberExpr[] };

export const ARITH_OPS = ['+', '-', '*', '/', '%', '**', 'neg'] as const;
export type ArithOp = (typeof ARITH_OPS)[number];

export class RuntimeNumber {
  constructor(
    readonly expr: NumberExpr,
    /** The value while tracing (what the expression computes for the traced inputs). */
    readonly hint: number,
  ) {}
}

export const isRuntimeNumber = (v: Value): v is RuntimeNumber => v instanceof RuntimeNumber;

const ARITH: Readonly<Record<ArithOp, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '**': (a, b) => a ** b,
  neg: (a) => -a,
};

/** Applies an arithmetic op as eager JS does (shared by the tracer, the output templates and sym-ops). */
export const applyArith = (op: ArithOp, a: number, b: number): number => ARITH[op](a, b);

export const isBinaryArith = (op: string): op is Exclude<ArithOp, 'neg'> => op !== 'neg' && Object.hasOwn(ARITH, op);

const exprOf = (v: RuntimeNumber | number): NumberExpr => (typeof v === 'number' ? { kind: 'const', value: v } : v.expr);
const hintOf = (v: RuntimeNumber | number): number => (typeof v === 'number' ? v : v.hint);

/** `a op b` where at least one side is a runtime number and both are numbers; undefined for other operators. */
export function runtimeArith(op: string, a: RuntimeNumber | number, b: RuntimeNumber | number): RuntimeNumber | undefined {
  if (!isBinaryArith(op)) return undefined;
  return new RuntimeNumber({ kind: 'op', op, args: [exprOf(a), exprOf(b)] }, applyArith(op, hintOf(a), hintOf(b)));
}

export const runtimeNeg = (v: RuntimeNumber): RuntimeNumber => new RuntimeNumber({ kind: 'op', op: 'neg', args: [v.expr] }, -v.hint);

/** The sources an expression reads (specializing guards each of them). */
export function exprSources(e: NumberExpr, out: string[] = []): string[] {
  if (e.kind === 'source') out.push(e.source);
  else if (e.kind === 'op') for (const a of e.args) exprSources(a, out);
  return out;
}
