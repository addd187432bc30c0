// Destructuring: binding patterns for declarations and parameters, assignment patterns for `=`.
import type { Ctx } from './context.js';
import { evalExpr, writeTarget } from './expressions.js';
import { getMember, spreadItems } from './calls.js';
import { ExternalRef } from './values.js';
import type { AnyNode, Binding, Scope, Value } from './values.js';
import { readKeys } from './external-reads.js';

/** Binds `pattern` to `value`: declares in `scope` when `kind` is given, else assigns existing targets. */
export function assignPattern(ctx: Ctx, pattern: AnyNode, value: Value, scope: Scope, kind: Binding['kind'] | null): void {
  switch (pattern.type) {
    case 'Identifier':
      if (kind) scope.declare(pattern.name, kind, value);
      else writeTarget(ctx, pattern, value, scope);
      return;
    case 'MemberExpression':
      writeTarget(ctx, pattern, value, scope);
      return;
    case 'AssignmentPattern': {
      const v = value === undefined ? evalExpr(ctx, pattern.right, scope) : value;
      assignPattern(ctx, pattern.left, v, scope, kind);
      return;
    }
    case 'ArrayPattern': {
      const items = spreadItems(ctx, value);
      pattern.elements.forEach((el: AnyNode | null, i: number) => {
        if (!el) return;
        if (el.type === 'RestElement') assignPattern(ctx, el.argument, items.slice(i), scope, kind);
        else assignPattern(ctx, el, items[i], scope, kind);
      });
      return;
    }
    case 'ObjectPattern': {
      if (value === null || value === undefined) throw ctx.tracer.break('destructuring null or undefined');
      const used = new Set<string>();
      for (const prop of pattern.properties) {
        if (prop.type === 'RestElement') {
          const rest: Record<string, Value> = {};
          const keys = value instanceof ExternalRef ? readKeys(ctx.tracer, value) : Object.keys(value as object);
          for (const k of keys) if (!used.has(k)) rest[k] = getMember(ctx, value, k);
          assignPattern(ctx, prop.argument, rest, scope, kind);
          continue;
        }
        const key = prop.computed ? String(evalExpr(ctx, prop.key, scope)) : (prop.key.name ?? String(prop.key.value));
        used.add(key);
        assignPattern(ctx, prop.value, getMember(ctx, value, key), scope, kind);
      }
      return;
    }
    default:
      throw ctx.tracer.break(`unsupported pattern ${pattern.type}`);
  }
}
