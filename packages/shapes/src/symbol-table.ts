// What a ShapeEnv knows about its symbols: each symbol's hint, sources and range, the replacements and
// exact divisions learned from guards and asserts, and the facts known true. It normalizes expressions under
// that knowledge and decides relations statically. FactRecorder (fact-recorder.ts) adds recording guards and
// asserts and learning from them; ShapeEnv (shape-env.ts) adds creating symbols.
import { and, not, or, relFromDiff } from './expr/bool.js';
import type { SimplifyContext } from './expr/functions.js';
import { asConstant } from './expr/poly.js';
import { cancelExactFloorDiv, simplifyRelation } from './expr/rewrite.js';
import { evaluateBool, substitute, substituteBool } from './expr/substitute.js';
import type { Atom, BoolExpr, Expr, RelExpr } from './expr/types.js';
import { proposeQuotient, simplifyWithMathjs } from './mathjs-facade.js';
import { callRange, intersect, rangeOf, sizeRange, unbounded, type ValueRange } from './ranges.js';

/** How one input size becomes a SymInt: `duck` (default), `dynamic` (own symbol), `static`, `unbacked`. */
export type DimDynamism = 'duck' | 'dynamic' | 'static' | 'unbacked';

export interface SymbolInfo {
  readonly name: string;
  readonly kind: 'backed' | 'unbacked';
  readonly hint: number | undefined;
  readonly sources: string[];
  range: ValueRange;
  sizeLike: boolean;
  /** What created an unbacked symbol (`nonzero`, `item`, …). */
  readonly origin: string | undefined;
  readonly location: string | undefined;
  /** Where the range was last narrowed. */
  rangeLocation: string | undefined;
}

/** One input size the env was asked about, and what it became. */
export interface SourceBinding {
  readonly source: string;
  readonly value: number | string;
  readonly reason: DimDynamism | 'zero-one';
  readonly location: string | undefined;
}

export class SymbolTable {
  readonly simplifyContext: SimplifyContext;

  protected readonly symbolTable = new Map<string, SymbolInfo>();
  protected readonly bindings: SourceBinding[] = [];
  protected readonly replacementMap = new Map<string, Expr>();
  protected readonly replacementLocations = new Map<string, string | undefined>();
  /** Whether each replacement came from a guard or from a runtime assert (see produceRuntimeAsserts). */
  protected readonly replacementOrigins = new Map<string, 'guard' | 'assert'>();
  protected readonly knownTrue = new Set<string>();
  protected readonly exactDivisions = new Set<string>();
  protected readonly normalizeCache = new Map<string, Expr>();
  protected readonly rangeCache = new Map<string, ValueRange>();
  /** Results of arithmetic and comparisons by operand keys; traces repeat the same size computations a lot. */
  protected readonly resultCache = new Map<string, Expr | BoolExpr | boolean>();
  protected currentLocation: string | undefined;

  constructor() {
    this.simplifyContext = { range: (e) => this.exprRange(e), exactQuotient: proposeQuotient };
  }

  /**
   * `compute()` memoized under `key` until the env learns something (a range, replacement or fact), since
   * simplification and decisions depend on what is known.
   */
  cached<T extends Expr | BoolExpr | boolean>(key: string, compute: () => T): T {
    let out = this.resultCache.get(key) as T | undefined;
    if (out === undefined) {
      out = compute();
      if (this.resultCache.size > 50_000) this.resultCache.clear();
      this.resultCache.set(key, out);
    }
    return out;
  }

  /** The user source location (`model.ts:12`) that guards, asserts and new symbols record. */
  get location(): string | undefined {
    return this.currentLocation;
  }

  setLocation(location: string | undefined): void {
    this.currentLocation = location;
  }

  withLocation<T>(location: string | undefined, fn: () => T): T {
    const saved = this.currentLocation;
    this.currentLocation = location;
    try {
      return fn();
    } finally {
      this.currentLocation = saved;
    }
  }

  symbols(): readonly SymbolInfo[] {
    return [...this.symbolTable.values()];
  }

  symbolInfo(name: string): SymbolInfo | undefined {
    return this.symbolTable.get(name);
  }

  sourceBindings(): readonly SourceBinding[] {
    return this.bindings;
  }

  replacements(): ReadonlyMap<string, Expr> {
    return this.replacementMap;
  }

  /** Whether the replacement of `symbol` was learned from a guard or from a runtime assert. */
  replacementOrigin(symbol: string): 'guard' | 'assert' | undefined {
    return this.replacementOrigins.get(symbol);
  }

  /** Where the guard or assert that replaced `symbol` was recorded. */
  replacementLocation(symbol: string): string | undefined {
    return this.replacementLocations.get(symbol);
  }

  /** `e` with every replacement applied. */
  normalize(e: Expr): Expr {
    if ((this.replacementMap.size === 0 && this.exactDivisions.size === 0) || e.terms.length === 0) return e;
    let out = this.normalizeCache.get(e.key);
    if (out === undefined) {
      out = this.normalizeUncached(e);
      this.normalizeCache.set(e.key, out);
    }
    return out;
  }

  /** `e` with every replacement applied and its relations reduced (common factors, gcd, Mod identity). */
  normalizeBool(e: BoolExpr): BoolExpr {
    const replaced =
      this.replacementMap.size === 0
        ? e
        : substituteBool(e, (a) => (a.kind === 'symbol' ? this.replacementMap.get(a.name) : undefined), this.simplifyContext);
    return this.reduceBool(replaced);
  }

  private reduceBool(e: BoolExpr): BoolExpr {
    switch (e.kind) {
      case 'rel': {
        const diff = cancelExactFloorDiv(e.diff, this.exactDivisions);
        return simplifyRelation(diff === e.diff ? e : relFromDiff(e.op, diff), this.simplifyContext);
      }
      case 'and':
        return and(...e.args.map((a) => this.reduceBool(a)));
      case 'or':
        return or(...e.args.map((a) => this.reduceBool(a)));
      default:
        return e;
    }
  }

  /** Sound range of `e`; size-oblivious ranges treat size-like unbacked symbols as >= 2. */
  exprRange(e: Expr, sizeOblivious = false): ValueRange {
    const c = asConstant(e);
    if (c !== undefined) return { lo: c, hi: c };
    if (!sizeOblivious) {
      const hit = this.rangeCache.get(e.key);
      if (hit) return hit;
    }
    const atomRange = (a: Atom): ValueRange => {
      if (a.kind === 'nested') return sizeRange;
      if (a.kind === 'call') return callRange(a, (x) => this.exprRange(x, sizeOblivious))!;
      const info = this.symbolTable.get(a.name);
      if (!info) return unbounded;
      return sizeOblivious && info.sizeLike && info.kind === 'unbacked' ? intersect(info.range, sizeRange) : info.range;
    };
    const r = rangeOf(e, atomRange);
    if (!sizeOblivious) this.rangeCache.set(e.key, r);
    return r;
  }

  /** The statically known value of `e` (ranges, replacements, recorded facts), or undefined. */
  decide(e: BoolExpr, sizeOblivious = false): boolean | undefined {
    switch (e.kind) {
      case 'bool':
        return e.value;
      case 'rel':
        return this.decideRel(e, sizeOblivious);
      case 'not': {
        const d = this.decide(e.arg, sizeOblivious);
        return d === undefined ? undefined : !d;
      }
      case 'and':
      case 'or': {
        const ds = e.args.map((a) => this.decide(a, sizeOblivious));
        const absorbing = e.kind === 'or';
        if (ds.includes(absorbing)) return absorbing;
        return ds.every((d) => d === !absorbing) ? !absorbing : undefined;
      }
      default:
        return e satisfies never;
    }
  }

  private decideRel(e: RelExpr, sizeOblivious: boolean): boolean | undefined {
    if (this.knownTrue.size > 0) {
      if (this.knownTrue.has(e.key)) return true;
      if (this.knownTrue.has(not(e).key)) return false;
    }
    const byRange = decideByRange(e, this.exprRange(e.diff, sizeOblivious));
    if (byRange !== undefined || callCount(e.diff) < 2) return byRange;
    // Hard case: two call atoms might cancel in ways the canonical form does not see (memoized).
    const simplified = simplifyWithMathjs(e.diff);
    const c = simplified && asConstant(simplified);
    return c === undefined || c === null ? undefined : decideByRange(e, { lo: c, hi: c });
  }

  protected hintOfBool(e: BoolExpr, hint: boolean | undefined): boolean | undefined {
    return hint ?? evaluateBool(e, (s) => this.symbolTable.get(s)?.hint);
  }


  protected normalizeUncached(e: Expr): Expr {
    const replaced =
      this.replacementMap.size === 0
        ? e
        : substitute(e, (a) => (a.kind === 'symbol' ? this.replacementMap.get(a.name) : undefined), this.simplifyContext);
    return cancelExactFloorDiv(replaced, this.exactDivisions);
  }
}

function callCount(e: Expr): number {
  let n = 0;
  for (const t of e.terms) for (const f of t.mono.factors) if (f.atom.kind === 'call') n++;
  return n;
}

function decideByRange(e: RelExpr, r: ValueRange): boolean | undefined {
  switch (e.op) {
    case '==':
      return r.lo > 0 || r.hi < 0 ? false : r.lo === 0 && r.hi === 0 ? true : undefined;
    case '!=':
      return r.lo > 0 || r.hi < 0 ? true : r.lo === 0 && r.hi === 0 ? false : undefined;
    case '<':
      return r.hi < 0 ? true : r.lo >= 0 ? false : undefined;
    case '<=':
      return r.hi <= 0 ? true : r.lo > 0 ? false : undefined;
    default:
      return e.op satisfies never;
  }
}
