// Helpers for the compiler over `Size = number | SymInt`: hints, expressions, JS source and JSON.
import { toJs, type SymbolToJs } from './expr/js.js';
import { exprFromJson, exprToJson, type ExprJson } from './expr/json.js';
import { constant } from './expr/poly.js';
import { evaluate } from './expr/substitute.js';
import type { Expr } from './expr/types.js';
import type { ShapeEnv } from './shape-env.js';
import type { Size } from './size.js';
import { SymInt } from './sym.js';

function asSymInt(size: Size): SymInt {
  if (size instanceof SymInt) return size;
  throw new TypeError(`expected a number or a SymInt from @kiln/shapes, got ${String(size)}`);
}

export function isStaticSize(size: Size): size is number {
  return typeof size === 'number';
}

/** The example value of a size; undefined when it depends on an unbacked symbol and no `fallback` is given. */
export function symHint(size: Size, fallback?: number): number | undefined {
  return typeof size === 'number' ? size : asSymInt(size).env.hintOf(size, fallback);
}

/** The canonical expression of a size, with the env's replacements applied. */
export function sizeExpr(size: Size): Expr {
  if (typeof size === 'number') return constant(size);
  const s = asSymInt(size);
  return s.env.normalize(s.expr);
}

/** JavaScript source computing a size; symbols are written through `symbolToJs` (default: their names). */
export function sizeToJs(size: Size, symbolToJs?: SymbolToJs): string {
  return toJs(sizeExpr(size), symbolToJs);
}

export function sizeToString(size: Size): string {
  return typeof size === 'number' ? String(size) : sizeExpr(size).key;
}

export function sizeToJson(size: Size): ExprJson {
  return exprToJson(sizeExpr(size));
}

/** Rebuilds a size in `env` (whose symbols must already exist, e.g. from the graph's symbol table). */
export function sizeFromJson(json: ExprJson, env: ShapeEnv): Size {
  const e = exprFromJson(json);
  return env.intResult(e, evaluate(e, (s) => env.symbolInfo(s)?.hint));
}

/** Specializes a size to its hint, recording the guard that keeps it so. */
export function guardSize(size: Size): number {
  return typeof size === 'number' ? size : asSymInt(size).guardInt();
}
