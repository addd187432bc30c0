// Size expressions: construction with constant folding, evaluation at call time, and the usual layouts.
import type { SizeBinary, SizeExpr, SizeOp } from './loop-ir.js';

export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function sizeParam(name: string): SizeExpr {
  if (!PARAM_NAME.test(name)) throw new TypeError(`size parameter name '${name}' is not an identifier`);
  return { param: name };
}

const FOLD: Record<SizeOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  floordiv: (a, b) => Math.floor(a / b),
  mod: (a, b) => a - Math.floor(a / b) * b,
  max: Math.max,
  min: Math.min,
};

/** Builds `a op b`, folding constants and the identities that lowering produces all the time. */
export function sizeOp(op: SizeOp, a: SizeExpr, b: SizeExpr): SizeExpr {
  if (typeof a === 'number' && typeof b === 'number') return FOLD[op](a, b);
  if (op === 'add' && a === 0) return b;
  if ((op === 'add' || op === 'sub') && b === 0) return a;
  if (op === 'mul' && (a === 0 || b === 0)) return 0;
  if (op === 'mul' && a === 1) return b;
  if ((op === 'mul' || op === 'floordiv') && b === 1) return a;
  return { op, a, b } satisfies SizeBinary;
}

export const sizeAdd = (a: SizeExpr, b: SizeExpr) => sizeOp('add', a, b);
export const sizeMul = (a: SizeExpr, b: SizeExpr) => sizeOp('mul', a, b);

/** Evaluates a size for concrete parameter values; a missing parameter is a caller bug. */
export function evalSize(e: SizeExpr, params: Readonly<Record<string, number>>): number {
  if (typeof e === 'number') return e;
  if ('param' in e) {
    const v = params[e.param];
    if (v === undefined) throw new RangeError(`size parameter '${e.param}' was not bound`);
    return v;
  }
  return FOLD[e.op](evalSize(e.a, params), evalSize(e.b, params));
}

/** Row-major strides for `sizes` (last axis contiguous). */
export function contiguousStrides(sizes: readonly SizeExpr[]): SizeExpr[] {
  const strides: SizeExpr[] = new Array(sizes.length);
  let acc: SizeExpr = 1;
  for (let i = sizes.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc = sizeMul(acc, sizes[i]!);
  }
  return strides;
}

export function sizeProduct(sizes: readonly SizeExpr[]): SizeExpr {
  return sizes.reduce<SizeExpr>((acc, s) => sizeMul(acc, s), 1);
}

/** Parameters a size expression mentions, in first-seen order. */
export function sizeParams(e: SizeExpr, into: Set<string> = new Set()): Set<string> {
  if (typeof e === 'number') return into;
  if ('param' in e) into.add(e.param);
  else {
    sizeParams(e.a, into);
    sizeParams(e.b, into);
  }
  return into;
}

const SIZE_SYMBOL: Record<SizeOp, string> = {
  add: '+', sub: '-', mul: '*', floordiv: '//', mod: '%', max: 'max', min: 'min',
};

export function printSize(e: SizeExpr): string {
  if (typeof e === 'number') return String(e);
  if ('param' in e) return e.param;
  if (e.op === 'max' || e.op === 'min') return `${e.op}(${printSize(e.a)}, ${printSize(e.b)})`;
  return `(${printSize(e.a)} ${SIZE_SYMBOL[e.op]} ${printSize(e.b)})`;
}
