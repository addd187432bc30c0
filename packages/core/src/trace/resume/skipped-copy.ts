// A user function the policy skips still runs eagerly, but the user functions *it* calls should be compiled,
// the way PEP 523 lets Dynamo see every frame. Node has no frame-evaluation hook, so the function is run as
// a generated copy of itself: the same source text, its captured bindings passed in as parameters (read
// through node:inspector, trace/closures.ts), and every call by name or as a method redirected through the
// helpers of method-calls.ts. The copy is used only for the one call: the original stays in every variable.
// Whatever a copy could not reproduce exactly is a reason to run the original instead.
import { formatLocation } from '../errors.js';
import { isNativeFunction, parseFunction } from '../functions.js';
import type { ParsedFunction } from '../functions.js';
import { readBinding } from '../closures.js';
import type { AnyNode } from '../values.js';
import { isStrictFunction } from './codegen.js';
import { children, isPlainIdentifier, patternNames, referencedNames, writtenNames } from './names.js';
import { CALLEE_PARAM, METHOD_PARAM, redirectMethodCalls } from './method-calls.js';

/** The name generated code gives a copy (it binds it, so user code must not use it; see isGeneratedName). */
export const COPY_NAME = 'kiln_skipped_copy';

interface CopyPlan {
  readonly factory: Function;
  /** Values for the factory's parameters after the two helpers: captured bindings, and the function's own name. */
  readonly values: readonly unknown[];
  /** `//# sourceURL` of the generated script: stack frames in the copy name it. */
  readonly url: string;
  /** The generated function body, and the user-text offset behind a position in it (for stack traces). */
  readonly body: string;
  readonly origin: (bodyOffset: number) => number;
  readonly parsed: ParsedFunction;
}

export type SkippedCopy = { readonly run: Function } | { readonly why: string };

const plans = new WeakMap<Function, CopyPlan | { readonly why: string }>();
let nextCopyId = 0;
/** How many copies were generated (each parses and evaluates code once per function; tests read this). */
export const copyStats = { generated: 0 };

/**
 * A function that runs `fn`'s body with its calls redirected (`method` and `callee` are the helpers of
 * method-calls.ts), or why the original must run. The code is generated once per function; each call of this
 * makes a fresh instance bound to the given helpers.
 */
export function skippedCopy(fn: Function, method: Function, callee: Function): SkippedCopy {
  let plan = plans.get(fn);
  if (!plan) plans.set(fn, (plan = planCopy(fn)));
  if ('why' in plan) return plan;
  const copy = plan.factory(method, callee, ...plan.values) as Function;
  const p = plan;
  const name = fn.name || 'anonymous';
  return {
    run: function (this: unknown, ...args: unknown[]): unknown {
      try {
        return copy.apply(this, args);
      } catch (err) {
        throw withUserLines(err, p, name);
      }
    },
  };
}

function planCopy(fn: Function): CopyPlan | { why: string } {
  if (isNativeFunction(fn)) return { why: 'it is native code' };
  const parsed = parseFunction(fn);
  if (!parsed) return { why: 'its source cannot be read' };
  const node = parsed.node;
  if (node.type === 'ClassExpression') return { why: 'it is a class' };
  if (node.async || node.generator) return { why: `it is ${node.async ? 'an async function' : 'a generator'}` };
  const blocked = syntaxBlocker(node);
  if (blocked) return { why: blocked };
  const bindings = freeBindings(fn, parsed);
  if ('why' in bindings) return bindings;
  const source = Function.prototype.toString.call(fn);
  const url = `kiln-skipped-${nextCopyId++}`;
  const params = [METHOD_PARAM, CALLEE_PARAM, ...bindings.names];
  const copy = copyText(source, node);
  const head = `${isStrictFunction(fn, node) ? "'use strict';" : ''}\nreturn function kiln_skipped_factory(${params.join(', ')}) {\nreturn ${copy.header}`;
  const body = `${head}${copy.text};\n};\n//# sourceURL=${url}`;
  let factory: Function;
  try {
    factory = new Function(body)() as Function;
  } catch (err) {
    // Text valid only where it was written (sloppy-mode oddities, say): never guess, run the original.
    return { why: `its copy does not compile (${err instanceof Error ? err.message : String(err)})` };
  }
  copyStats.generated++;
  const origin = (offset: number): number => (offset < head.length ? node.start : copy.origin(offset - head.length + copy.cut));
  return { factory, values: bindings.values, url, body, origin, parsed };
}

/**
 * The function's text as an expression named COPY_NAME (an arrow stays an arrow), its calls redirected:
 * `header` + `text`, where `text` is the redirected text from offset `cut` on.
 */
function copyText(source: string, node: AnyNode): { header: string; text: string; cut: number; origin: (offset: number) => number } {
  const r = redirectMethodCalls(source, node, true);
  // Nothing before the parameters is rewritten, so the header can be cut at original offsets.
  const cut = node.type === 'ArrowFunctionExpression' ? 0 : node.id ? node.id.end - node.start : /^function\b/.test(r.text) ? 'function'.length : 0;
  const header = node.type === 'ArrowFunctionExpression' ? '' : `function ${COPY_NAME}`; // a method starts at its parameters
  return { header, text: `${r.text.slice(cut)}\n`, cut, origin: r.origin };
}

const NESTED = new Set(['FunctionExpression', 'FunctionDeclaration', 'ArrowFunctionExpression', 'ClassExpression', 'ClassDeclaration']);

/** Syntax whose meaning depends on where the code is defined, which a copy would change. */
function syntaxBlocker(node: AnyNode): string | undefined {
  const arrow = node.type === 'ArrowFunctionExpression';
  const refs = referencedNames(node);
  if (refs.has('eval')) return "it uses 'eval' (direct eval sees the function's scope)";
  if (arrow && refs.has('arguments')) return "it is an arrow function that uses 'arguments'";
  if ([...refs].some((n) => n === COPY_NAME || n === METHOD_PARAM || n === CALLEE_PARAM || n === 'kiln_skipped_factory')) return 'it uses a name generated code binds';
  let why: string | undefined;
  const visit = (n: AnyNode): void => {
    if (why) return;
    // Closures it creates would come from generated code: another location, and no longer user code to Kiln.
    if (NESTED.has(n.type)) why = 'it defines a nested function or class (the copy would create it from generated code)';
    else if (n.type === 'Super') why = "it uses 'super'";
    else if (n.type === 'MetaProperty') why = `it uses ${n.meta.name}.${n.property.name}`;
    else if (n.type === 'ImportExpression') why = 'it uses import()';
    else if (n.type === 'WithStatement') why = "it uses 'with'";
    else if (arrow && n.type === 'ThisExpression') why = "it is an arrow function that uses 'this'";
    else if (n.type === 'MemberExpression' && n.object.type === 'Identifier' && n.object.name === 'arguments' && !n.computed && n.property.name === 'callee') why = "it uses 'arguments.callee'";
    else children(n, visit);
  };
  for (const p of node.params) visit(p);
  visit(node.body);
  return why;
}

/**
 * Names bound inside the function for every reference in it: parameters, `var`s (function-scoped), and the
 * body's top-level `let`/`const`. A name declared only in a nested block may still refer to the outer binding
 * elsewhere in the function, so it does not count (the checks below stay conservative).
 */
function localNames(node: AnyNode): Set<string> {
  const out = new Set<string>();
  for (const p of node.params) patternNames(p, out);
  const visit = (n: AnyNode): void => {
    if (n.type === 'VariableDeclaration' && n.kind === 'var') for (const d of n.declarations) patternNames(d.id, out);
    children(n, visit);
  };
  visit(node.body);
  if (node.body.type === 'BlockStatement') {
    for (const s of node.body.body as AnyNode[]) if (s.type === 'VariableDeclaration') for (const d of s.declarations) patternNames(d.id, out);
  }
  return out;
}

/**
 * The captured bindings the copy needs, as parameter names and values. A copy cannot write the original's
 * closure variables, and its values are read once: a binding the function assigns, or one the script may
 * reassign (a callee could change it mid-call), keeps the original.
 */
function freeBindings(fn: Function, parsed: ParsedFunction): { names: string[]; values: unknown[] } | { why: string } {
  const node = parsed.node;
  const locals = localNames(node);
  const captures = parsed.info.captures;
  const ownName: string | undefined = node.id?.name;
  for (const n of writtenNames(node)) {
    if (locals.has(n)) continue;
    if (captures.has(n) || n === ownName) return { why: `it assigns captured binding '${n}' (a copy cannot write the original's closure variables)` };
  }
  const names: string[] = [];
  const values: unknown[] = [];
  for (const n of referencedNames(node)) {
    if (locals.has(n)) continue;
    const c = captures.get(n);
    if (n === ownName) {
      // `function helper() { … helper() … }`: the name is the function itself (a named expression) or the
      // outer binding holding it (a declaration); either way a self-call must reach the original.
      if (c && (c.mutable || c.value !== fn)) return { why: `its own name '${n}' may refer to another function` };
    } else if (!c) continue; // a global: the copy reads it from the same global scope
    else if (c.mutable) return { why: `it reads captured binding '${n}', which may be reassigned` };
    if (!isPlainIdentifier(n)) return { why: `the name '${n}' cannot be a parameter of generated code` };
    // A binding still in its temporal dead zone when first inspected reads as undefined: read it again.
    const value = n === ownName ? fn : c!.value === undefined ? readBinding(fn, c!.scopeIndex, n) : c!.value;
    if (value === undefined && n !== ownName) return { why: `captured binding '${n}' is undefined (it may not be initialized yet)` };
    names.push(n);
    values.push(value);
  }
  return { names, values };
}

/**
 * Stack frames inside the copy name the generated script: point them at the user's file and line instead,
 * so the error reads as eager code's would. The error itself (class, message, identity) is unchanged.
 */
function withUserLines(err: unknown, plan: CopyPlan, name: string): unknown {
  if (!(err instanceof Error) || typeof err.stack !== 'string' || !err.stack.includes(`${plan.url}:`)) return err;
  const lineStarts = [0];
  for (let i = 0; i < plan.body.length; i++) if (plan.body[i] === '\n') lineStarts.push(i + 1);
  const pattern = new RegExp(`(?:${COPY_NAME} )?\\(?${plan.url.replace(/-/g, '\\-')}:(\\d+):(\\d+)\\)?`, 'g');
  const stack = err.stack.replace(pattern, (_m, line: string, column: string) => {
    // A `new Function` body's line 1 is line 3 of its script (`function anonymous(\n) {\n` comes first).
    const start = lineStarts[Math.min(Math.max(Number(line) - 3, 0), lineStarts.length - 1)]!;
    const at = plan.origin(start + Number(column) - 1);
    return `${name} (${formatLocation(plan.parsed.locator(at))}) (kiln: skipped, run with its callees compiled)`;
  });
  try {
    err.stack = stack;
  } catch {
    /* a frozen error keeps its stack */
  }
  return err;
}
