// The ShapeEnv owns the symbols of one trace: it creates them for input sizes (duck sizing, 0/1
// specialization) and for data-dependent values, keeps their ranges and replacements, records the guards
// and runtime asserts that symbolic code relies on, and answers comparisons statically when it can.
import { and, boolConst, compare as compareExprs, not, or, relFromDiff, type CompareOp } from './expr/bool.js';
import { cancelExactFloorDiv, foldModIdentity, simplifyRelation } from './expr/rewrite.js';
import type { SimplifyContext } from './expr/functions.js';
import { asAtom, asConstant, atomExpr, callAtom, constant, freeSymbols, nestedIntAtom, scale, symbolExpr } from './expr/poly.js';
import { boolFreeSymbols, evaluate, evaluateBool, substitute, substituteBool } from './expr/substitute.js';
import type { Atom, BoolExpr, Expr, RelExpr } from './expr/types.js';
import { CheckFailedError, DataDependentError } from './errors.js';
import { proposeQuotient, simplifyWithMathjs } from './mathjs-facade.js';
import { narrowingsOf, type Narrowing, type SymbolFacts } from './narrow.js';
import { callRange, intersect, isEmpty, nonNegative, rangeOf, sizeRange, unbounded, type ValueRange } from './ranges.js';
import type { Size, SymBoolLike } from './size.js';
import { SymBool, SymFloat, SymInt } from './sym.js';

export interface ShapeEnvOptions {
  /** Equal hints share one symbol (default true). */
  readonly duckShape?: boolean;
  /** Sizes 0 and 1 become constants and backed sizes get the range [2, inf) (default true). */
  readonly specializeZeroOne?: boolean;
}

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

export interface RecordedFact {
  readonly expr: BoolExpr;
  readonly location: string | undefined;
  /** For guards: fully represented by a range or replacement, so produceGuards emits that instead. */
  readonly absorbed: boolean;
  readonly message?: string | undefined;
}

export class ShapeEnv {
  readonly duckShape: boolean;
  readonly specializeZeroOne: boolean;
  readonly simplifyContext: SimplifyContext;

  private readonly symbolTable = new Map<string, SymbolInfo>();
  private readonly bindings: SourceBinding[] = [];
  private readonly symbolForHint = new Map<number, string>();
  private readonly replacementMap = new Map<string, Expr>();
  private readonly replacementLocations = new Map<string, string | undefined>();
  private readonly recordedGuards: RecordedFact[] = [];
  private readonly recordedAsserts: RecordedFact[] = [];
  private readonly knownTrue = new Set<string>();
  private readonly exactDivisions = new Set<string>();
  private readonly normalizeCache = new Map<string, Expr>();
  private readonly rangeCache = new Map<string, ValueRange>();
  private counters = { backed: 0, unbacked: 0, nested: 0 };
  private currentLocation: string | undefined;

  constructor(options: ShapeEnvOptions = {}) {
    this.duckShape = options.duckShape ?? true;
    this.specializeZeroOne = options.specializeZeroOne ?? true;
    this.simplifyContext = { range: (e) => this.exprRange(e), exactQuotient: proposeQuotient };
  }

  // ---- user source location -------------------------------------------------------------------------

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

  // ---- creating symbols ------------------------------------------------------------------------------

  /** A size for the input dimension at `source` whose example value is `hint`. */
  createSymbol(hint: number, source: string, dynamic: DimDynamism = 'duck'): Size {
    if (!Number.isInteger(hint) || hint < 0) throw new RangeError(`size hint for ${source} must be a non-negative integer, got ${hint}`);
    const bind = (value: number | string, reason: SourceBinding['reason']): void => {
      this.bindings.push({ source, value, reason, location: this.currentLocation });
    };
    if (dynamic === 'static') return bind(hint, 'static'), hint;
    if (dynamic === 'unbacked') {
      const u = this.createUnbacked({ origin: `markUnbacked(${source})`, sizeLike: true });
      const name = (asAtom(u.expr) as Atom & { name: string }).name;
      this.symbolTable.get(name)!.sources.push(source);
      bind(name, 'unbacked');
      return u;
    }
    if (this.specializeZeroOne && (hint === 0 || hint === 1)) return bind(hint, 'zero-one'), hint;
    let name = dynamic === 'duck' && this.duckShape ? this.symbolForHint.get(hint) : undefined;
    if (name === undefined) {
      name = `s${this.counters.backed++}`;
      this.addSymbol({ name, kind: 'backed', hint, range: this.specializeZeroOne ? sizeRange : nonNegative, sizeLike: true });
      if (!this.symbolForHint.has(hint)) this.symbolForHint.set(hint, name);
    }
    this.symbolTable.get(name)!.sources.push(source);
    bind(name, dynamic);
    return this.intResult(symbolExpr(name), hint);
  }

  /** Sizes for every dimension of a tensor at `tensorSource` (sources `L.x.shape[0]`, …). */
  createSizes(shape: readonly number[], tensorSource: string, dynamic: DimDynamism | readonly DimDynamism[] = 'duck'): Size[] {
    return shape.map((hint, i) =>
      this.createSymbol(hint, `${tensorSource}.shape[${i}]`, typeof dynamic === 'string' ? dynamic : (dynamic[i] ?? 'duck')),
    );
  }

  /** A data-dependent integer (`u0`, …) with no hint, e.g. the length of `nonzero()` or `item()`. */
  createUnbacked(options: { origin?: string; sizeLike?: boolean } = {}): SymInt {
    const name = `u${this.counters.unbacked++}`;
    const sizeLike = options.sizeLike ?? false;
    this.addSymbol({ name, kind: 'unbacked', hint: undefined, range: sizeLike ? nonNegative : unbounded, sizeLike, origin: options.origin });
    return new SymInt(symbolExpr(name), this, undefined);
  }

  /** A ragged dimension `j0` (optionally `coeff*j0`): equal to itself only. */
  createNestedInt(coeff = 1): SymInt {
    return new SymInt(scale(atomExpr(nestedIntAtom(this.counters.nested++)), coeff), this, undefined);
  }

  private addSymbol(info: Omit<SymbolInfo, 'sources' | 'location' | 'rangeLocation' | 'origin'> & { origin?: string | undefined }): void {
    this.symbolTable.set(info.name, {
      ...info,
      origin: info.origin,
      sources: [],
      location: this.currentLocation,
      rangeLocation: undefined,
    });
  }

  // ---- queries ---------------------------------------------------------------------------------------

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

  /** Where the guard or assert that replaced `symbol` was recorded. */
  replacementLocation(symbol: string): string | undefined {
    return this.replacementLocations.get(symbol);
  }

  guards(): readonly RecordedFact[] {
    return this.recordedGuards;
  }

  runtimeAsserts(): readonly RecordedFact[] {
    return this.recordedAsserts;
  }

  /** The example value of a size (undefined for unbacked sizes). */
  hintOf(size: Size): number | undefined {
    if (typeof size === 'number') return size;
    return size instanceof SymInt ? (size.hint ?? evaluate(this.normalize(size.expr), (s) => this.symbolTable.get(s)?.hint)) : undefined;
  }

  /** The value range of a size, after replacements. */
  rangeOfSize(size: Size): ValueRange {
    if (typeof size === 'number') return { lo: size, hi: size };
    return this.exprRange(this.normalize((size as SymInt).expr));
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

  // ---- results of symbolic operations (used by SymInt / SymBool) ----------------------------------

  intResult(e: Expr, hint: number | undefined): number | SymInt {
    const n = foldModIdentity(this.normalize(e), this.simplifyContext);
    const c = asConstant(n);
    return c !== undefined ? c : new SymInt(n, this, hint);
  }

  floatResult(e: Expr, hint: number | undefined): number | SymFloat {
    const n = this.normalize(e);
    const c = asConstant(n);
    return c !== undefined ? c : new SymFloat(n, this, hint);
  }

  boolResult(e: BoolExpr, hint: boolean | undefined): boolean | SymBool {
    const n = this.normalizeBool(e);
    const d = this.decide(n);
    return d !== undefined ? d : new SymBool(n, this, hint);
  }

  boolConstant(value: boolean): BoolExpr {
    return boolConst(value);
  }

  compare(op: CompareOp, a: Expr, b: Expr, hint: number | undefined): boolean | SymBool {
    return this.boolResult(compareExprs(op, a, b), hint === undefined ? undefined : hint === 1);
  }

  // ---- static reasoning ------------------------------------------------------------------------------

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
    if (this.knownTrue.has(e.key)) return true;
    if (this.knownTrue.has(not(e).key)) return false;
    const byRange = decideByRange(e, this.exprRange(e.diff, sizeOblivious));
    if (byRange !== undefined || callCount(e.diff) < 2) return byRange;
    // Hard case: two call atoms might cancel in ways the canonical form does not see (memoized).
    const simplified = simplifyWithMathjs(e.diff);
    const c = simplified && asConstant(simplified);
    return c === undefined || c === null ? undefined : decideByRange(e, { lo: c, hi: c });
  }

  staticallyKnownTrue(cond: boolean | SymBoolLike, options: { sizeOblivious?: boolean } = {}): boolean {
    if (typeof cond === 'boolean') return cond;
    const e = this.normalizeBool(asSymBool(cond).expr);
    return this.decide(e) ?? (options.sizeOblivious ? this.decide(e, true) === true : false);
  }

  /** Guards like `guardBool`, but answers `false` instead of raising when the answer is data-dependent. */
  guardOrFalse(cond: boolean | SymBoolLike): boolean {
    return this.guardOr(cond, false);
  }

  /** Guards like `guardBool`, but answers `true` instead of raising when the answer is data-dependent. */
  guardOrTrue(cond: boolean | SymBoolLike): boolean {
    return this.guardOr(cond, true);
  }

  /** Decides with size-like unbacked symbols treated as >= 2; guards normally otherwise. */
  guardSizeOblivious(cond: boolean | SymBoolLike): boolean {
    if (typeof cond === 'boolean') return cond;
    const b = asSymBool(cond);
    const e = this.normalizeBool(b.expr);
    return this.decide(e, true) ?? this.guardExpr(e, b.hint);
  }

  private guardOr(cond: boolean | SymBoolLike, fallback: boolean): boolean {
    if (typeof cond === 'boolean') return cond;
    const b = asSymBool(cond);
    const e = this.normalizeBool(b.expr);
    const d = this.decide(e) ?? this.decide(e, true);
    if (d !== undefined) return d;
    if (this.hintOfBool(e, b.hint) === undefined) return fallback;
    return this.guardExpr(e, b.hint);
  }

  private hintOfBool(e: BoolExpr, hint: boolean | undefined): boolean | undefined {
    return hint ?? evaluateBool(e, (s) => this.symbolTable.get(s)?.hint);
  }

  // ---- guards and asserts ----------------------------------------------------------------------------

  /** The hint's answer for `e`, recording a guard; raises DataDependentError when there is no hint. */
  guardExpr(expr: BoolExpr, hint: boolean | undefined): boolean {
    const e = this.normalizeBool(expr);
    const d = this.decide(e);
    if (d !== undefined) return d;
    const value = this.hintOfBool(e, hint);
    if (value === undefined) throw this.dataDependentError(e.key, boolFreeSymbols(e));
    this.recordFact(value ? e : not(e), 'guard');
    return value;
  }

  /** The hint of `e`, guarding `e == hint` (specialization, like `int(s0)`). */
  specialize(expr: Expr, hint: number | undefined): number {
    const e = this.normalize(expr);
    const c = asConstant(e);
    if (c !== undefined) return c;
    const value = hint ?? evaluate(e, (s) => this.symbolTable.get(s)?.hint);
    if (value === undefined) throw this.dataDependentError(e.key, freeSymbols(e));
    this.guardExpr(compareExprs('==', e, constant(value)), true);
    return value;
  }

  /** Records `cond` as a runtime assert (not a guard): the compiled code checks it and raises if false. */
  check(cond: boolean | SymBoolLike, message?: string): void {
    if (typeof cond === 'boolean') {
      if (!cond) throw new CheckFailedError(message ?? 'false', this.currentLocation, 'for a constant condition');
      return;
    }
    const e = this.normalizeBool(asSymBool(cond).expr);
    const d = this.decide(e);
    if (d === true) return;
    if (d === false) throw new CheckFailedError(e.key, this.currentLocation, 'provably (it contradicts known ranges)');
    if (this.hintOfBool(e, asSymBool(cond).hint) === false)
      throw new CheckFailedError(e.key, this.currentLocation, 'for the example inputs');
    this.recordFact(e, 'assert', message);
  }

  /** Marks a size-like value: range intersected with [0, inf), size-oblivious reasoning may assume >= 2. */
  checkIsSize(size: Size): void {
    if (typeof size === 'number') {
      if (size < 0) throw new CheckFailedError(`${size} >= 0`, this.currentLocation, 'for a constant size');
      return;
    }
    const e = this.normalize((size as SymInt).expr);
    const atom = asAtom(e);
    if (atom?.kind === 'symbol') this.symbolTable.get(atom.name)!.sizeLike = true;
    const cond = this.compare('>=', e, constant(0), undefined);
    if (typeof cond !== 'boolean') this.check(cond);
    else if (!cond) throw new CheckFailedError(`${e.key} >= 0`, this.currentLocation, 'provably');
  }

  private recordFact(fact: BoolExpr, kind: 'guard' | 'assert', message?: string): void {
    const narrowings = narrowingsOf(fact, this.factsView());
    for (const n of narrowings) this.applyNarrowing(n, kind);
    const facts = fact.kind === 'and' ? [fact, ...fact.args] : [fact];
    for (const f of facts) {
      this.knownTrue.add(f.key);
      this.noteExactDivision(f);
    }
    const record = { expr: fact, location: this.currentLocation, absorbed: fact.kind === 'rel' && narrowings.length > 0, message };
    (kind === 'guard' ? this.recordedGuards : this.recordedAsserts).push(record);
  }

  /** `Mod(a, c) == 0` makes `c*FloorDiv(a, c)` equal to `a` from now on. */
  private noteExactDivision(fact: BoolExpr): void {
    if (fact.kind !== 'rel' || fact.op !== '==' || fact.diff.constant !== 0 || fact.diff.terms.length !== 1) return;
    const atom = asAtom(scale(fact.diff, Math.sign(fact.diff.terms[0]!.coeff)));
    if (atom?.kind !== 'call' || atom.fn !== 'Mod') return;
    this.exactDivisions.add(callAtom('FloorDiv', atom.args).key);
    this.normalizeCache.clear();
    this.rangeCache.clear();
  }

  private applyNarrowing(n: Narrowing, kind: 'guard' | 'assert'): void {
    const info = this.symbolTable.get(n.symbol);
    if (!info) return;
    if (n.kind === 'range') {
      const r = intersect(info.range, n.range);
      if (isEmpty(r)) throw new CheckFailedError(`${n.symbol} in [${n.range.lo}, ${n.range.hi}]`, this.currentLocation, `contradicts the ${kind}s so far`);
      info.range = r;
      info.rangeLocation = this.currentLocation;
    } else {
      this.replace(n.symbol, n.value);
    }
    this.rangeCache.clear();
  }

  private replace(symbol: string, value: Expr): void {
    const v = this.normalize(value);
    if (freeSymbols(v).has(symbol)) return;
    this.replacementMap.set(symbol, v);
    this.replacementLocations.set(symbol, this.currentLocation);
    this.normalizeCache.clear();
    for (const [k, old] of this.replacementMap) if (k !== symbol) this.replacementMap.set(k, this.normalizeUncached(old));
    this.normalizeCache.clear();
    const from = this.symbolTable.get(symbol)!;
    const target = asAtom(v);
    if (target?.kind === 'symbol') {
      const to = this.symbolTable.get(target.name);
      if (to) to.sizeLike ||= from.sizeLike;
    }
    // The eliminated symbol's range constrains what replaced it (s1 -> s0 - 3 with s1 >= 2 gives s0 >= 5).
    const bounds = [];
    if (from.range.lo > -Infinity) bounds.push(compareExprs('>=', v, constant(from.range.lo)));
    if (from.range.hi < Infinity) bounds.push(compareExprs('<=', v, constant(from.range.hi)));
    for (const b of bounds)
      for (const n of narrowingsOf(b, this.factsView())) if (n.kind === 'range') this.applyNarrowing(n, 'guard');
  }

  private factsView(): SymbolFacts {
    return {
      isUnbacked: (s) => this.symbolTable.get(s)?.kind === 'unbacked',
      rangeOf: (s) => this.symbolTable.get(s)?.range ?? unbounded,
    };
  }

  private normalizeUncached(e: Expr): Expr {
    const replaced =
      this.replacementMap.size === 0
        ? e
        : substitute(e, (a) => (a.kind === 'symbol' ? this.replacementMap.get(a.name) : undefined), this.simplifyContext);
    return cancelExactFloorDiv(replaced, this.exactDivisions);
  }

  dataDependentError(expr: string, symbols: Iterable<string>): DataDependentError {
    const unbacked = [...symbols]
      .map((s) => this.symbolTable.get(s))
      .filter((i): i is SymbolInfo => i !== undefined && i.hint === undefined)
      .map((i) => ({ symbol: i.name, origin: i.origin, location: i.location }));
    return new DataDependentError(expr, unbacked, this.currentLocation);
  }
}

function asSymBool(cond: SymBoolLike): SymBool {
  if (cond instanceof SymBool) return cond;
  throw new TypeError(`expected a SymBool from @kiln/shapes, got ${String(cond)}`);
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
