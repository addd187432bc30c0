// The only module that talks to mathjs. mathjs is used for what the canonical form cannot do on its own
// (exact division by a non-monomial, simplifying call-heavy expressions) and every answer is memoized by
// the canonical key, because one `simplify` costs milliseconds. Results are converted back to canonical
// form, and callers verify them there before relying on them.
import { createRequire } from 'node:module';
import type * as Mathjs from 'mathjs';
import type { MathJsInstance, MathNode } from 'mathjs';
import { add, callAtom, atomExpr, constant, mul, neg, nestedIntAtom, pow, scale, symbolAtom, sub } from './expr/poly.js';
import type { Atom, Expr } from './expr/types.js';

// mathjs takes seconds to import on a loaded machine, so it is loaded on first use, never at import time:
// a trace that stays in canonical form never pays for it.
const requireLazily = createRequire(import.meta.url);
let instance: MathJsInstance | undefined;
function math(): MathJsInstance {
  if (instance === undefined) {
    const start = performance.now();
    const { create, all } = requireLazily('mathjs') as typeof Mathjs;
    instance = create(all);
    stats.setupMilliseconds += performance.now() - start; // counted in `milliseconds` by the timed caller
  }
  return instance;
}

export interface MathjsStats {
  /** Uncached calls into mathjs. */
  calls: number;
  cacheHits: number;
  /** Time inside mathjs, including the one-time setup. */
  milliseconds: number;
  /** The one-time `create(all)` on first use (part of `milliseconds`). */
  setupMilliseconds: number;
}

const stats: MathjsStats = { calls: 0, cacheHits: 0, milliseconds: 0, setupMilliseconds: 0 };

/** Calls into mathjs so far, with the time spent there; the bench reports its share of the total. */
export function mathjsStats(): Readonly<MathjsStats> {
  return { ...stats };
}

export function resetMathjsStats(): void {
  stats.calls = stats.cacheHits = stats.milliseconds = stats.setupMilliseconds = 0;
}

const MEMO_LIMIT = 10_000;
const memo = new Map<string, Expr | null>();

function memoized(key: string, compute: () => Expr | undefined): Expr | undefined {
  const hit = memo.get(key);
  if (hit !== undefined) {
    stats.cacheHits++;
    return hit ?? undefined;
  }
  const start = performance.now();
  let result: Expr | undefined;
  try {
    result = compute();
  } catch {
    result = undefined;
  }
  stats.calls++;
  stats.milliseconds += performance.now() - start;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, result ?? null);
  return result;
}

function atomToMathjs(a: Atom): string {
  if (a.kind !== 'call') return a.key;
  const [x, y] = a.args.map(toMathjsString) as [string, string];
  switch (a.fn) {
    case 'FloorDiv':
      return `floor((${x}) / (${y}))`;
    case 'Mod':
      return `mod(${x}, ${y})`;
    case 'Min':
      return `min(${x}, ${y})`;
    case 'Max':
      return `max(${x}, ${y})`;
    case 'TrueDiv':
      return `((${x}) / (${y}))`;
    default:
      return a.fn satisfies never;
  }
}

/** mathjs source text for an expression. */
export function toMathjsString(e: Expr): string {
  const parts = e.terms.map((t) => {
    const factors = t.mono.factors.map((f) => (f.power === 1 ? atomToMathjs(f.atom) : `${atomToMathjs(f.atom)}^${f.power}`));
    return `(${t.coeff}) * ${factors.join(' * ')}`;
  });
  parts.push(`(${e.constant})`);
  return parts.join(' + ');
}

function argsOf(node: MathNode): MathNode[] {
  return (node as unknown as { args: MathNode[] }).args;
}

/** Converts a mathjs tree back to canonical form; undefined for anything outside the canonical vocabulary. */
export function fromMathNode(node: MathNode): Expr | undefined {
  switch (node.type) {
    case 'ConstantNode': {
      const v = (node as unknown as { value: unknown }).value;
      return typeof v === 'number' ? constant(v) : undefined;
    }
    case 'SymbolNode': {
      const name = (node as unknown as { name: string }).name;
      const nested = /^j(\d+)$/.exec(name);
      return atomExpr(nested ? nestedIntAtom(Number(nested[1])) : symbolAtom(name));
    }
    case 'ParenthesisNode':
      return fromMathNode((node as unknown as { content: MathNode }).content);
    case 'OperatorNode':
      return fromOperator((node as unknown as { fn: string }).fn, argsOf(node).map(fromMathNode));
    case 'FunctionNode': {
      const name = (node as unknown as { fn: { name: string } }).fn.name;
      const args = argsOf(node).map(fromMathNode);
      if (args.some((a) => a === undefined) || args.length !== 2) return undefined;
      const fn = ({ mod: 'Mod', min: 'Min', max: 'Max' } as const)[name as 'mod' | 'min' | 'max'];
      return fn ? atomExpr(callAtom(fn, args as Expr[])) : undefined;
    }
    default:
      return undefined;
  }
}

function fromOperator(fn: string, args: (Expr | undefined)[]): Expr | undefined {
  if (args.some((a) => a === undefined)) return undefined;
  const [a, b] = args as [Expr, Expr];
  switch (fn) {
    case 'unaryMinus':
      return neg(a);
    case 'unaryPlus':
      return a;
    case 'add':
      return add(a, b);
    case 'subtract':
      return sub(a, b);
    case 'multiply':
      return mul(a, b);
    case 'divide':
      return b.terms.length === 0 && b.constant !== 0 ? scale(a, 1 / b.constant) : undefined;
    case 'pow':
      return b.terms.length === 0 && Number.isInteger(b.constant) && b.constant > 0 ? pow(a, b.constant) : undefined;
    default:
      return undefined;
  }
}

/** mathjs `simplify` of `e`, memoized unless told otherwise; undefined when the result leaves the vocabulary. */
export function simplifyWithMathjs(e: Expr, options: { memo?: boolean } = {}): Expr | undefined {
  const compute = (): Expr | undefined => fromMathNode(math().simplify(toMathjsString(e)));
  if (options.memo === false) {
    const start = performance.now();
    try {
      return compute();
    } finally {
      stats.calls++;
      stats.milliseconds += performance.now() - start;
    }
  }
  return memoized(`simplify:${e.key}`, compute);
}

/** A candidate `q` with `q * b == a`, proposed by mathjs polynomial simplification; callers verify it. */
export function proposeQuotient(a: Expr, b: Expr): Expr | undefined {
  return memoized(`quotient:${a.key}/${b.key}`, () =>
    fromMathNode(math().simplify(`(${toMathjsString(a)}) / (${toMathjsString(b)})`)),
  );
}
