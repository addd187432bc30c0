// Calls: every call site asks the policy (inline / skip / allowInGraph) and records the decision.
import { KilnError, withDispatchMode } from '@kiln/tensor';
import type { OpDef } from '@kiln/tensor';
import { FakeTensorError } from '@kiln/tensor';
import type { Ctx } from './context.js';
import { MAX_INLINE_DEPTH } from './context.js';
import { GraphBreak } from './errors.js';
import { SHORT, evalExpr, memberExpression } from './expressions.js';
import { callBuiltin, constructBuiltin } from './builtins.js';
import { isCheckFunction, traceCheck } from './checks.js';
import { invokeFunction, construct } from './invoke.js';
import { getMember, spreadItems } from './members.js';
import { functionalize, outOfPlace } from './side-effects/inplace.js';
import { parseFunction } from './functions.js';
import { opaqueOpFor } from './opaque-ops.js';
import { concrete } from './sym-ops.js';
import { isRuntimeNumber } from './runtime-number.js';
import { scalarGraphInput } from './scalar-inputs.js';
import { ExternalRef, TracedFunction, isSymbolic } from './values.js';
import type { AnyNode, Scope, Value } from './values.js';
import { readElements, readInherited, readKeys, readProperty } from './external-reads.js';

export { getMember, setMember, spreadItems } from './members.js';

function evalArgs(ctx: Ctx, nodes: AnyNode[], scope: Scope): Value[] {
  const out: Value[] = [];
  for (const a of nodes) {
    if (a.type === 'SpreadElement') out.push(...spreadItems(ctx, evalExpr(ctx, a.argument, scope)));
    else out.push(evalExpr(ctx, a, scope));
  }
  return out;
}

const describeCallee = (node: AnyNode): string => {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed) return `${describeCallee(node.object)}.${node.property.name}`;
  if (node.type === 'ThisExpression') return 'this';
  return '<expression>';
};

export function callExpression(ctx: Ctx, node: AnyNode, scope: Scope, inChain = false): Value {
  let callee: Value;
  let thisArg: Value = undefined;
  if (node.callee.type === 'Super') {
    const args = evalArgs(ctx, node.arguments, scope);
    const parent = ctx.homeClass ? Object.getPrototypeOf(ctx.homeClass) : undefined;
    if (typeof parent !== 'function' || parent === Function.prototype) throw ctx.tracer.break('super() outside a derived class constructor');
    construct(ctx, parent, args, ctx.thisValue.value as object);
    ctx.onSuper?.();
    return undefined;
  }
  if (node.callee.type === 'MemberExpression') {
    const m = memberExpression(ctx, node.callee, scope);
    if (m.short) return inChain ? SHORT : undefined;
    callee = m.value;
    thisArg = m.object;
  } else if (node.callee.type === 'ChainExpression' || (inChain && node.callee.type === 'CallExpression')) {
    callee = evalExpr(ctx, node.callee, scope);
  } else {
    callee = evalExpr(ctx, node.callee, scope);
  }
  if (node.optional && (callee === null || callee === undefined)) return inChain ? SHORT : undefined;
  const args = evalArgs(ctx, node.arguments, scope);
  ctx.tracer.at(node);
  ctx.tracer.callNode = node;
  return callValue(ctx, callee, thisArg, args, describeCallee(node.callee));
}

export function newExpression(ctx: Ctx, node: AnyNode, scope: Scope): Value {
  const callee = evalExpr(ctx, node.callee, scope);
  const args = evalArgs(ctx, node.arguments, scope);
  ctx.tracer.at(node);
  if (!(callee instanceof ExternalRef) || typeof callee.value !== 'function') {
    throw ctx.tracer.break(`'new' of ${callee instanceof TracedFunction ? 'a function defined in the frame' : 'a non-constructor'}`);
  }
  const cls = callee.value as Function;
  const builtin = constructBuiltin(ctx, cls, args);
  if (builtin.handled) return builtin.value;
  const decision = ctx.tracer.settings.calls.decide(cls, cls.name);
  ctx.tracer.recordDecision(`new ${describeCallee(node.callee)}`, decision);
  if (decision.kind !== 'inline') throw ctx.tracer.break(`'new ${cls.name}' is skipped by the policy: ${decision.reason}`);
  // The instance inherits from what `cls.prototype` is now (a plain function's is reassignable): guarded.
  const proto = readInherited(ctx.tracer, cls, 'prototype', callee.source);
  if (!(proto instanceof ExternalRef)) throw ctx.tracer.break(`'new ${cls.name}': its prototype is not an object`);
  return construct(ctx, cls, args, Object.create(proto.value) as object);
}

export function callValue(ctx: Ctx, callee: Value, thisArg: Value, args: Value[], name: string): Value {
  const t = ctx.tracer;
  if (ctx.depth > MAX_INLINE_DEPTH) throw t.break('inlining is too deep (recursion?)');
  if (callee instanceof TracedFunction) return invokeFunction(ctx, callee, thisArg, args);
  if (!(callee instanceof ExternalRef) || typeof callee.value !== 'function') throw t.break(`'${name}' is not a function`);
  const fn = callee.value as Function;
  if (isCheckFunction(fn)) return traceCheck(t, fn, args);
  const builtin = callBuiltin(ctx, fn, thisArg, args);
  if (builtin.handled) return builtin.value;
  const decision = ctx.tracer.settings.calls.decide(fn, name);
  t.recordDecision(name, decision);
  switch (decision.kind) {
    case 'allowInGraph':
      return decision.op ? callOp(ctx, decision.op, fn, thisArg, args, name) : callOpaque(ctx, fn, decision.opaque?.meta, thisArg, args, name);
    case 'inline': {
      const parsed = parseFunction(fn)!;
      if (parsed.node.type === 'ClassExpression') throw t.break(`class '${fn.name}' called without 'new'`);
      if (decision.rule.startsWith('traced-form:')) return invokeWithoutGrad(ctx, () => invokeFunction(ctx, parsed, thisArg, args, fn), name);
      return invokeFunction(ctx, parsed, thisArg, args, fn);
    }
    case 'skip':
      if (decision.polyfill) return callValue(ctx, t.fixed(decision.polyfill), thisArg, args, `${name} (polyfill)`);
      throw t.break(`call to '${name}' is skipped by the policy: ${decision.reason}`, decision.hint ?? 'move the call out of the compiled function');
    default:
      return decision.kind satisfies never;
  }
}

const SCALAR_SLOTS: ReadonlySet<string> = new Set(['TensorOrScalar', 'Scalar', 'Scalar?']);

/** Whether the argument named `name` takes a scalar (so a runtime number there can be a scalar input). */
const takesScalar = (op: OpDef, name: string | undefined): boolean =>
  name !== undefined && [...op.schema.positional, ...op.schema.keywordOnly].some((s) => s.name === name && SCALAR_SLOTS.has(s.type));

/**
 * Deep conversion of a tracked value into an op argument (fake tensors, numbers, SymInts, arrays). `slot`
 * names the schema argument `v` is passed as (undefined inside lists): a runtime number where the op takes
 * a scalar becomes a scalar graph input; anywhere else (a size, a dim) it is specialized.
 */
function toOpArg(ctx: Ctx, v: Value, op: OpDef, slot: string | undefined): unknown {
  if (v instanceof ExternalRef) {
    if (Array.isArray(v.value)) return readElements(ctx.tracer, v).map((x) => toOpArg(ctx, x, op, undefined));
    if (v.guarded === 'shape') {
      const out: Record<string, unknown> = {};
      for (const k of readKeys(ctx.tracer, v)) out[k] = toOpArg(ctx, readProperty(ctx.tracer, v, k), op, k);
      return out;
    }
    throw ctx.tracer.break(`passing ${v.source} (${(v.value as object).constructor?.name ?? 'object'}) to a tensor op`);
  }
  if (v instanceof TracedFunction) throw ctx.tracer.break('passing a function to a tensor op');
  if (isRuntimeNumber(v)) return takesScalar(op, slot) ? scalarGraphInput(ctx.tracer, v) : concrete(ctx.tracer, v);
  if (isSymbolic(v) && !(v as { isSymInt?: boolean }).isSymInt) return concrete(ctx.tracer, v);
  if (Array.isArray(v)) return v.map((x) => toOpArg(ctx, x, op, undefined));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toOpArg(ctx, x, op, k);
    return out;
  }
  return v;
}

/**
 * A library's traced form (an optimizer step) runs under noGrad in eager code: its in-place updates of
 * parameters must not be recorded. The graph that holds it therefore runs without grad as a whole, so it
 * must hold nothing else: ops before it in the frame end the graph at the call (which then runs eagerly;
 * a step right after `backward()` starts a fresh frame), and ops after it break the graph there.
 */
function invokeWithoutGrad(ctx: Ctx, invoke: () => Value, name: string): Value {
  const t = ctx.tracer;
  if (t.noGradDepth === 0 && t.recorder.graph.nodes.some((n) => n.kind === 'call')) {
    throw t.break(`'${name}' updates tensors without grad, after tensor ops the same graph records with grad`, 'call it right after backward() (a graph break), as a training step does');
  }
  t.noGradDepth++;
  try {
    const result = invoke();
    t.ranWithoutGrad = true;
    return result;
  } finally {
    t.noGradDepth--;
  }
}

function callOp(ctx: Ctx, op: OpDef, fn: Function, thisArg: Value, args: Value[], name: string): Value {
  const t = ctx.tracer;
  if (t.ranWithoutGrad && t.noGradDepth === 0) throw t.break(`'${name}' after an optimizer step in the same graph (which runs without grad)`);
  const isMethod = fn !== op.fn;
  const realArgs = (isMethod ? [thisArg, ...args] : args).map((a, i) => toOpArg(ctx, a, op, op.schema.positional[i]?.name));
  const base = outOfPlace(op);
  if (base) return functionalize(ctx, op, base, realArgs);
  return recordOp(ctx, op, realArgs, name);
}

/**
 * A user function marked allowInGraph: one opaque node (numbers it takes are specialized). `this` is not
 * passed: a method would need its object inside the node, which a graph node cannot hold.
 */
function callOpaque(ctx: Ctx, fn: Function, meta: ((...a: any[]) => unknown) | undefined, thisArg: Value, args: Value[], name: string): Value {
  if (thisArg !== undefined && !(thisArg instanceof ExternalRef && thisArg.value === globalThis)) {
    throw ctx.tracer.break(`'${name}' is allowed in the graph but is called as a method`, 'allowInGraph() takes plain functions; call it as a function of its tensors');
  }
  const placeholder = { schema: { positional: [], keywordOnly: [] } } as unknown as OpDef;
  const realArgs = args.map((a) => toOpArg(ctx, a, placeholder, undefined));
  let op: OpDef;
  try {
    op = opaqueOpFor(fn, fn.name || name, realArgs, meta);
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    throw ctx.tracer.break(err.message, err.hint);
  }
  return recordOp(ctx, op, realArgs, name);
}

function recordOp(ctx: Ctx, op: OpDef, realArgs: unknown[], name: string): Value {
  try {
    return withDispatchMode(ctx.tracer.recorder, () => op.fn(...realArgs));
  } catch (err) {
    if (err instanceof GraphBreak) throw err;
    const why = err instanceof FakeTensorError ? 'cannot run on fake tensors' : 'raised while tracing';
    // Eager raises the same error (or succeeds where tracing could not): falling back is always correct.
    const hint = err instanceof FakeTensorError ? err.hint : undefined;
    throw ctx.tracer.break(`'${name}' ${why}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, hint);
  }
}

export { getMember as readMember };
