// Value ranges: closed integer (or real) intervals with infinite ends, and interval arithmetic over the
// canonical form. A comparison is decided statically when the range of `lhs - rhs` excludes the other answer.
import type { Atom, Expr, Term } from './expr/types.js';

export interface ValueRange {
  readonly lo: number;
  readonly hi: number;
}

export const unbounded: ValueRange = { lo: -Infinity, hi: Infinity };
export const sizeRange: ValueRange = { lo: 2, hi: Infinity };
export const nonNegative: ValueRange = { lo: 0, hi: Infinity };

export function range(lo: number, hi: number): ValueRange {
  return { lo, hi };
}

export function point(n: number): ValueRange {
  return { lo: n, hi: n };
}

export function intersect(a: ValueRange, b: ValueRange): ValueRange {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

export function isEmpty(r: ValueRange): boolean {
  return r.lo > r.hi;
}

export function contains(r: ValueRange, n: number): boolean {
  return r.lo <= n && n <= r.hi;
}

export function rangeToString(r: ValueRange): string {
  const end = (n: number): string => (n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n));
  return `[${end(r.lo)}, ${end(r.hi)}]`;
}

// 0 * inf is 0 here: a factor that is exactly zero zeroes the product whatever the other bound.
function times(x: number, y: number): number {
  return x === 0 || y === 0 ? 0 : x * y;
}

export function addRanges(a: ValueRange, b: ValueRange): ValueRange {
  return { lo: a.lo + b.lo, hi: a.hi + b.hi };
}

export function mulRanges(a: ValueRange, b: ValueRange): ValueRange {
  const c = [times(a.lo, b.lo), times(a.lo, b.hi), times(a.hi, b.lo), times(a.hi, b.hi)];
  return { lo: Math.min(...c), hi: Math.max(...c) };
}

export function scaleRange(a: ValueRange, c: number): ValueRange {
  return c >= 0 ? { lo: times(a.lo, c), hi: times(a.hi, c) } : { lo: times(a.hi, c), hi: times(a.lo, c) };
}

export function powRange(a: ValueRange, n: number): ValueRange {
  if (n % 2 === 1 || a.lo >= 0) return { lo: a.lo ** n, hi: a.hi ** n };
  if (a.hi <= 0) return { lo: a.hi ** n, hi: a.lo ** n };
  return { lo: 0, hi: Math.max(a.lo ** n, a.hi ** n) };
}

function floorDivRange(a: ValueRange, b: ValueRange): ValueRange {
  if (b.lo <= 0 && b.hi >= 0) return unbounded;
  const q = [a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi].map((x) => (Number.isNaN(x) ? 0 : x));
  return { lo: Math.floor(Math.min(...q)), hi: Math.floor(Math.max(...q)) };
}

function modRange(a: ValueRange, b: ValueRange): ValueRange {
  if (b.lo > 0) {
    if (a.lo >= 0 && a.hi < b.lo) return a;
    return { lo: 0, hi: b.hi - 1 };
  }
  return unbounded;
}

export type AtomRange = (atom: Atom) => ValueRange;

export function callRange(atom: Atom, of: (e: Expr) => ValueRange): ValueRange | undefined {
  if (atom.kind !== 'call') return undefined;
  const [x, y] = atom.args.map(of) as [ValueRange, ValueRange];
  switch (atom.fn) {
    case 'FloorDiv':
      return floorDivRange(x, y);
    case 'Mod':
      return modRange(x, y);
    case 'Min':
      return { lo: Math.min(x.lo, y.lo), hi: Math.min(x.hi, y.hi) };
    case 'Max':
      return { lo: Math.max(x.lo, y.lo), hi: Math.max(x.hi, y.hi) };
    case 'TrueDiv':
      return y.lo > 0 || y.hi < 0 ? mulRanges(x, { lo: 1 / y.hi, hi: 1 / y.lo }) : unbounded;
    default:
      return atom.fn satisfies never;
  }
}

function termRange(t: Term, atomRange: AtomRange): ValueRange {
  let r: ValueRange = point(t.coeff);
  for (const f of t.mono.factors) r = mulRanges(r, powRange(atomRange(f.atom), f.power));
  return r;
}

/** Interval bound of `e`, given a range for each atom. */
export function rangeOf(e: Expr, atomRange: AtomRange): ValueRange {
  let r: ValueRange = point(e.constant);
  for (const t of e.terms) r = addRanges(r, termRange(t, atomRange));
  return r;
}
