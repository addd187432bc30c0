// Generated JavaScript for a split frame: the statement that broke, run eagerly with the live locals as
// parameters, and the resume function (the statements after it) that is compiled as a frame of its own.
// Parameter and function names are validated identifiers; the only other text is the user's own source and
// JSON string literals (redirected method calls, see method-calls.ts).
import type { FunctionInfo } from '../closures.js';
import type { Locator, ParsedFunction } from '../functions.js';
import { registerGenerated } from '../functions.js';
import type { AnyNode } from '../values.js';
import { isPlainIdentifier } from './names.js';
import { CALLEE_PARAM, METHOD_PARAM, redirectMethodCalls } from './method-calls.js';

/** Marks the normal end of an eager statement (as opposed to a `return` inside it). */
export const DONE_PARAM = '__kiln_done';
/** Generated code binds these names (its marker parameter, its own name); user code must not use them. */
export const isGeneratedName = (name: string): boolean =>
  name === DONE_PARAM || name === METHOD_PARAM || name === CALLEE_PARAM || /^kiln_(eager_statement|skipped_copy|skipped_factory)$/.test(name) || /_resume_\d+(_then|_else)?$/.test(name);

/** Generated text plus a map from its offsets back to offsets in the user function's text. */
class MappedText {
  text = '';
  private readonly segments: { at: number; length: number; origin: number }[] = [];

  add(piece: string, origin?: number): this {
    if (origin !== undefined) this.segments.push({ at: this.text.length, length: piece.length, origin });
    this.text += piece;
    return this;
  }

  /** User text `[node.start, node.end)` from the original function text. */
  addNode(source: string, node: AnyNode): this {
    return this.add(source.slice(node.start, node.end), node.start).add('\n');
  }

  locator(original: Locator): Locator {
    const first = this.segments[0]?.origin ?? 0;
    return (offset) => {
      const s = this.segments.find((x) => offset >= x.at && offset < x.at + x.length);
      return original(s ? s.origin + (offset - s.at) : first);
    };
  }
}

function checkNames(names: readonly string[]): void {
  for (const n of names) if (!isPlainIdentifier(n)) throw new Error(`not a plain identifier: ${JSON.stringify(n)}`);
}

export interface StatementCode {
  /** The user function's full text (node offsets index into it). */
  readonly source: string;
  /** Function declarations of the frame body, copied in (hoisted, they close over the same locals). */
  readonly declarations: readonly AnyNode[];
  readonly strict: boolean;
}

/**
 * `function (__kiln_done, __kiln_method, ...params) { <statement>; return [__kiln_done, ...returns]; }`: a
 * `return` inside the statement returns its own value instead of the marker array. For an `if` test
 * (`test: true`): `return [__kiln_done, <test>, ...returns]` (the test is evaluated before the returned
 * locals are read). Method calls in the statement go through `__kiln_method` (see method-calls.ts).
 */
export function eagerStatement(code: StatementCode, node: AnyNode, params: readonly string[], returns: readonly string[], test = false): { fn: Function; text: string } {
  checkNames([...params, ...returns]);
  const out = new MappedText().add(`return function kiln_eager_statement(${[DONE_PARAM, METHOD_PARAM, ...params].join(', ')}) {\n`);
  const text = redirectMethodCalls(code.source, node).text;
  if (code.strict) out.add("'use strict';\n");
  for (const d of code.declarations) out.addNode(code.source, d);
  if (test) {
    out.add(`return [${DONE_PARAM}, (`).add(text, node.start).add(`)${returns.map((r) => `, ${r}`).join('')}];\n};`);
    return { fn: new Function(out.text)() as Function, text: out.text };
  }
  // a concise arrow's body (splitFrame reads it as one `return` statement spanning the expression)
  if (node.conciseBody === true) out.add('return (').add(text, node.start).add(');\n');
  else out.add(text, node.start).add('\n');
  out.add(`return [${[DONE_PARAM, ...returns].join(', ')}];\n};`);
  return { fn: new Function(out.text)() as Function, text: out.text };
}

/** The resume function: the statements after the break, with the live locals and captures as parameters. */
export function resumeFunction(
  code: StatementCode,
  name: string,
  statements: readonly AnyNode[],
  params: readonly string[],
  original: ParsedFunction,
): { fn: Function; text: string; parsed: ParsedFunction } {
  checkNames([name, ...params]);
  const out = new MappedText().add(`function ${name}(${params.join(', ')}) {\n`);
  if (code.strict) out.add("'use strict';\n");
  for (const d of code.declarations) out.addNode(code.source, d);
  for (const s of statements) out.addNode(code.source, s);
  out.add('}');
  const fn = new Function(`return ${out.text}`)() as Function;
  // The user's script, read through the original's getters: its URL costs a fresh process the Debugger
  // domain, which a resume loaded from the persistent cache never needs.
  const from = original.info;
  const info: FunctionInfo = {
    get url() {
      return from.url;
    },
    scriptId: from.scriptId,
    line: from.line,
    column: from.column,
    captures: new Map(),
    get isLibrary() {
      return from.isLibrary;
    },
  };
  const parsed = registerGenerated(fn, out.locator(original.locator), info);
  resumeOrigins.set(fn, info);
  return { fn, text: out.text, parsed };
}

/** Resume functions → the script and position of the function they were generated from. */
const resumeOrigins = new WeakMap<Function, FunctionInfo>();

/**
 * Where a resume function's source came from (the user's function: script, line and column), or undefined
 * for any other function. A resume has no closure (its captures are parameters): its text and this origin
 * are all that make it what it is, which lets the persistent cache recognize it in another process.
 */
export const resumeOrigin = (fn: Function): FunctionInfo | undefined => resumeOrigins.get(fn);

/** A sloppy-mode function has own `caller`/`arguments` properties; module and class code is strict. */
export function isStrictFunction(fn: Function, node: AnyNode): boolean {
  // Arrows carry no such property: assume module code (what TypeScript and bundlers emit).
  if (node.type === 'ArrowFunctionExpression') return true;
  return !Object.prototype.hasOwnProperty.call(fn, 'caller');
}
