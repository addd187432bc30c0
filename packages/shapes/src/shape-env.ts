// The ShapeEnv owns the symbols of one trace: it creates them for input sizes (duck sizing, 0/1
// specialization) and for data-dependent values, keeps their ranges and replacements, records the guards
// and runtime asserts that symbolic code relies on, and answers comparisons statically when it can.
// Layers: SymbolTable (symbol-table.ts: what is known, normalization, static decisions) < FactRecorder
// (fact-recorder.ts: guards, asserts, learning from them) < ShapeEnv (creating symbols, symbolic results, JSON).
import { boolConst, compare as compareExprs, type CompareOp } from './expr/bool.js';
import { asAtom, asConstant, atomExpr, constant, nestedIntAtom, scale, symbolExpr } from './expr/poly.js';
import { foldModIdentity } from './expr/rewrite.js';
import { evaluate } from './expr/substitute.js';
import type { Atom, BoolExpr, Expr } from './expr/types.js';
import { CheckFailedError } from './errors.js';
import { FactRecorder } from './fact-recorder.js';
import { nonNegative, sizeRange, unbounded, type ValueRange } from './ranges.js';
import type { Size } from './size.js';
import { SymBool, SymFloat, SymInt } from './sym.js';
import type { DimDynamism, SourceBinding, SymbolInfo } from './symbol-table.js';
import { exprFromJson, exprToJson } from './expr/json.js';
import { factFromJson, factToJson, symbolFromJson, symbolToJson, type ShapeEnvJson } from './serialize.js';

export type { DimDynamism, SourceBinding, SymbolInfo } from './symbol-table.js';
export type { RecordedFact } from './fact-recorder.js';

export interface ShapeEnvOptions {
  /** Equal hints share one symbol (default true). */
  readonly duckShape?: boolean;
  /** Sizes 0 and 1 become constants and backed sizes get the range [2, inf) (default true). */
  readonly specializeZeroOne?: boolean;
}

export class ShapeEnv extends FactRecorder {
  readonly duckShape: boolean;
  readonly specializeZeroOne: boolean;

  private readonly symbolForHint = new Map<number, string>();
  private counters: ShapeEnvJson['counters'] = { backed: 0, unbacked: 0, nested: 0 };

  constructor(options: ShapeEnvOptions = {}) {
    super();
    this.duckShape = options.duckShape ?? true;
    this.specializeZeroOne = options.specializeZeroOne ?? true;
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

  // ---- export ----------------------------------------------------------------------------------------

  /** Everything the env knows, as JSON (see serialize.ts): symbols, ranges, replacements, guards, asserts. */
  toJson(): ShapeEnvJson {
    return {
      version: 1,
      options: { duckShape: this.duckShape, specializeZeroOne: this.specializeZeroOne },
      symbols: [...this.symbolTable.values()].map(symbolToJson),
      bindings: this.bindings.map((b) => ({ ...b, location: b.location ?? null })),
      replacements: [...this.replacementMap].map(([k, v]) => ({
        symbol: k,
        value: exprToJson(v),
        origin: this.replacementOrigins.get(k) ?? 'guard',
        location: this.replacementLocations.get(k) ?? null,
      })),
      guards: this.recordedGuards.map(factToJson),
      asserts: this.recordedAsserts.map(factToJson),
      counters: { ...this.counters },
    };
  }

  static fromJson(json: ShapeEnvJson): ShapeEnv {
    if (json.version !== 1) throw new Error(`unsupported ShapeEnv JSON version ${String(json.version)}`);
    const env = new ShapeEnv(json.options);
    for (const s of json.symbols) env.symbolTable.set(s.name, symbolFromJson(s));
    for (const b of json.bindings) env.bindings.push({ ...b, location: b.location ?? undefined });
    for (const r of json.replacements) {
      env.replacementMap.set(r.symbol, exprFromJson(r.value));
      env.replacementLocations.set(r.symbol, r.location ?? undefined);
      env.replacementOrigins.set(r.symbol, r.origin);
    }
    for (const [list, facts] of [[env.recordedGuards, json.guards], [env.recordedAsserts, json.asserts]] as const)
      for (const f of facts) {
        const fact = factFromJson(f);
        list.push(fact);
        env.remember(fact.expr);
      }
    for (const s of json.symbols) if (s.kind === 'backed' && s.hint !== null && !env.symbolForHint.has(s.hint)) env.symbolForHint.set(s.hint, s.name);
    env.counters = { ...json.counters };
    return env;
  }

  // ---- queries ---------------------------------------------------------------------------------------

  /**
   * The example value of a size. Unbacked symbols have none: the answer is undefined unless `fallback` is
   * given, which then stands in for each unbacked symbol (clamped to its range), as kernel autotuning and
   * memory planning want a plausible size rather than none.
   */
  hintOf(size: Size, fallback?: number): number | undefined {
    if (typeof size === 'number') return size;
    if (!(size instanceof SymInt)) return undefined;
    if (size.hint !== undefined) return size.hint;
    return evaluate(this.normalize(size.expr), (name) => {
      const info = this.symbolTable.get(name);
      if (info?.hint !== undefined || fallback === undefined) return info?.hint;
      return Math.min(Math.max(fallback, info?.range.lo ?? -Infinity), info?.range.hi ?? Infinity);
    });
  }

  /**
   * Narrows the range of a size, like export's `Dim(min, max)`. On a backed symbol the range becomes range
   * guards; otherwise it is recorded as runtime asserts. Raises CheckFailedError if the hint is outside.
   */
  constrainRange(size: Size, bounds: { min?: number; max?: number }): void {
    const lo = bounds.min ?? -Infinity;
    const hi = bounds.max ?? Infinity;
    if (typeof size === 'number') {
      if (size < lo || size > hi) throw new CheckFailedError(`${lo} <= ${size} <= ${hi}`, this.currentLocation, 'for a constant size');
      return;
    }
    const e = this.normalize((size as SymInt).expr);
    const atom = asAtom(e);
    const info = atom?.kind === 'symbol' ? this.symbolTable.get(atom.name) : undefined;
    if (info?.kind === 'backed') {
      if (info.hint! < lo || info.hint! > hi)
        throw new CheckFailedError(`${lo} <= ${e.key} <= ${hi}`, this.currentLocation, `for the example value ${info.hint}`);
      this.applyNarrowing({ kind: 'range', symbol: info.name, range: { lo, hi } }, 'guard');
      return;
    }
    if (lo > -Infinity) this.check((size as SymInt).ge(lo));
    if (hi < Infinity) this.check((size as SymInt).le(hi));
  }

  /** The value range of a size, after replacements. */
  rangeOfSize(size: Size): ValueRange {
    if (typeof size === 'number') return { lo: size, hi: size };
    return this.exprRange(this.normalize((size as SymInt).expr));
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
    const result = this.cached(`${op}|${a.key}|${b.key}`, () => {
      const n = this.normalizeBool(compareExprs(op, a, b));
      return this.decide(n) ?? n;
    });
    return typeof result === 'boolean' ? result : new SymBool(result, this, hint === undefined ? undefined : hint === 1);
  }
}
