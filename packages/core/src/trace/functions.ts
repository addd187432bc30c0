// Source of external user functions: parsed from `fn.toString()` (cached per function object), with a
// locator that maps AST offsets back to the user's file and line through the script's source map.
import { parse } from 'acorn';
import type { SourceLocation } from '@kiln/graph';
import { functionInfo, originalLocation, sourceMapOf } from './closures.js';
import type { FunctionInfo } from './closures.js';
import type { AnyNode } from './values.js';

export type Locator = (offset: number) => SourceLocation;

export interface ParsedFunction {
  /** A FunctionExpression / ArrowFunctionExpression, or a ClassExpression for constructors. */
  readonly node: AnyNode;
  readonly locator: Locator;
  readonly info: FunctionInfo;
}

const cache = new WeakMap<Function, ParsedFunction | null>();

export const isNativeFunction = (fn: Function): boolean => /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));

function parseExpression(text: string, prefix: string, suffix: string): AnyNode | null {
  try {
    const program = parse(prefix + text + suffix, { ecmaVersion: 'latest', sourceType: 'module' }) as AnyNode;
    const expr = program.body[0]?.expression as AnyNode | undefined;
    return expr ?? null;
  } catch {
    return null;
  }
}

/** Shifts every node's offsets so they index into the function's own text. */
function shift(node: AnyNode, by: number): void {
  const stack: AnyNode[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    n.start -= by;
    n.end -= by;
    for (const key of Object.keys(n)) {
      const c = n[key];
      if (Array.isArray(c)) for (const x of c) x && typeof x.type === 'string' && stack.push(x);
      else if (c && typeof c === 'object' && typeof c.type === 'string') stack.push(c);
    }
  }
}

function asFunctionExpression(text: string): AnyNode | null {
  const asExpr = parseExpression(text, '(', ')');
  if (!asExpr || !/Function|Class/.test(asExpr.type)) return null;
  shift(asExpr, 1);
  return asExpr;
}

/** Method shorthand, getters and setters: `forward(x) { … }` is only valid inside an object literal. */
function asMethod(text: string): AnyNode | null {
  const asObject = parseExpression(text, '({', '})');
  const prop = asObject?.properties?.[0] as AnyNode | undefined;
  if (!prop?.value || !/Function/.test(prop.value.type)) return null;
  shift(prop.value, 2);
  return prop.value;
}

/** Text that starts like a function, class or arrow expression; anything else is most likely a method. */
const expressionStart = /^(?:async\s+)?(?:function\b|class\b|\(|[\w$]+\s*=>)/;

function parseFunctionText(text: string): AnyNode | null {
  // The likely form first: a failed parse throws a SyntaxError, and acorn runs cold in a fresh process.
  return expressionStart.test(text) ? (asFunctionExpression(text) ?? asMethod(text)) : (asMethod(text) ?? asFunctionExpression(text));
}

export function makeLocator(text: string, info: FunctionInfo): Locator {
  const memo = new Map<number, SourceLocation>();
  // One source-map lookup per function, not per node: the function's script, and so its map, never changes.
  let map: ReturnType<typeof sourceMapOf> | null = null;
  return (offset) => {
    let loc = memo.get(offset);
    if (!loc) {
      const before = text.slice(0, offset);
      const newlines = before.split('\n').length - 1;
      const line = info.line + newlines;
      const column = newlines === 0 ? info.column + offset : offset - before.lastIndexOf('\n') - 1;
      if (map === null) map = sourceMapOf(info.url);
      loc = originalLocation(info.url, line, column, map);
      memo.set(offset, loc);
    }
    return loc;
  };
}

/** The AST of a user function, or null when it is native, bound, or its text does not parse. */
export function parseFunction(fn: Function): ParsedFunction | null {
  if (cache.has(fn)) return cache.get(fn)!;
  let parsed: ParsedFunction | null = null;
  if (!isNativeFunction(fn)) {
    const info = functionInfo(fn);
    const text = Function.prototype.toString.call(fn);
    const node = info ? parseFunctionText(text) : null;
    if (node && info) parsed = { node, locator: makeLocator(text, info), info };
  }
  cache.set(fn, parsed);
  return parsed;
}

/**
 * Registers generated code (a resume function) whose text the tracer reads like user code: `locator` maps
 * its offsets back to the user's lines and `info` supplies the user's script (its captures are parameters).
 */
export function registerGenerated(fn: Function, locator: Locator, info: FunctionInfo): ParsedFunction {
  const node = parseFunctionText(Function.prototype.toString.call(fn));
  if (!node) throw new Error('generated function does not parse');
  const parsed: ParsedFunction = { node, locator, info };
  cache.set(fn, parsed);
  return parsed;
}
