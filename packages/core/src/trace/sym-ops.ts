// JavaScript operators over tracked values. Sizes may be SymInts: arithmetic and comparisons stay symbolic
// where the shape env supports them; anything else specializes the SymInt to its hint (a guard), which is
// always correct and at worst recompiles.
import { DataDependentError, SymBool, SymFloat, SymInt, isSymBool, isSymFloat, isSymInt } from '@kiln/shapes';
import { instanceOf } from './inheritance.js';
import type { FrameTracer } from './frame.js';
import { ExternalRef, TracedFunction, isSymbolic, isTensorValue } from './values.js';
import type { Value } from './values.js';
import { applyArith, isBinaryArith, isRuntimeNumber, runtimeArith, runtimeNeg } from './runtime-number.js';
import type { RuntimeNumber } from './runtime-number.js';
import { readHasKey } from './external-reads.js';

type Sym = SymInt | SymFloat;
const isSymNumber = (v: Value): v is Sym => isSymInt(v) || isSymFloat(v);

function dataDependent<T>(tracer: FrameTracer, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DataDependentError) {
      // Name where each symbol came from (`u0 from item() value at model.ts:4`): the user never wrote `u0`.
      const from = err.symbols.map((s) => `${s.symbol} from ${s.origin ?? 'a data-dependent op'}${s.location ? ` at ${s.location}` : ''}`).join(', ');
      throw tracer.break(`data-dependent control flow on ${err.expr}${from ? ` (${from})` : ''}`, 'move the branch out of the compiled function, or use where()');
    }
    throw err;
  }
}

/** A plain JS number/boolean for a value, guarding symbolic ones. */
export function concrete(tracer: FrameTracer, v: Value): Value {
  if (isRuntimeNumber(v)) return tracer.specialize(v);
  if (isSymInt(v)) return dataDependent(tracer, () => (v as SymInt).guardInt());
  if (isSymFloat(v)) return dataDependent(tracer, () => (v as SymFloat).guardFloat());
  if (isSymBool(v)) return dataDependent(tracer, () => (v as SymBool).guardBool());
  return v;
}

export function truthy(tracer: FrameTracer, v: Value): boolean {
  if (isRuntimeNumber(v)) return Boolean(tracer.specialize(v));
  if (isSymBool(v)) return concrete(tracer, v) as boolean;
  if (isSymNumber(v)) return dataDependent(tracer, () => {
    const ne = (v as SymInt).ne(0);
    return typeof ne === 'boolean' ? ne : ne.guardBool();
  });
  if (isTensorValue(v) || v instanceof ExternalRef || v instanceof TracedFunction) return true;
  return Boolean(v);
}

// -0 is an integer to JavaScript but not to size arithmetic (`s0 * -0` is -0 in eager code, the symbolic
// product 0): an expression with it is computed concretely (the size specialized).
const isSizeInt = (v: unknown): boolean => Number.isInteger(v) && !Object.is(v, -0);
// Symbolic products and negations are integer arithmetic, but eager JS gives -0 for `0 * -3` and `-0`:
// when a factor may be 0 and the other negative (an unbacked size, an item() value), the value is used
// concretely (specialized, or a data-dependent break for unbacked symbols).
const rangeOf = (tracer: FrameTracer, v: Value): { lo: number; hi: number } =>
  isSymInt(v) ? tracer.shapeEnv.rangeOfSize(v as SymInt) : { lo: v as number, hi: v as number };
const mayBeZero = (tracer: FrameTracer, v: SymInt): boolean => {
  const r = rangeOf(tracer, v);
  return r.lo <= 0 && r.hi >= 0;
};
function mayBeNegativeZero(tracer: FrameTracer, a: Value, b: Value): boolean {
  if (!(isSymInt(a) || typeof a === 'number') || !(isSymInt(b) || typeof b === 'number')) return false;
  const [ra, rb] = [rangeOf(tracer, a), rangeOf(tracer, b)];
  const zero = (r: { lo: number; hi: number }) => r.lo <= 0 && r.hi >= 0;
  return (zero(ra) && rb.lo < 0) || (zero(rb) && ra.lo < 0);
}
const symArith: Record<string, keyof SymInt | undefined> = { '+': 'add', '-': 'sub', '*': 'mul', '%': undefined };
const symCompare: Record<string, 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'> = {
  '===': 'eq', '==': 'eq', '!==': 'ne', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
};
const flipped: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function identityOf(tracer: FrameTracer, v: Value): unknown {
  if (v instanceof ExternalRef) {
    if (v.guarded !== 'identity') throw tracer.break(`identity comparison with ${v.source}, whose identity is not guarded`);
    return v.value;
  }
  if (isTensorValue(v)) throw tracer.break('identity comparison of tensors (inputs may alias at run time)');
  return v;
}

export function binary(tracer: FrameTracer, op: string, a: Value, b: Value): Value {
  if (op === 'instanceof') return instanceOf(tracer, a, b);
  if (isRuntimeNumber(a) || isRuntimeNumber(b)) {
    const numeric = (x: Value): x is RuntimeNumber | number => isRuntimeNumber(x) || typeof x === 'number';
    const kept = numeric(a) && numeric(b) ? runtimeArith(op, a, b) : undefined;
    return kept ?? binary(tracer, op, concrete(tracer, a), concrete(tracer, b));
  }
  if (isTensorValue(a) || isTensorValue(b)) {
    if (op === '===' || op === '!==' || op === '==' || op === '!=') {
      // A tensor is never null or undefined (`if (p.grad === null)` needs no identity).
      if (a === null || a === undefined || b === null || b === undefined) return op.startsWith('!');
      const same = identityOf(tracer, a) === identityOf(tracer, b);
      return op.startsWith('=') ? same : !same;
    }
    throw tracer.break(`operator '${op}' on a tensor`, 'use tensor methods (add, mul, …): JS operators do not apply to tensors');
  }
  if (isSymNumber(a) || isSymNumber(b)) {
    const cmp = symCompare[op];
    const numeric = (x: Value) => isSymNumber(x) || typeof x === 'number';
    if (numeric(a) && numeric(b)) {
      if (cmp) {
        if (isSymNumber(a)) return (a as SymInt)[cmp](b as number);
        const swapped = symCompare[flipped[op] ?? op]!;
        return (b as SymInt)[swapped](a as number);
      }
      const method = symArith[op];
      if (op === '*' && mayBeNegativeZero(tracer, a, b)) return binary(tracer, op, concrete(tracer, a), concrete(tracer, b));
      if (method && isSymInt(a) && (isSymInt(b) || isSizeInt(b))) return (a as any)[method](b);
      if (method && isSymInt(b) && isSizeInt(a)) {
        if (op === '-') {
          const negated = (b as SymInt).neg();
          return typeof negated === 'number' ? negated + (a as number) : negated.add(a as number);
        }
        return (b as any)[method](a);
      }
    }
    return binary(tracer, op, concrete(tracer, a), concrete(tracer, b));
  }
  if (isSymBool(a) || isSymBool(b)) return binary(tracer, op, concrete(tracer, a), concrete(tracer, b));
  if (op === '===' || op === '!==' || op === '==' || op === '!=') {
    // An outside object guarded by its type (a plain object or array) is never null or undefined.
    const nullish = (v: Value) => v === null || v === undefined;
    const x = nullish(b) && a instanceof ExternalRef ? a.value : identityOf(tracer, a);
    const y = nullish(a) && b instanceof ExternalRef ? b.value : identityOf(tracer, b);
    switch (op) {
      case '===': return x === y;
      case '!==': return x !== y;
      // eslint-disable-next-line eqeqeq
      case '==': return x == y;
      // eslint-disable-next-line eqeqeq
      default: return x != y;
    }
  }
  if (op === 'in') return inOperator(tracer, a, b);
  if (!isPrimitive(a) || !isPrimitive(b)) throw tracer.break(`operator '${op}' on an object`);
  return applyPrimitive(op, a as any, b as any);
}

/** `key in object`: the key as JS converts it (a size specialized), the object's own or guarded answer. */
function inOperator(tracer: FrameTracer, a: Value, b: Value): boolean {
  const key = concrete(tracer, a);
  if (typeof key !== 'string' && typeof key !== 'number') throw tracer.break("'in' with a key that is not a string or number");
  if (b instanceof ExternalRef) return readHasKey(tracer, b, typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key);
  if (b === null || typeof b !== 'object' || b instanceof TracedFunction || isSymbolic(b)) throw tracer.break("'in' on a value that is not an object built in the frame");
  return key in b;
}

const isPrimitive = (v: Value): boolean => v === null || (typeof v !== 'object' && typeof v !== 'function');

function applyPrimitive(op: string, a: any, b: any): Value {
  // `+` also concatenates strings: the shared arithmetic table applies JS's own operators.
  if (isBinaryArith(op)) return applyArith(op, a, b);
  switch (op) {
    case '**': return a ** b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<<': return a << b;
    case '>>': return a >> b;
    case '>>>': return a >>> b;
    default: throw new Error(`unknown operator ${op}`);
  }
}

export function unary(tracer: FrameTracer, op: string, v: Value): Value {
  if (op === '!') return !truthy(tracer, v);
  if (op === 'void') return undefined;
  if (isTensorValue(v)) throw tracer.break(`operator '${op}' on a tensor`, 'use neg() and friends');
  if (op === '-' && isSymInt(v) && !mayBeZero(tracer, v as SymInt)) return (v as SymInt).neg();
  if (op === '-' && isRuntimeNumber(v)) return runtimeNeg(v);
  if (op === '+' && isRuntimeNumber(v)) return v;
  if (op === '+' && isSymNumber(v)) return v;
  const c = concrete(tracer, v);
  if (!isPrimitive(c)) throw tracer.break(`operator '${op}' on an object`);
  switch (op) {
    case '-': return -(c as number);
    case '+': return +(c as number);
    case '~': return ~(c as number);
    default: throw tracer.break(`unsupported unary operator '${op}'`);
  }
}
