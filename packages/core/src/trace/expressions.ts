// Expressions of the traced code, evaluated over tracked values.
import { concrete, binary, truthy, unary } from './sym-ops.js';
import type { Ctx } from './context.js';
import { callExpression, newExpression, getMember, setMember, spreadItems } from './calls.js';
import { assignPattern } from './patterns.js';
import { ExternalRef, TracedFunction, isSymbolic, isTensorValue, typeOfValue } from './values.js';
import { isRuntimeNumber } from './runtime-number.js';
import type { AnyNode, Scope, Value } from './values.js';
import { recordDelete } from './side-effects/record.js';
import { readKeys, readProperty } from './external-reads.js';

export function evalExpr(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  switch (node.type) {
    case 'Literal':
      if (node.regex) throw ctx.tracer.break('regular expression literal');
      return node.value;
    case 'Identifier':
      return readName(ctx, node.name, scope);
    case 'ThisExpression':
      return ctx.thisValue.value;
    case 'TemplateLiteral': {
      let out = node.quasis[0].value.cooked as string;
      node.expressions.forEach((e: AnyNode, i: number) => {
        out += String(toPrimitive(ctx, evalExpr(ctx, e, scope))) + node.quasis[i + 1].value.cooked;
      });
      return out;
    }
    case 'ArrayExpression': {
      const out: Value[] = [];
      for (const el of node.elements) {
        if (el === null) out.push(undefined);
        else if (el.type === 'SpreadElement') out.push(...spreadItems(ctx, evalExpr(ctx, el.argument, scope)));
        else out.push(evalExpr(ctx, el, scope));
      }
      return out;
    }
    case 'ObjectExpression':
      return objectExpression(ctx, node, scope);
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return makeFunction(ctx, node, scope);
    case 'UnaryExpression':
      return unaryExpression(ctx, node, scope);
    case 'BinaryExpression':
      return binary(ctx.tracer, node.operator, evalExpr(ctx, node.left, scope), evalExpr(ctx, node.right, scope));
    case 'LogicalExpression': {
      const left = evalExpr(ctx, node.left, scope);
      if (node.operator === '&&') return truthy(ctx.tracer, left) ? evalExpr(ctx, node.right, scope) : left;
      if (node.operator === '||') return truthy(ctx.tracer, left) ? left : evalExpr(ctx, node.right, scope);
      return left === null || left === undefined ? evalExpr(ctx, node.right, scope) : left;
    }
    case 'ConditionalExpression':
      return truthy(ctx.tracer, evalExpr(ctx, node.test, scope)) ? evalExpr(ctx, node.consequent, scope) : evalExpr(ctx, node.alternate, scope);
    case 'AssignmentExpression':
      return assignment(ctx, node, scope);
    case 'UpdateExpression': {
      const ref = reference(ctx, node.argument, scope);
      const old = ref.get();
      const next = binary(ctx.tracer, node.operator === '++' ? '+' : '-', old, 1);
      ref.set(next);
      return node.prefix ? next : binary(ctx.tracer, '+', old, 0);
    }
    case 'SequenceExpression': {
      let last: Value;
      node.expressions.forEach((e: AnyNode, i: number) => i < node.expressions.length - 1 && ctx.tracer.discarded.add(e));
      for (const e of node.expressions) last = evalExpr(ctx, e, scope);
      return last;
    }
    case 'MemberExpression':
      return memberExpression(ctx, node, scope).value;
    case 'ChainExpression':
      return chain(ctx, node.expression, scope).value;
    case 'CallExpression':
      return callExpression(ctx, node, scope);
    case 'NewExpression':
      return newExpression(ctx, node, scope);
    case 'ParenthesizedExpression':
      return evalExpr(ctx, node.expression, scope);
    case 'AwaitExpression':
    case 'YieldExpression':
      throw ctx.tracer.break(`'${node.type === 'AwaitExpression' ? 'await' : 'yield'}' in traced code`);
    case 'ClassExpression':
      throw ctx.tracer.break('a class defined inside the compiled function', 'define the class outside the compiled function');
    default:
      throw ctx.tracer.break(`unsupported syntax: ${node.type}`);
  }
}

export function readName(ctx: Ctx, name: string, scope: Scope): Value {
  const b = scope.lookup(name);
  if (!b) throw ctx.tracer.break(`cannot resolve '${name}'`, 'the tracer resolves locals, captured bindings, imports and standard builtins');
  if (!b.initialized) throw ctx.tracer.break(`'${name}' is read before its declaration`);
  return b.value;
}

/** A JS primitive for string conversion: symbolic sizes are specialized, objects are refused. */
export function toPrimitive(ctx: Ctx, v: Value): Value {
  const c = concrete(ctx.tracer, v);
  if (c !== null && (typeof c === 'object' || typeof c === 'function')) {
    if (Array.isArray(c)) return c.map((x) => toPrimitive(ctx, x)).join(',');
    throw ctx.tracer.break('converting an object or tensor to a string');
  }
  // A template or computed key converts with ToString / ToPropertyKey: a Symbol throws in the first and is
  // its own key in the second, never the text `Symbol(…)`.
  if (typeof c === 'symbol') throw ctx.tracer.break('converting a Symbol to a string or property key');
  return c;
}

export function makeFunction(ctx: Ctx, node: AnyNode, scope: Scope): TracedFunction {
  if (node.async || node.generator) throw ctx.tracer.break('async function or generator defined in traced code');
  const lexicalThis = node.type === 'ArrowFunctionExpression' ? ctx.thisValue : undefined;
  return new TracedFunction(node, scope, node.id?.name ?? '', lexicalThis);
}

function objectExpression(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  const out: Record<string, Value> = {};
  for (const prop of node.properties) {
    if (prop.type === 'SpreadElement') {
      const src = evalExpr(ctx, prop.argument, scope);
      if (src instanceof ExternalRef) {
        for (const k of readKeys(ctx.tracer, src)) defineField(out, k, readProperty(ctx.tracer, src, k));
      } else if (isTensorValue(src)) {
        // eager code would copy the Tensor's own fields; the traced value is a fake with other fields
        throw ctx.tracer.break('spreading a tensor into an object literal', 'spread its fields by name, e.g. { shape: t.shape, dtype: t.dtype }');
      } else if (typeof src === 'string' || (src && typeof src === 'object')) {
        // {...'ab'} is {0: 'a', 1: 'b'}; spreading defines fields, so an own `__proto__` key stays a key.
        for (const [k, v] of Object.entries(src)) defineField(out, k, v);
      }
      continue;
    }
    if (prop.kind !== 'init') throw ctx.tracer.break('getter or setter in an object literal');
    const value = evalExpr(ctx, prop.value, scope);
    if (!prop.computed && !prop.shorthand && !prop.method && (prop.key.name ?? prop.key.value) === '__proto__') {
      setLiteralPrototype(ctx, out, value);
      continue;
    }
    const key = prop.computed ? String(toPrimitive(ctx, evalExpr(ctx, prop.key, scope))) : (prop.key.name ?? String(prop.key.value));
    defineField(out, key, value);
  }
  return out;
}

/** `obj[key] = value` as an object literal does it (CreateDataProperty): `__proto__` is a key like any other. */
function defineField(obj: object, key: string, value: Value): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `{ __proto__: p }` sets the prototype when `p` is an object or null and is ignored otherwise. A prototype
 * built in the frame is read like the object's own fields (members.ts); one from outside the frame breaks.
 */
function setLiteralPrototype(ctx: Ctx, out: object, proto: Value): void {
  if (proto === null) {
    Object.setPrototypeOf(out, null);
    return;
  }
  if (proto instanceof ExternalRef || proto instanceof TracedFunction || isTensorValue(proto)) {
    throw ctx.tracer.break('an object literal whose __proto__ is a value from outside the frame, a function or a tensor', 'build the object with the fields it needs, or outside the compiled function');
  }
  if (typeof proto !== 'object' || isRuntimeNumber(proto) || isSymbolic(proto)) return;
  const above = Object.getPrototypeOf(proto) as object | null;
  if (above !== null && above !== Object.prototype && !ctx.tracer.frameProtos.has(above)) {
    throw ctx.tracer.break('an object literal whose __proto__ is an array, Map or class instance', 'inherit from a plain object, or build the object outside the compiled function');
  }
  Object.setPrototypeOf(out, proto);
  ctx.tracer.frameProtos.add(proto);
}

function unaryExpression(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  if (node.operator === 'typeof') {
    if (node.argument.type === 'Identifier' && !scope.lookup(node.argument.name)) return 'undefined';
    return typeOfValue(evalExpr(ctx, node.argument, scope));
  }
  if (node.operator === 'delete') {
    const m = node.argument;
    if (m.type !== 'MemberExpression') return true;
    const obj = evalExpr(ctx, m.object, scope);
    const key = memberKey(ctx, m, scope);
    if (obj instanceof ExternalRef) return recordDelete(ctx, obj, key);
    if (obj === null || typeof obj !== 'object' || obj instanceof TracedFunction || isTensorValue(obj)) throw ctx.tracer.break('delete on a value that is not an object built in the frame');
    if (Object.getOwnPropertyDescriptor(obj, key)?.configurable === false) throw ctx.tracer.break(`delete of the non-configurable '${String(key)}' (eager raises TypeError)`);
    return delete (obj as Record<string, unknown>)[key];
  }
  if (node.operator === 'void') ctx.tracer.discarded.add(node.argument);
  return unary(ctx.tracer, node.operator, evalExpr(ctx, node.argument, scope));
}

export function memberKey(ctx: Ctx, node: AnyNode, scope: Scope): string | number {
  if (!node.computed) {
    if (node.property.type === 'PrivateIdentifier') throw ctx.tracer.break('private class fields (#name)');
    return node.property.name;
  }
  const k = concrete(ctx.tracer, evalExpr(ctx, node.property, scope));
  if (typeof k === 'number') return k;
  if (typeof k === 'string') return /^(0|[1-9]\d*)$/.test(k) ? Number(k) : k;
  throw ctx.tracer.break('computed member key that is not a string or number');
}

/** `{ object, value }` so calls can pass the object as `this`. Short-circuits for optional chains. */
export function memberExpression(ctx: Ctx, node: AnyNode, scope: Scope): { object: Value; value: Value; short?: true } {
  if (node.object.type === 'Super') throw ctx.tracer.break('super.property in traced code');
  const object = evalExpr(ctx, node.object, scope);
  if (node.optional && (object === null || object === undefined)) return { object, value: undefined, short: true };
  const key = memberKey(ctx, node, scope);
  return { object, value: getMember(ctx, object, key) };
}

function chain(ctx: Ctx, node: AnyNode, scope: Scope): { value: Value; short?: true } {
  // An optional chain short-circuits as a whole: `a?.b.c` is undefined when `a` is nullish.
  if (node.type === 'MemberExpression') {
    const inner = node.object.type === 'MemberExpression' || node.object.type === 'CallExpression' ? chain(ctx, node.object, scope) : { value: evalExpr(ctx, node.object, scope) };
    if (inner.short) return inner;
    const object = inner.value;
    if (node.optional && (object === null || object === undefined)) return { value: undefined, short: true };
    return { value: getMember(ctx, object, memberKey(ctx, node, scope)) };
  }
  if (node.type === 'CallExpression') {
    const value = callExpression(ctx, node, scope, true);
    return value === SHORT ? { value: undefined, short: true } : { value };
  }
  return { value: evalExpr(ctx, node, scope) };
}

export const SHORT = Symbol('optional-chain-short-circuit');

function assignment(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  const op = node.operator as string;
  if (op === '=' && node.left.type !== 'Identifier' && node.left.type !== 'MemberExpression') {
    const value = evalExpr(ctx, node.right, scope);
    assignPattern(ctx, node.left, value, scope, null);
    return value;
  }
  // JS evaluates the target's object and key once, before the right-hand side: `a[i++] = i` and
  // `counts[k()] += 1` run `i++` / `k()` once, and the right-hand side sees their effect.
  const ref = reference(ctx, node.left, scope);
  if (op === '=') {
    const value = evalExpr(ctx, node.right, scope);
    ref.set(value);
    return value;
  }
  const current = ref.get();
  // Logical assignments write only when they do not short-circuit; arithmetic ones always write (a write
  // of the same value still fails on a frozen object or runs a setter).
  let next: Value;
  if (op === '&&=') {
    if (!truthy(ctx.tracer, current)) return current;
    next = evalExpr(ctx, node.right, scope);
  } else if (op === '||=') {
    if (truthy(ctx.tracer, current)) return current;
    next = evalExpr(ctx, node.right, scope);
  } else if (op === '??=') {
    if (current !== null && current !== undefined) return current;
    next = evalExpr(ctx, node.right, scope);
  } else next = binary(ctx.tracer, op.slice(0, -1), current, evalExpr(ctx, node.right, scope));
  ref.set(next);
  return next;
}

/** An assignment target whose object and key are evaluated once, for a read and a write. */
interface Reference {
  get(): Value;
  set(value: Value): void;
}

function reference(ctx: Ctx, target: AnyNode, scope: Scope): Reference {
  if (target.type === 'MemberExpression') {
    if (target.object.type === 'Super') throw ctx.tracer.break('assignment to super.property in traced code');
    const object = evalExpr(ctx, target.object, scope);
    const key = memberKey(ctx, target, scope);
    return { get: () => getMember(ctx, object, key), set: (value) => setMember(ctx, object, key, value) };
  }
  return { get: () => evalExpr(ctx, target, scope), set: (value) => writeTarget(ctx, target, value, scope) };
}

export function writeTarget(ctx: Ctx, target: AnyNode, value: Value, scope: Scope): void {
  if (target.type === 'Identifier') {
    const b = scope.lookup(target.name);
    if (!b) throw ctx.tracer.break(`assignment to undeclared '${target.name}'`);
    if (b.kind === 'const') {
      if (!ownsBinding(scope, target.name)) throw ctx.tracer.break(`assignment to captured binding '${target.name}' (a mutation of state outside the frame)`);
      throw ctx.tracer.break(`assignment to constant '${target.name}'`);
    }
    b.value = value;
    return;
  }
  if (target.type === 'MemberExpression') {
    const obj = evalExpr(ctx, target.object, scope);
    setMember(ctx, obj, memberKey(ctx, target, scope), value);
    return;
  }
  throw ctx.tracer.break(`unsupported assignment target ${target.type}`);
}

function ownsBinding(scope: Scope, name: string): boolean {
  for (let s: Scope | null = scope; s; s = s.parent) {
    if (s.vars.has(name)) return !s.external;
  }
  return false;
}
