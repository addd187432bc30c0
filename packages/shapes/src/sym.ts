// SymInt, SymBool and SymFloat: an expression, the ShapeEnv that owns its symbols, and a hint (the value for
// the example inputs; undefined for unbacked symbols). Arithmetic stays symbolic; constant results come back
// as plain numbers and statically decided comparisons as plain booleans, without recording a guard.
import { and, not, or, type CompareOp } from './expr/bool.js';
import { floorDiv, max, min, mod, pythonMod, trueDiv } from './expr/functions.js';
import { add, constant, mul, sub } from './expr/poly.js';
import type { BoolExpr, Expr } from './expr/types.js';
import { nestedArith, nestedCompare, type ArithOp } from './nested-int.js';
import { NestedIntError } from './errors.js';
import type { Size, SymBoolLike, SymIntLike } from './size.js';
import type { ShapeEnv } from './shape-env.js';

type Hint = number | undefined;
type NumberLike = Size | SymFloat;

function hintOp(a: Hint, b: Hint, f: (x: number, y: number) => number): Hint {
  return a === undefined || b === undefined ? undefined : f(a, b);
}

const intHint: Record<ArithOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  floorDiv: (x, y) => Math.floor(x / y),
  mod: pythonMod,
  min: Math.min,
  max: Math.max,
  truediv: (x, y) => x / y,
};

const compareHint: Record<CompareOp, (x: number, y: number) => boolean> = {
  '==': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  '<': (x, y) => x < y,
  '<=': (x, y) => x <= y,
  '>': (x, y) => x > y,
  '>=': (x, y) => x >= y,
};

abstract class SymNumber {
  constructor(
    readonly expr: Expr,
    readonly env: ShapeEnv,
    readonly hint: Hint,
  ) {}

  protected operand(o: NumberLike): [Expr, Hint] {
    if (typeof o === 'number') return [constant(o), o];
    if (o instanceof SymNumber) {
      if (o.env !== this.env) throw new Error(`symbolic values ${this} and ${o} belong to different ShapeEnvs`);
      return [this.env.normalize(o.expr), o.hint];
    }
    throw new TypeError(`expected a number or a symbolic value, got ${String(o)}`);
  }

  protected arith(op: ArithOp, o: NumberLike): [Expr, Hint] {
    const [b, hb] = this.operand(o);
    const a = this.env.normalize(this.expr);
    const hint = hintOp(this.hint, hb, intHint[op]);
    if (a.hasNested || b.hasNested) return [nestedArith(op, a, b, this.env.location), hint];
    return [this.env.cached(`${op}|${a.key}|${b.key}`, () => SymNumber.compute(op, a, b, this.env)), hint];
  }

  private static compute(op: ArithOp, a: Expr, b: Expr, env: ShapeEnv): Expr {
    const ctx = env.simplifyContext;
    switch (op) {
      case 'add':
        return add(a, b);
      case 'sub':
        return sub(a, b);
      case 'mul':
        return mul(a, b);
      case 'floorDiv':
        return floorDiv(a, b, ctx);
      case 'mod':
        return mod(a, b, ctx);
      case 'min':
        return min(a, b, ctx);
      case 'max':
        return max(a, b, ctx);
      case 'truediv':
        return trueDiv(a, b, ctx);
      default:
        return op satisfies never;
    }
  }

  protected compare(op: CompareOp, o: NumberLike): boolean | SymBool {
    const [b, hb] = this.operand(o);
    const a = this.env.normalize(this.expr);
    if (a.hasNested || b.hasNested) return nestedCompare(op, a, b, this.env.location);
    return this.env.compare(op, a, b, hintOp(this.hint, hb, (x, y) => (compareHint[op](x, y) ? 1 : 0)));
  }

  toString(): string {
    return this.env.normalize(this.expr).key;
  }

  /**
   * What a JS operator sees (`n > 4`, `n + 1`, `n == 8`, `Math.max(n, 2)`): JS cannot overload them, so the
   * value is specialized to its hint with a guard `expr == hint` (a backed size), or the data-dependent error
   * is raised (an unbacked one, as `sizeLt` raises) — never a silent comparison of the object itself.
   * Text (`${n}`, String(n)) is the expression. `===` compares identity and cannot be seen: use sizeEq.
   */
  [Symbol.toPrimitive](hint: 'string' | 'number' | 'default'): string | number {
    if (hint === 'string') return this.toString();
    const e = this.env.normalize(this.expr);
    if (e.hasNested) throw new NestedIntError(e.key, 'conversion to a number by a JS operator', this.env.location);
    return this.env.specialize(this.expr, this.hint);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name}(${this.toString()})`;
  }
}

export class SymInt extends SymNumber implements SymIntLike {
  readonly isSymInt = true as const;

  private wrap([e, hint]: [Expr, Hint]): number | SymInt {
    return this.env.intResult(e, hint);
  }

  add(o: Size): number | SymInt { return this.wrap(this.arith('add', o)); }
  sub(o: Size): number | SymInt { return this.wrap(this.arith('sub', o)); }
  mul(o: Size): number | SymInt { return this.wrap(this.arith('mul', o)); }
  floorDiv(o: Size): number | SymInt { return this.wrap(this.arith('floorDiv', o)); }
  mod(o: Size): number | SymInt { return this.wrap(this.arith('mod', o)); }
  min(o: Size): number | SymInt { return this.wrap(this.arith('min', o)); }
  max(o: Size): number | SymInt { return this.wrap(this.arith('max', o)); }
  neg(): number | SymInt { return this.wrap(this.arith('mul', -1)); }
  /** True division: a SymFloat (or a number when constant). */
  truediv(o: Size): number | SymFloat { return this.env.floatResult(...this.arith('truediv', o)); }

  eq(o: Size): boolean | SymBool { return this.compare('==', o); }
  ne(o: Size): boolean | SymBool { return this.compare('!=', o); }
  lt(o: Size): boolean | SymBool { return this.compare('<', o); }
  le(o: Size): boolean | SymBool { return this.compare('<=', o); }
  gt(o: Size): boolean | SymBool { return this.compare('>', o); }
  ge(o: Size): boolean | SymBool { return this.compare('>=', o); }

  /** Specializes to the hint, recording the guard `expr == hint` (like `int(s0)` in Python). */
  guardInt(): number {
    return this.env.specialize(this.expr, this.hint);
  }

  toFloat(): SymFloat {
    return new SymFloat(this.expr, this.env, this.hint);
  }
}

export class SymFloat extends SymNumber {
  readonly isSymFloat = true as const;

  private wrap([e, hint]: [Expr, Hint]): number | SymFloat {
    return this.env.floatResult(e, hint);
  }

  add(o: NumberLike): number | SymFloat { return this.wrap(this.arith('add', o)); }
  sub(o: NumberLike): number | SymFloat { return this.wrap(this.arith('sub', o)); }
  mul(o: NumberLike): number | SymFloat { return this.wrap(this.arith('mul', o)); }
  div(o: NumberLike): number | SymFloat { return this.wrap(this.arith('truediv', o)); }
  neg(): number | SymFloat { return this.wrap(this.arith('mul', -1)); }

  eq(o: NumberLike): boolean | SymBool { return this.compare('==', o); }
  ne(o: NumberLike): boolean | SymBool { return this.compare('!=', o); }
  lt(o: NumberLike): boolean | SymBool { return this.compare('<', o); }
  le(o: NumberLike): boolean | SymBool { return this.compare('<=', o); }
  gt(o: NumberLike): boolean | SymBool { return this.compare('>', o); }
  ge(o: NumberLike): boolean | SymBool { return this.compare('>=', o); }

  /** Specializes to the hint, recording the guard `expr == hint`. */
  guardFloat(): number {
    return this.env.specialize(this.expr, this.hint);
  }
}

export class SymBool implements SymBoolLike {
  readonly isSymBool = true as const;

  constructor(
    readonly expr: BoolExpr,
    readonly env: ShapeEnv,
    readonly hint: boolean | undefined,
  ) {}

  /** The hint's answer, recording a guard that it stays so; throws DataDependentError without a hint. */
  guardBool(): boolean {
    return this.env.guardExpr(this.expr, this.hint);
  }

  and(o: boolean | SymBool): boolean | SymBool {
    return this.junction(o, and, (x, y) => x && y);
  }

  or(o: boolean | SymBool): boolean | SymBool {
    return this.junction(o, or, (x, y) => x || y);
  }

  not(): boolean | SymBool {
    return this.env.boolResult(not(this.expr), this.hint === undefined ? undefined : !this.hint);
  }

  private junction(
    o: boolean | SymBool,
    build: (...args: BoolExpr[]) => BoolExpr,
    hint: (x: boolean, y: boolean) => boolean,
  ): boolean | SymBool {
    const [e, h] = typeof o === 'boolean' ? [this.env.boolConstant(o), o] : [o.expr, o.hint];
    const combined = this.hint === undefined || h === undefined ? undefined : hint(this.hint, h);
    return this.env.boolResult(build(this.expr, e), combined);
  }

  toString(): string {
    return this.env.normalizeBool(this.expr).key;
  }

  /** `b == true`, `+b`: guards the hint's answer (or raises for an unbacked one), like guardBool. */
  [Symbol.toPrimitive](hint: 'string' | 'number' | 'default'): string | boolean {
    return hint === 'string' ? this.toString() : this.guardBool();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SymBool(${this.toString()})`;
  }
}

export function isSymInt(x: unknown): x is SymInt {
  return x instanceof SymInt;
}

export function isSymBool(x: unknown): x is SymBool {
  return x instanceof SymBool;
}

export function isSymFloat(x: unknown): x is SymFloat {
  return x instanceof SymFloat;
}
