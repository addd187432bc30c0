// Running a function body symbolically: parameters, `this`, hoisting, and constructors of user classes.
import type { Ctx } from './context.js';
import { FrameSkipped } from './errors.js';
import { evalExpr } from './expressions.js';
import { parseFunction } from './functions.js';
import type { ParsedFunction } from './functions.js';
import { assignPattern } from './patterns.js';
import { execBody, execStatement, hoist } from './statements.js';
import { Scope, TracedFunction } from './values.js';
import { frameBoundUses } from './resume/names.js';
import type { AnyNode, Value } from './values.js';

/** Binds the parameters of `node` in `scope`. */
export function bindParams(ctx: Ctx, node: AnyNode, args: Value[], scope: Scope): void {
  node.params.forEach((p: AnyNode, i: number) => {
    if (p.type === 'RestElement') assignPattern(ctx, p.argument, args.slice(i), scope, 'param');
    else assignPattern(ctx, p, args[i], scope, 'param');
  });
  if (node.type !== 'ArrowFunctionExpression') scope.declare('arguments', 'const', [...args]);
}

function runBody(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  if (node.expression) return evalExpr(ctx, node.body, scope);
  const done = execBody(ctx, node.body.body, scope);
  return done?.type === 'return' ? done.value : undefined;
}

/** Calls a function defined in the frame, or inlines an external user function (`external` is its object). */
export function invokeFunction(ctx: Ctx, fn: TracedFunction | ParsedFunction, thisArg: Value, args: Value[], external?: Function): Value {
  const node = fn.node;
  if (node.async || node.generator) {
    throw ctx.tracer.break(`calling ${node.async ? 'an async function' : 'a generator'} '${external?.name ?? ''}' from traced code`);
  }
  const thisValue = fn instanceof TracedFunction && fn.lexicalThis ? fn.lexicalThis : { value: thisArg };
  const inner: Ctx = { tracer: ctx.tracer, thisValue, depth: ctx.depth + 1, homeClass: ctx.homeClass };
  if (fn instanceof TracedFunction) {
    const scope = new Scope(fn.scope);
    if (node.id && node.type === 'FunctionExpression') scope.declare(node.id.name, 'const', fn);
    bindParams(inner, node, args, scope);
    return runBody(inner, node, scope);
  }
  if (lexicalThisOf(fn)) {
    // Its `this` is the one of the code that created it (`act = (x) => x.mul(this.scale)` in a class), which
    // [[Scopes]] does not show; the receiver of this call (`cfg.fn(x)`) is another object.
    throw ctx.tracer.break(`arrow function '${external?.name ?? ''}' defined outside the frame uses 'this' (its lexical this is not visible to the tracer)`, 'make it a method, or read the field into a local before the arrow');
  }
  return ctx.tracer.withLocator(fn.locator, () => {
    const scope = new Scope(ctx.tracer.externalScope(fn, external!));
    bindParams(inner, node, args, scope);
    return runBody(inner, node, scope);
  });
}

/** How the root call ended: its return value, or the frame scope when it stopped before statement `stopAt`. */
export type RootResult = { readonly kind: 'returned'; readonly value: Value } | { readonly kind: 'stopped'; readonly scope: Scope };

/**
 * The frame's own call: like invokeFunction, but it runs the body one top-level statement at a time and
 * records which one is being traced (`tracer.topStatement`), so a break can split the frame there.
 * With `stopAt`, tracing stops before that statement and hands back the frame scope (the live locals).
 */
export function invokeRoot(ctx: Ctx, fn: ParsedFunction, thisArg: Value, args: Value[], external: Function, stopAt?: number): RootResult {
  const node = fn.node;
  const inner: Ctx = { tracer: ctx.tracer, thisValue: { value: thisArg }, depth: ctx.depth + 1 };
  return ctx.tracer.withLocator(fn.locator, () => {
    const scope = new Scope(ctx.tracer.externalScope(fn, external));
    bindParams(inner, node, args, scope);
    if (node.expression) {
      // A concise body is one `return` statement (splitFrame reads it as `{ return <body>; }`): statement 0.
      ctx.tracer.topStatement = 0;
      if (stopAt === 0) return { kind: 'stopped', scope };
      const value = evalExpr(inner, node.body, scope);
      ctx.tracer.topStatement = undefined;
      return { kind: 'returned', value };
    }
    const body = node.body.body as AnyNode[];
    hoist(inner, body, scope);
    for (let i = 0; i < body.length; i++) {
      ctx.tracer.topStatement = i;
      if (i === stopAt) return { kind: 'stopped', scope };
      const done = execStatement(inner, body[i]!, scope);
      if (done?.type === 'return') {
        ctx.tracer.topStatement = undefined;
        return { kind: 'returned', value: done.value };
      }
    }
    ctx.tracer.topStatement = undefined;
    return { kind: 'returned', value: undefined };
  });
}

/** An external arrow function that uses its lexical `this` or `arguments` (both invisible to the tracer). */
function lexicalThisOf(fn: ParsedFunction): string | undefined {
  if (fn.node.type !== 'ArrowFunctionExpression') return undefined;
  if (!lexicalMemo.has(fn.node)) {
    const uses = frameBoundUses(fn.node);
    lexicalMemo.set(fn.node, uses.this ? "'this'" : uses.other);
  }
  return lexicalMemo.get(fn.node);
}
const lexicalMemo = new WeakMap<object, string | undefined>();

/** The root call of a frame: async functions and generators are skipped as a whole. */
export function checkTraceable(parsed: ParsedFunction, name: string): void {
  const node = parsed.node;
  const lexical = lexicalThisOf(parsed);
  if (lexical) {
    // The compiled function's receiver is not the arrow's `this`; generated eager statements would not see it either.
    throw new FrameSkipped(`'${name}' is an arrow function that uses ${lexical} of the code that created it`, parsed.locator(node.start));
  }
  if (node.async || node.generator) {
    throw new FrameSkipped(`'${name}' is ${node.async ? 'an async function' : 'a generator'}: the tracer runs synchronous code only`, parsed.locator(node.start));
  }
  if (node.type === 'ClassExpression') throw new FrameSkipped(`'${name}' is a class`, parsed.locator(node.start));
}

function initFields(ctx: Ctx, parsed: ParsedFunction, cls: Function, obj: object): void {
  const scope = new Scope(ctx.tracer.externalScope(parsed, cls));
  const inner: Ctx = { tracer: ctx.tracer, thisValue: { value: obj }, depth: ctx.depth + 1, homeClass: cls };
  for (const member of parsed.node.body.body as AnyNode[]) {
    if (member.type !== 'PropertyDefinition' || member.static) continue;
    if (member.computed || member.key.type !== 'Identifier') throw ctx.tracer.break('computed or private class field');
    (obj as Record<string, Value>)[member.key.name] = member.value ? evalExpr(inner, member.value, scope) : undefined;
  }
}

/**
 * `new cls(...args)` on `obj` (already created with the class's prototype): runs field initializers and the
 * constructor body symbolically; `super(...)` constructs the parent on the same object.
 */
export function construct(ctx: Ctx, cls: Function, args: Value[], obj: object): Value {
  const parsed = parseFunction(cls);
  if (!parsed) throw ctx.tracer.break(`cannot read the source of class '${cls.name}'`);
  const node = parsed.node;
  return ctx.tracer.withLocator(parsed.locator, () => {
    if (node.type !== 'ClassExpression') {
      const result = invokeFunction(ctx, parsed, obj, args, cls);
      return result && typeof result === 'object' ? result : obj;
    }
    const parent = node.superClass ? Object.getPrototypeOf(cls) : null;
    const ctor = (node.body.body as AnyNode[]).find((m) => m.type === 'MethodDefinition' && m.kind === 'constructor');
    if (!ctor) {
      if (parent) construct(ctx, parent, args, obj);
      initFields(ctx, parsed, cls, obj);
      return obj;
    }
    if (!parent) initFields(ctx, parsed, cls, obj);
    const onSuper = parent ? () => initFields(ctx, parsed, cls, obj) : undefined;
    const inner: Ctx = { tracer: ctx.tracer, thisValue: { value: obj }, depth: ctx.depth + 1, homeClass: cls, onSuper };
    const scope = new Scope(ctx.tracer.externalScope(parsed, cls));
    bindParams(inner, ctor.value, args, scope);
    const done = execBody(inner, ctor.value.body.body, scope);
    const result = done?.type === 'return' ? done.value : undefined;
    return result && typeof result === 'object' ? result : obj;
  });
}
