// Statements of the traced code. Loops are unrolled (their trip counts are known at trace time); control
// flow leaves a statement as a completion record. Every statement sets the user source location first,
// so a break is reported at (and can later split the frame at) a statement boundary.
import type { Ctx } from './context.js';
import { evalExpr, makeFunction, toPrimitive } from './expressions.js';
import { assignPattern } from './patterns.js';
import { spreadItems } from './members.js';
import { truthy } from './sym-ops.js';
import { GraphBreak } from './errors.js';
import { forInKeys } from './inheritance.js';
import { Scope } from './values.js';
import type { AnyNode, Completion, Value } from './values.js';

/** Declares hoisted names of a statement list: function declarations (initialized) and `var`s. */
export function hoist(ctx: Ctx, body: AnyNode[], scope: Scope): void {
  for (const s of body) {
    if (s.type === 'FunctionDeclaration') scope.declare(s.id.name, 'function', makeFunction(ctx, s, scope));
    else if (s.type === 'VariableDeclaration' && s.kind === 'var') {
      for (const d of s.declarations) if (d.id.type === 'Identifier' && !scope.vars.has(d.id.name)) scope.declare(d.id.name, 'var', undefined);
    }
  }
}

export function execBody(ctx: Ctx, body: AnyNode[], scope: Scope): Completion {
  hoist(ctx, body, scope);
  for (const s of body) {
    const c = execStatement(ctx, s, scope);
    if (c) return c;
  }
  return undefined;
}

function loopControl(c: Completion, label: string | undefined): 'break' | 'continue' | 'exit' | undefined {
  if (!c) return undefined;
  if (c.type === 'return') return 'exit';
  if (c.label !== undefined && c.label !== label) return 'exit';
  return c.type;
}

export function execStatement(ctx: Ctx, node: AnyNode, scope: Scope, label?: string): Completion {
  ctx.tracer.at(node);
  switch (node.type) {
    case 'ExpressionStatement':
      ctx.tracer.discarded.add(node.expression);
      evalExpr(ctx, node.expression, scope);
      return undefined;
    case 'VariableDeclaration':
      for (const d of node.declarations) {
        const value = d.init ? evalExpr(ctx, d.init, scope) : undefined;
        if (node.kind === 'var' && !d.init && d.id.type === 'Identifier') continue;
        assignPattern(ctx, d.id, value, scope, node.kind === 'var' ? 'var' : node.kind === 'const' ? 'const' : 'let');
      }
      return undefined;
    case 'FunctionDeclaration':
    case 'EmptyStatement':
      return undefined;
    case 'ReturnStatement':
      return { type: 'return', value: node.argument ? evalExpr(ctx, node.argument, scope) : undefined };
    case 'IfStatement':
      if (ifTest(ctx, node, scope)) return execStatement(ctx, node.consequent, new Scope(scope));
      return node.alternate ? execStatement(ctx, node.alternate, new Scope(scope)) : undefined;
    case 'BlockStatement':
      return execBody(ctx, node.body, new Scope(scope));
    case 'BreakStatement':
      return { type: 'break', label: node.label?.name };
    case 'ContinueStatement':
      return { type: 'continue', label: node.label?.name };
    case 'LabeledStatement': {
      const c = execStatement(ctx, node.body, scope, node.label.name);
      return c && c.type === 'break' && c.label === node.label.name ? undefined : c;
    }
    case 'ForStatement':
      return forStatement(ctx, node, scope, label);
    case 'ForOfStatement':
    case 'ForInStatement':
      return forEachStatement(ctx, node, scope, label);
    case 'WhileStatement':
    case 'DoWhileStatement': {
      let first = node.type === 'DoWhileStatement';
      while (first || truthy(ctx.tracer, evalExpr(ctx, node.test, scope))) {
        first = false;
        const c = execStatement(ctx, node.body, new Scope(scope));
        const flow = loopControl(c, label);
        if (flow === 'exit') return c;
        if (flow === 'break') break;
      }
      return undefined;
    }
    case 'SwitchStatement':
      return switchStatement(ctx, node, scope, label);
    case 'ThrowStatement': {
      const err = evalExpr(ctx, node.argument, scope);
      const message = err instanceof Error ? err.message : String(toPrimitiveSafe(ctx, err));
      throw ctx.tracer.break(`throw: ${message}`, 'the frame runs eagerly, which raises the same error');
    }
    case 'TryStatement':
      throw ctx.tracer.break('try/catch in traced code');
    case 'ClassDeclaration':
      throw ctx.tracer.break('a class declared inside the compiled function', 'declare the class outside the compiled function');
    default:
      throw ctx.tracer.break(`unsupported statement: ${node.type}`);
  }
}

function ifTest(ctx: Ctx, node: AnyNode, scope: Scope): boolean {
  try {
    return truthy(ctx.tracer, evalExpr(ctx, node.test, scope));
  } catch (err) {
    if (err instanceof GraphBreak) ctx.tracer.brokenTests.add(node);
    throw err;
  }
}

function toPrimitiveSafe(ctx: Ctx, v: Value): Value {
  try {
    return toPrimitive(ctx, v);
  } catch {
    return '<object>';
  }
}

function forStatement(ctx: Ctx, node: AnyNode, scope: Scope, label: string | undefined): Completion {
  const loopScope = new Scope(scope);
  if (node.init) {
    if (node.init.type === 'VariableDeclaration') execStatement(ctx, node.init, loopScope);
    else evalExpr(ctx, node.init, loopScope);
  }
  const perIteration = node.init?.type === 'VariableDeclaration' && node.init.kind === 'let';
  let iterScope = loopScope;
  for (;;) {
    if (node.test && !truthy(ctx.tracer, evalExpr(ctx, node.test, iterScope))) break;
    const c = execStatement(ctx, node.body, new Scope(iterScope));
    const flow = loopControl(c, label);
    if (flow === 'exit') return c;
    if (flow === 'break') break;
    if (perIteration) {
      // `let` in a for-head gets a fresh binding per iteration (closures capture each value).
      const next = new Scope(scope);
      for (const [k, b] of iterScope.vars) next.declare(k, b.kind, b.value);
      iterScope = next;
    }
    if (node.update) evalExpr(ctx, node.update, iterScope);
  }
  return undefined;
}

function forEachStatement(ctx: Ctx, node: AnyNode, scope: Scope, label: string | undefined): Completion {
  const subject = evalExpr(ctx, node.right, scope);
  let items: Value[];
  if (node.type === 'ForInStatement') {
    items = forInKeys(ctx.tracer, subject);
  } else items = spreadItems(ctx, subject);
  for (const item of items) {
    const iterScope = new Scope(scope);
    if (node.left.type === 'VariableDeclaration') {
      const kind = node.left.kind === 'const' ? 'const' : node.left.kind === 'let' ? 'let' : 'var';
      assignPattern(ctx, node.left.declarations[0].id, item, kind === 'var' ? scope : iterScope, kind);
    } else assignPattern(ctx, node.left, item, scope, null);
    const c = execStatement(ctx, node.body, iterScope);
    const flow = loopControl(c, label);
    if (flow === 'exit') return c;
    if (flow === 'break') break;
  }
  return undefined;
}

function switchStatement(ctx: Ctx, node: AnyNode, scope: Scope, label: string | undefined): Completion {
  const subject = evalExpr(ctx, node.discriminant, scope);
  const inner = new Scope(scope);
  let matched = -1;
  node.cases.forEach((c: AnyNode, i: number) => {
    if (matched < 0 && c.test && truthy(ctx.tracer, binaryEq(ctx, subject, evalExpr(ctx, c.test, inner)))) matched = i;
  });
  if (matched < 0) matched = node.cases.findIndex((c: AnyNode) => !c.test);
  if (matched < 0) return undefined;
  for (const c of node.cases.slice(matched)) {
    for (const s of c.consequent) {
      const done = execStatement(ctx, s, inner);
      if (done?.type === 'break' && (done.label === undefined || done.label === label)) return undefined;
      if (done) return done;
    }
  }
  return undefined;
}

import { binary } from './sym-ops.js';
const binaryEq = (ctx: Ctx, a: Value, b: Value): Value => binary(ctx.tracer, '===', a, b);
