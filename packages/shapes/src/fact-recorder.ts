// Guards and runtime asserts: a FactRecorder records each fact that symbolic code relies on (a guard when
// the answer came from an example value, an assert when the compiled code must check it), learns what the
// fact teaches (ranges, replacements, exact divisions) and answers the guard-or-fallback queries.
// ShapeEnv (shape-env.ts) adds creating symbols, symbolic results and JSON on top.
import { compare as compareExprs, not } from './expr/bool.js';
import { asAtom, asConstant, callAtom, constant, freeSymbols, scale } from './expr/poly.js';
import { boolFreeSymbols, evaluate } from './expr/substitute.js';
import type { BoolExpr, Expr } from './expr/types.js';
import { CheckFailedError, DataDependentError } from './errors.js';
import { narrowingsOf, type Narrowing, type SymbolFacts } from './narrow.js';
import { intersect, isEmpty, unbounded } from './ranges.js';
import type { SymBoolLike } from './size.js';
import { SymBool } from './sym.js';
import { SymbolTable, type SymbolInfo } from './symbol-table.js';

export interface RecordedFact {
  readonly expr: BoolExpr;
  readonly location: string | undefined;
  /** For guards: fully represented by a range or replacement, so produceGuards emits that instead. */
  readonly absorbed: boolean;
  readonly message?: string | undefined;
}

export class FactRecorder extends SymbolTable {
  protected readonly recordedGuards: RecordedFact[] = [];
  protected readonly recordedAsserts: RecordedFact[] = [];

  guards(): readonly RecordedFact[] {
    return this.recordedGuards;
  }

  runtimeAsserts(): readonly RecordedFact[] {
    return this.recordedAsserts;
  }

  // ---- learning from facts --------------------------------------------------------------------------

  /** Applies what a fact teaches (ranges, replacements, exact divisions); true when fully absorbed by them. */
  protected learn(fact: BoolExpr, kind: 'guard' | 'assert'): boolean {
    const narrowings = narrowingsOf(fact, this.factsView());
    for (const n of narrowings) this.applyNarrowing(n, kind);
    this.remember(fact);
    return fact.kind === 'rel' && narrowings.length > 0;
  }

  /** Marks a fact (and each conjunct) as known true, without narrowing anything. */
  protected remember(fact: BoolExpr): void {
    for (const f of fact.kind === 'and' ? [fact, ...fact.args] : [fact]) {
      this.knownTrue.add(f.key);
      this.noteExactDivision(f);
    }
    this.resultCache.clear();
  }

  /** `Mod(a, c) == 0` makes `c*FloorDiv(a, c)` equal to `a` from now on. */
  protected noteExactDivision(fact: BoolExpr): void {
    if (fact.kind !== 'rel' || fact.op !== '==' || fact.diff.constant !== 0 || fact.diff.terms.length !== 1) return;
    const atom = asAtom(scale(fact.diff, Math.sign(fact.diff.terms[0]!.coeff)));
    if (atom?.kind !== 'call' || atom.fn !== 'Mod') return;
    this.exactDivisions.add(callAtom('FloorDiv', atom.args).key);
    this.normalizeCache.clear();
    this.rangeCache.clear();
    this.resultCache.clear();
  }

  protected applyNarrowing(n: Narrowing, kind: 'guard' | 'assert'): void {
    const info = this.symbolTable.get(n.symbol);
    if (!info) return;
    if (n.kind === 'range') {
      const r = intersect(info.range, n.range);
      if (isEmpty(r)) throw new CheckFailedError(`${n.symbol} in [${n.range.lo}, ${n.range.hi}]`, this.currentLocation, `contradicts the ${kind}s so far`);
      if (r.lo === info.range.lo && r.hi === info.range.hi) return;
      info.range = r;
      info.rangeLocation = this.currentLocation;
    } else {
      this.replace(n.symbol, n.value, kind);
    }
    this.rangeCache.clear();
    this.resultCache.clear();
  }

  protected replace(symbol: string, value: Expr, kind: 'guard' | 'assert'): void {
    const v = this.normalize(value);
    if (freeSymbols(v).has(symbol)) return;
    this.replacementMap.set(symbol, v);
    this.replacementLocations.set(symbol, this.currentLocation);
    this.replacementOrigins.set(symbol, kind);
    this.normalizeCache.clear();
    for (const [k, old] of this.replacementMap) if (k !== symbol) this.replacementMap.set(k, this.normalizeUncached(old));
    this.normalizeCache.clear();
    this.resultCache.clear();
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

  protected factsView(): SymbolFacts {
    return {
      isUnbacked: (s) => this.symbolTable.get(s)?.kind === 'unbacked',
      rangeOf: (s) => this.symbolTable.get(s)?.range ?? unbounded,
    };
  }

  // ---- static reasoning ------------------------------------------------------------------------------

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

  private recordFact(fact: BoolExpr, kind: 'guard' | 'assert', message?: string): void {
    const absorbed = this.learn(fact, kind);
    const record = { expr: fact, location: this.currentLocation, absorbed, message };
    (kind === 'guard' ? this.recordedGuards : this.recordedAsserts).push(record);
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
